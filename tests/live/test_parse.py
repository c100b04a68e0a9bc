"""Platform payloads → events, without a server: the status changes and scenes."""

from __future__ import annotations

from connector_fakes import onebot as ob
from connector_fakes import telegram as tg

from qunzhu import events as ev
from qunzhu.adapters.onebot.parse import escape, parse_event, segments
from qunzhu.adapters.telegram.parse import parse_update
from qunzhu.adapters.wecom.parse import joins, leaves, read_change


def _none(link: str) -> tuple[None, None]:
    return None, None


def test_telegram_leave_reasons_come_from_the_status_change():
    left = parse_update(tg.chat_member_update(1, 5, "member", "left", date=100), "c", _none)
    kicked = parse_update(
        tg.chat_member_update(2, 5, "member", "kicked", date=100, actor=9), "c", _none
    )
    removed = parse_update(
        tg.chat_member_update(3, 5, "member", "left", date=100, actor=9), "c", _none
    )
    muted = parse_update(tg.chat_member_update(4, 5, "member", "restricted", date=100), "c", _none)
    assert [
        (e.reason, e.by)
        for p in (left, kicked, removed)
        for e in p.events
        if isinstance(e, ev.MemberLeft)
    ] == [("left", None), ("banned", "9"), ("removed", "9")]
    assert muted.events == []  # restricted and no longer a member would be a leave


def test_telegram_joins_know_how_they_came():
    added = parse_update(
        tg.chat_member_update(1, 5, "left", "member", date=100, actor=7), "c", _none
    ).events[0]
    link = {
        "invite_link": "https://t.me/+x…",
        "name": "ref:42:SPRING",
        "creator": tg.user(7),
        "creates_join_request": False,
        "is_primary": False,
        "is_revoked": False,
    }
    linked = parse_update(
        tg.chat_member_update(2, 6, "left", "member", date=100, invite_link=link), "c", _none
    ).events[0]
    assert isinstance(added, ev.MemberJoined) and (added.via, added.inviter) == ("added", "7")
    assert isinstance(linked, ev.MemberJoined)
    assert (linked.via, linked.inviter, linked.invite_code) == ("link", "42", "SPRING")


def test_telegram_service_messages_do_not_count_a_join_twice():
    update = tg.message_update(1, 5, 7, "", date=100, new_chat_members=[tg.user(8)])
    assert parse_update(update, "c", _none).events == []


def test_onebot_reads_cq_codes_and_segments_alike():
    text = "[CQ:reply,id=77][CQ:at,qq=123] 看这个&#91;笔记&#93;"
    parts = segments(text)
    assert ("reply", {"id": "77"}) in parts and ("at", {"qq": "123"}) in parts
    e = parse_event(ob.group_message(1, 5, text, at=100), "c").events[0]
    assert isinstance(e, ev.MessagePosted)
    assert (e.text, e.reply_to, e.mentions) == ("看这个[笔记]", "77", ("123",))
    array = [{"type": "image", "data": {"file": "a.jpg"}}]
    image = parse_event({**ob.group_message(2, 5, "", at=100), "message": array}, "c").events[0]
    assert isinstance(image, ev.MessagePosted) and image.kind == "image"
    assert escape("[CQ:at,qq=all]") == "&#91;CQ:at&#44;qq=all&#93;"


def test_wecom_scenes_become_join_paths_and_leave_reasons():
    xml = {
        "Event": "change_external_chat",
        "ChatId": "wr1",
        "ChangeType": "update",
        "UpdateDetail": "add_member",
        "JoinScene": "3",
        "CreateTime": "100",
        "MemChangeList": {"Item": "wmA"},
    }
    change = read_change(xml)
    assert change is not None and change.members == ["wmA"]
    [joined] = joins(change, "c", {})
    assert isinstance(joined, ev.MemberJoined) and joined.via == "qr"
    quit_ = read_change(
        {
            **xml,
            "UpdateDetail": "del_member",
            "QuitScene": "1",
            "MemChangeList": {"Item": ["wmA", "wmB"]},
        }
    )
    assert quit_ is not None
    assert [e.reason for e in leaves(quit_, "c") if isinstance(e, ev.MemberLeft)] == [
        "removed",
        "removed",
    ]
    assert read_change({"Event": "change_external_contact"}) is None


def test_telegram_bots_are_flagged_as_bots_on_their_messages_and_joins():
    update = tg.message_update(1, 5, 7, "daily digest", date=100)
    update["message"]["from"]["is_bot"] = True
    joined = tg.chat_member_update(2, 8, "left", "member", date=100)
    joined["chat_member"]["new_chat_member"]["user"]["is_bot"] = True
    person = tg.message_update(3, 6, 9, "hello", date=100)
    posted = parse_update(update, "c", _none).events[0]
    came = parse_update(joined, "c", _none).events[0]
    said = parse_update(person, "c", _none).events[0]
    assert isinstance(posted, ev.MessagePosted) and posted.member_is_bot
    assert isinstance(came, ev.MemberJoined) and came.member_is_bot
    assert isinstance(said, ev.MessagePosted) and not said.member_is_bot


def test_onebot_marks_the_connected_bot_accounts_own_messages():
    own = parse_event(ob.group_message(1, ob.SELF_ID, "早报", at=100), "c").events[0]
    other = parse_event(ob.group_message(2, 12345, "hi", at=100), "c").events[0]
    assert isinstance(own, ev.MessagePosted) and own.member_is_bot
    assert isinstance(other, ev.MessagePosted) and not other.member_is_bot
