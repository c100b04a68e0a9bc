"""WeChatFerry's messages read into events: every kind WeChat has, the system lines the
export importer reads the same way, a recall told twice stored once.

The app-message XML (``<appmsg><type>``, ``<refermsg><svrid>``), the ``<atuserlist>`` of
the message source and the revoke ``<sysmsg>`` are written in the shape WeChat's PC client
stores them (as the wcferry package's ``WxMsg.is_at`` and the exports read them), with our
own content."""

from __future__ import annotations

from typing import Any

import pytest
from connector_fakes import wcferry as wf

from qunzhu import events as ev
from qunzhu.adapters.importers.wechat_system import system_line
from qunzhu.adapters.wechat.parse import parse

ROOM = "4455@chatroom"
NAMES = {"阿明": "wxid_ming", "小红": "wxid_hong", "老周": "wxid_zhou"}


def _resolve(room: str, name: str) -> str:
    return NAMES.get(name, f"name:{name}")


def _one(msg: Any) -> ev.Event:
    [event] = parse(msg, "acme", wf.ME, _resolve).events
    return event


def _app(sub: int, title: str, extra: str = "") -> str:
    return (
        f'<?xml version="1.0"?><msg><appmsg appid="" sdkver="0"><title>{title}</title>'
        f"<des></des><type>{sub}</type>{extra}</appmsg></msg>"
    )


@pytest.mark.parametrize(
    ("type_", "content", "kind", "text"),
    [
        (1, "今晚读第三章", "text", "今晚读第三章"),
        (3, '<msg><img length="1024" /></msg>', "image", ""),
        (34, '<msg><voicemsg voicelength="3000" /></msg>', "voice", ""),
        (42, '<msg username="wxid_card" nickname="名片" />', "contact_card", ""),
        (43, '<msg><videomsg length="99" /></msg>', "video", ""),
        (47, '<msg><emoji md5="ab" /></msg>', "sticker", ""),
        (48, '<msg><location x="31.2" y="121.4" /></msg>', "location", ""),
        (49, _app(5, "好文", "<url>https://example.org/a</url>"), "link",
         "好文 https://example.org/a"),
        (49, _app(6, "第三章.pdf"), "file", "第三章.pdf"),
        (49, _app(33, "打卡小程序"), "mini_program", "打卡小程序"),
        (49, _app(2001, "恭喜发财"), "red_envelope", "恭喜发财"),
    ],
)  # fmt: skip
def test_every_kind_of_message(type_, content, kind, text):
    posted = _one(wf.wxmsg(7, ROOM, "wxid_ming", content, at=1_700_000_000, type_=type_))
    assert isinstance(posted, ev.MessagePosted)
    assert (posted.kind, posted.text, posted.message_id) == (kind, text, "7")
    assert posted.group == ROOM and posted.member == "wxid_ming"


def test_a_quote_replies_to_its_message_and_mentions_come_from_the_at_list():
    quote = _app(57, "同意", "<refermsg><type>1</type><svrid>123456789</svrid></refermsg>")
    xml = "<msgsource><atuserlist><![CDATA[wxid_hong,wxid_zhou]]></atuserlist></msgsource>"
    posted = _one(wf.wxmsg(8, ROOM, "wxid_ming", quote, at=1_700_000_000, type_=49, xml=xml))
    assert isinstance(posted, ev.MessagePosted)
    assert (posted.kind, posted.text, posted.reply_to) == ("quote", "同意", "123456789")
    assert posted.mentions == ("wxid_hong", "wxid_zhou")


def test_joins_leaves_and_removals_name_who_did_it():
    at = 1_700_000_000
    joined = parse(wf.system(1, ROOM, '"阿明"邀请"小红"、"陌生人"加入了群聊', at=at),
                   "acme", wf.ME, _resolve).events  # fmt: skip
    assert [(e.member, e.inviter, e.via) for e in joined if isinstance(e, ev.MemberJoined)] == [
        ("wxid_hong", "wxid_ming", "invite"),
        ("name:陌生人", "wxid_ming", "invite"),  # as the importer names one it cannot place
    ]
    qr = _one(wf.system(2, ROOM, '"老周"通过扫描"你"分享的二维码加入群聊', at=at))
    assert isinstance(qr, ev.MemberJoined) and (qr.inviter, qr.via) == (wf.ME, "qr")
    removed = _one(wf.system(3, ROOM, '你将"老周"移出了群聊', at=at))
    assert isinstance(removed, ev.MemberLeft)
    assert (removed.member, removed.reason, removed.by) == ("wxid_zhou", "removed", wf.ME)
    left = _one(wf.system(4, ROOM, "小红退出了群聊", at=at))
    assert isinstance(left, ev.MemberLeft) and (left.member, left.reason) == ("wxid_hong", "left")


def test_a_recall_told_by_the_xml_and_by_the_line_has_one_key():
    xml = (
        '<sysmsg type="revokemsg"><revokemsg><session>4455@chatroom</session>'
        "<msgid>1</msgid><newmsgid>5550001</newmsgid>"
        '<replacemsg><![CDATA["阿明" 撤回了一条消息]]></replacemsg></revokemsg></sysmsg>'
    )
    by_xml = _one(wf.wxmsg(9, ROOM, ROOM, xml, at=1_700_000_000, type_=10002))
    by_line = _one(wf.system(10, ROOM, '"阿明" 撤回了一条消息', at=1_700_000_000))
    assert isinstance(by_xml, ev.MessageRecalled) and by_xml.message_id == "5550001"
    assert by_xml.member == by_line.member == "wxid_ming" and by_xml.key == by_line.key


def test_a_rename_is_a_notice_and_the_account_removed_disables_the_group():
    renamed = parse(wf.system(11, ROOM, '"阿明"修改群名为“读书会二群”', at=1_700_000_000),
                    "acme", wf.ME, _resolve)  # fmt: skip
    assert renamed.events == [] and renamed.notices[0]["kind"] == "group_renamed"
    assert "读书会二群" in renamed.notices[0]["text"]
    assert system_line('"阿明"修改群名为“读书会二群”') is not None
    removed = parse(wf.system(12, ROOM, '你被"阿明"移出群聊', at=1_700_000_000),
                    "acme", wf.ME, _resolve)  # fmt: skip
    assert removed.removed_from == ROOM and removed.events == []


def test_private_chats_are_not_group_events():
    private = parse(wf.wxmsg(13, "wxid_hong", "wxid_hong", "在吗", at=1), "acme", wf.ME, _resolve)
    assert private.events == [] and private.ignored
