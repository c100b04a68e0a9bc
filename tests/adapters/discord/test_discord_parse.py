"""Discord gateway dispatches into events: what is a message, where it lands, who invited.

Payload shapes from Discord's developer documentation (Gateway Events; Message, Guild
Member objects); the content is this project's own."""

from __future__ import annotations

from typing import Any

from qunzhu import events as ev
from qunzhu.adapters.discord.parse import Where, parse_dispatch, snowflake_time

GUILD, GENERAL, HELP, THREAD = "7001", "7101", "7102", "7201"
ANN = {"id": "8001", "username": "ann", "global_name": "Ann"}


def _where() -> Where:
    where = Where()
    where.learn_guild(
        {
            "id": GUILD,
            "system_channel_id": None,
            "channels": [
                {"id": HELP, "type": 0, "position": 1},
                {"id": GENERAL, "type": 0, "position": 0},
                {"id": "7103", "type": 2, "position": 0},  # voice: never a home
            ],
            "threads": [{"id": THREAD, "parent_id": HELP}],
        }
    )
    return where


def _message(**extra: Any) -> dict[str, Any]:
    return {
        "id": "9001",
        "channel_id": GENERAL,
        "guild_id": GUILD,
        "author": ANN,
        "member": {"nick": "安"},
        "content": "怎么配置代理？",
        "timestamp": "2026-12-01T08:00:00.123000+00:00",
        "mentions": [{"id": "8002", "username": "bob"}],
        "attachments": [],
        "type": 0,
        **extra,
    }


def _none(_guild: str) -> tuple[str | None, str | None]:
    return None, None


def _parse(name: str, d: dict[str, Any], where: Where | None = None, **kw: Any) -> list[Any]:
    return parse_dispatch(name, d, "acme", where or _where(), kw.pop("inviter", _none), **kw)


def test_a_message_keeps_ids_name_time_and_mentions():
    [m] = _parse("MESSAGE_CREATE", _message())
    assert isinstance(m, ev.MessagePosted)
    assert (m.platform, m.group, m.member, m.message_id) == ("discord", GENERAL, "8001", "9001")
    assert m.member_name == "安" and m.mentions == ("8002",) and m.reply_to is None
    assert m.occurred_at.isoformat() == "2026-12-01T08:00:00.123000+00:00"


def test_a_reply_links_and_a_thread_counts_for_its_channel():
    [m] = _parse(
        "MESSAGE_CREATE",
        _message(type=19, channel_id=THREAD, message_reference={"message_id": "9000"}),
    )
    assert m.reply_to == "9000" and m.group == HELP


def test_attachments_stickers_and_bots():
    image = {"filename": "a.png", "content_type": "image/png"}
    [m] = _parse("MESSAGE_CREATE", _message(attachments=[image], author={**ANN, "bot": True}))
    assert (m.kind, m.attachment, m.member_is_bot) == ("image", "a.png", True)
    [s] = _parse("MESSAGE_CREATE", _message(sticker_items=[{"id": "1", "name": "hi"}]))
    assert s.kind == "sticker"
    [f] = _parse("MESSAGE_CREATE", _message(attachments=[{"filename": "x.log"}]))
    assert f.kind == "file"


def test_what_is_not_someone_speaking_is_left_out():
    assert _parse("MESSAGE_CREATE", _message(type=7)) == []  # Discord's own join notice
    assert _parse("MESSAGE_CREATE", _message(type=6)) == []  # a pin notice
    assert _parse("MESSAGE_CREATE", _message(guild_id=None)) == []  # a direct message
    assert _parse("MESSAGE_CREATE", _message(webhook_id="55")) == []
    assert _parse("TYPING_START", {"channel_id": GENERAL}) == []


def test_a_delete_is_a_recall_by_the_author_seen_and_keyed_by_the_message():
    where = _where()
    _parse("MESSAGE_CREATE", _message(), where)
    [r] = _parse("MESSAGE_DELETE", {"id": "9001", "channel_id": GENERAL, "guild_id": GUILD}, where)
    [again] = _parse(
        "MESSAGE_DELETE", {"id": "9001", "channel_id": GENERAL, "guild_id": GUILD}, where
    )
    assert isinstance(r, ev.MessageRecalled) and r.member == "8001" and r.key == again.key
    unseen = {"id": "1", "channel_id": GENERAL, "guild_id": GUILD}
    assert _parse("MESSAGE_DELETE", unseen, where) == []


def test_a_reaction_is_keyed_without_its_arrival_time():
    d = {
        "user_id": "8002",
        "channel_id": GENERAL,
        "message_id": "9001",
        "guild_id": GUILD,
        "emoji": {"id": None, "name": "👍"},
    }
    [a] = _parse("MESSAGE_REACTION_ADD", d)
    [b] = _parse("MESSAGE_REACTION_ADD", d)
    assert a.key == b.key and a.emoji == "👍"


def test_joins_and_leaves_land_in_the_home_channel_with_the_inviter():
    where = _where()
    joined = {
        "guild_id": GUILD,
        "user": {"id": "8003", "username": "cat"},
        "joined_at": "2026-12-01T09:00:00+00:00",
    }
    [j] = _parse("GUILD_MEMBER_ADD", joined, where, inviter=lambda g: ("8001", "abc"))
    assert isinstance(j, ev.MemberJoined)
    assert (j.group, j.inviter, j.invite_code, j.via) == (GENERAL, "8001", "abc", "link")
    left = {"guild_id": GUILD, "user": {"id": "8003", "username": "cat"}}
    [a] = _parse("GUILD_MEMBER_REMOVE", left, where, delivery="s1:40")
    [b] = _parse("GUILD_MEMBER_REMOVE", left, where, delivery="s1:40")
    [c] = _parse("GUILD_MEMBER_REMOVE", left, where, delivery="s1:77")
    assert a.key == b.key != c.key  # a replayed leave is the same; a second leave is not
    [ban] = _parse("GUILD_BAN_ADD", left, where, delivery="s1:78")
    assert ban.reason == "banned"


def test_a_join_names_no_inviter_who_is_themself_and_a_guild_unknown_is_skipped():
    joined = {"guild_id": GUILD, "user": {"id": "8003"}, "joined_at": None}
    [j] = _parse("GUILD_MEMBER_ADD", joined, inviter=lambda g: ("8003", "self"))
    assert j.inviter is None
    assert _parse("GUILD_MEMBER_ADD", {**joined, "guild_id": "0"}) == []


def test_snowflakes_carry_their_time():
    assert snowflake_time("175928847299117063").isoformat().startswith("2016-04-30T11:18:25")
