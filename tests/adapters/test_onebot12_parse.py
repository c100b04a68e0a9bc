"""OneBot 12 events into qunzhu events: the platform is the bridge's, WeChat's extended
segments and notices get their kinds, system lines become joins only from no member.
Shapes as in the OneBot 12 spec and ComWeChatBotClient (see tests/live/connector_fakes/
onebot12.py); the content is ours."""

from __future__ import annotations

from typing import Any

from qunzhu import events as ev
from qunzhu.adapters.onebot12.parse import parse_event

AT = 1_760_000_000.25


def _event(**fields: Any) -> dict[str, Any]:
    return {
        "id": "e1",
        "impl": "ComWeChat",
        "self": {"platform": "wechat", "user_id": "wxid_me"},
        "time": AT,
        "type": "message",
        "detail_type": "group",
        "sub_type": "",
        "message_id": "m1",
        "group_id": "123@chatroom",
        "user_id": "wxid_a",
        "message": [{"type": "text", "data": {"text": "你好"}}],
        "alt_message": "你好",
        **fields,
    }


def test_the_platform_and_the_time_come_from_the_event():
    [posted] = parse_event(_event(), "c", "qq").events
    assert isinstance(posted, ev.MessagePosted)
    assert posted.platform == "wechat" and posted.occurred_at.timestamp() == AT
    [qq] = parse_event(_event(self={"platform": "qq", "user_id": "1"}), "c", "wechat").events
    assert qq.platform == "qq"
    unknown = parse_event(_event(self={"platform": "kaiheila", "user_id": "1"}), "c", "wechat")
    assert unknown.events == [] and "kaiheila" in unknown.ignored


def test_a_member_typing_a_system_line_credits_nobody():
    typed = _event(message=[{"type": "text", "data": {"text": "老王邀请小李加入了群聊"}}])
    [posted] = parse_event(typed, "c", "wechat").events
    assert isinstance(posted, ev.MessagePosted)
    line = _event(
        user_id="", message=[{"type": "text", "data": {"text": "老王邀请小李、小张加入了群聊"}}]
    )
    joins = parse_event(line, "c", "wechat", lambda g, n: {"老王": "wxid_wang"}.get(n)).events
    assert [(j.member, j.inviter) for j in joins if isinstance(j, ev.MemberJoined)] == [
        ("name:小李", "wxid_wang"),
        ("name:小张", "wxid_wang"),
    ]


def test_removal_by_the_account_and_the_account_removed():
    kicked = _event(
        type="notice", detail_type="group_member_decrease", sub_type="kick",
        user_id="wxid_a", operator_id="wxid_me",
    )  # fmt: skip
    [left] = parse_event(kicked, "c", "wechat").events
    assert isinstance(left, ev.MemberLeft) and left.reason == "removed" and left.by == "wxid_me"
    gone = parse_event({**kicked, "user_id": "wxid_me", "operator_id": "wxid_owner"}, "c", "x")
    assert gone.events == [] and gone.group_status[0][1] == "disabled"


def test_a_rename_line_gives_the_new_name():
    said = [{"type": "text", "data": {"text": "你修改群名为“春季读书会”"}}]
    line = _event(group_id="123@chatroom", user_id="123@chatroom", message=said)
    parsed = parse_event(line, "c", "wechat")
    assert parsed.renamed == [("123@chatroom", "春季读书会", "wxid_me")]
