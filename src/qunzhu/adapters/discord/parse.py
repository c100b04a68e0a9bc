"""Discord gateway dispatches (``{"op": 0, "t": ..., "d": ...}``) into events.

A Discord text channel is a qunzhu group (as DiscordChatExporter exports a channel), so a
message's group is its ``channel_id``; a thread's messages count for the channel the
thread hangs off when the connector knows it. Joining and leaving happen to a server
(guild), not a channel: they land in the guild's *home* channel (its system channel, where
Discord itself greets newcomers, or the one the connector is configured with). Ids are the
snowflakes as decimal strings, the same the export writes, so history and live meet in one
member and one group.

Shapes from Discord's developer documentation (Gateway Events: Message Create, Message
Update, Message Delete, Message Reaction Add, Guild Member Add/Remove, Guild Ban Add).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qunzhu import events as ev

PLATFORM = "discord"
# message types that are someone speaking: DEFAULT, REPLY, CHAT_INPUT_COMMAND,
# CONTEXT_MENU_COMMAND; joins (7), pins (6), boosts (8–11) and thread notices are not
SPOKEN_TYPES = frozenset({0, 19, 20, 23})
REPLY = 19


@dataclass
class Where:
    """What the connector knows of the guilds: channel → guild, thread → channel,
    guild → home channel, and recent messages' authors (a delete names no author)."""

    guild_of: dict[str, str] = field(default_factory=dict)
    parent_of: dict[str, str] = field(default_factory=dict)
    home_of: dict[str, str] = field(default_factory=dict)
    author_of: dict[str, tuple[str, str]] = field(default_factory=dict)  # msg → (author, group)
    keep_authors: int = 20_000

    def learn_guild(self, guild: Mapping[str, Any], home: str | None = None) -> None:
        gid = str(guild["id"])
        texts: list[tuple[int, str]] = []
        for channel in guild.get("channels") or ():
            cid = str(channel["id"])
            self.guild_of[cid] = gid
            if channel.get("type") == 0:
                texts.append((int(channel.get("position") or 0), cid))
        for thread in guild.get("threads") or ():
            self.guild_of[str(thread["id"])] = gid
            if thread.get("parent_id"):
                self.parent_of[str(thread["id"])] = str(thread["parent_id"])
        chosen = home or guild.get("system_channel_id") or (min(texts)[1] if texts else None)
        if chosen:
            self.home_of[gid] = str(chosen)

    def group_of(self, channel: str) -> str:
        return self.parent_of.get(channel, channel)

    def remember(self, message: str, author: str, group: str) -> None:
        self.author_of[message] = (author, group)
        if len(self.author_of) > self.keep_authors:  # oldest first: dicts keep order
            for old in list(self.author_of)[: self.keep_authors // 10]:
                del self.author_of[old]


Inviter = Callable[[str], tuple[str | None, str | None]]
"""For a guild id at a join: (inviter, invite code) from the invite-use difference."""


def when(stamp: str | None) -> datetime:
    if not stamp:
        return datetime.now(UTC)
    at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def snowflake_time(snowflake: str) -> datetime:
    """When a snowflake was made (ms since Discord's epoch, 2015-01-01, in its top bits)."""
    return datetime.fromtimestamp(((int(snowflake) >> 22) + 1_420_070_400_000) / 1000, UTC)


def display_name(user: Mapping[str, Any], member: Mapping[str, Any] | None = None) -> str:
    nick = (member or {}).get("nick")
    return str(nick or user.get("global_name") or user.get("username") or user.get("id") or "")


def _kind(d: Mapping[str, Any]) -> tuple[str, str | None]:
    if d.get("sticker_items"):
        return "sticker", None
    attachments = d.get("attachments") or ()
    if attachments:
        first = attachments[0]
        ctype = str(first.get("content_type") or "")
        kind = (
            "image"
            if ctype.startswith("image/")
            else "video"
            if ctype.startswith("video/")
            else "file"
        )
        return kind, str(first.get("filename") or "") or None
    return "text", None


def parse_dispatch(
    name: str,
    d: Mapping[str, Any],
    community: str,
    where: Where,
    inviter: Inviter,
    delivery: str = "",
) -> list[ev.Event]:
    """The events one dispatch says, in order; an empty list for what qunzhu does not keep
    (direct messages, typing, presence, system notices). ``delivery`` names this dispatch
    (gateway session and sequence): a leave carries no time of its own, and a resumed
    session replays it under the same sequence, so it keys the leave."""
    match name:
        case "MESSAGE_CREATE":
            return _message(d, community, where)
        case "MESSAGE_UPDATE":
            return _edit(d, community, where)
        case "MESSAGE_DELETE":
            return _delete(d, community, where)
        case "MESSAGE_REACTION_ADD":
            return _reaction(d, community, where)
        case "GUILD_MEMBER_ADD":
            return _join(d, community, where, inviter)
        case "GUILD_MEMBER_REMOVE":
            return _leave(d, community, where, "left", delivery)
        case "GUILD_BAN_ADD":
            return _leave(d, community, where, "banned", delivery)
        case _:
            return []


def _message(d: Mapping[str, Any], community: str, where: Where) -> list[ev.Event]:
    if not d.get("guild_id") or d.get("webhook_id") or int(d.get("type") or 0) not in SPOKEN_TYPES:
        return []
    author = d["author"]
    group = where.group_of(str(d["channel_id"]))
    where.guild_of.setdefault(str(d["channel_id"]), str(d["guild_id"]))
    kind, attachment = _kind(d)
    reference = d.get("message_reference") or {}
    reply_to = reference.get("message_id") if int(d.get("type") or 0) == REPLY else None
    member = str(author["id"])
    where.remember(str(d["id"]), member, group)
    return [
        ev.MessagePosted(
            platform=PLATFORM,
            community=community,
            group=group,
            member=member,
            occurred_at=when(d.get("timestamp")),
            message_id=str(d["id"]),
            text=str(d.get("content") or ""),
            kind=kind,
            member_name=display_name(author, d.get("member")),
            reply_to=str(reply_to) if reply_to else None,
            mentions=tuple(str(u["id"]) for u in d.get("mentions") or ()),
            attachment=attachment,
            member_is_bot=bool(author.get("bot")),
            raw=dict(d),
        )
    ]


def _edit(d: Mapping[str, Any], community: str, where: Where) -> list[ev.Event]:
    # an update without content is an embed unfurling, not an edit
    if "content" not in d or not d.get("guild_id") or not d.get("author"):
        return []
    return [
        ev.MessageEdited(
            platform=PLATFORM,
            community=community,
            group=where.group_of(str(d["channel_id"])),
            member=str(d["author"]["id"]),
            occurred_at=when(d.get("edited_timestamp") or d.get("timestamp")),
            message_id=str(d["id"]),
            text=str(d["content"] or ""),
            raw=dict(d),
        )
    ]


def _delete(d: Mapping[str, Any], community: str, where: Where) -> list[ev.Event]:
    known = where.author_of.get(str(d["id"]))
    if known is None or not d.get("guild_id"):
        return []  # an old message whose author this process never saw: nothing to credit
    author, group = known
    return [
        ev.MessageRecalled(
            platform=PLATFORM,
            community=community,
            group=group,
            member=author,
            occurred_at=datetime.now(UTC),
            message_id=str(d["id"]),
            key=ev.make_key(PLATFORM, community, "recall", d["id"]),
            raw=dict(d),
        )
    ]


def _reaction(d: Mapping[str, Any], community: str, where: Where) -> list[ev.Event]:
    if not d.get("guild_id"):
        return []
    emoji = d.get("emoji") or {}
    name = str(emoji.get("name") or emoji.get("id") or "")
    return [
        ev.ReactionAdded(
            platform=PLATFORM,
            community=community,
            group=where.group_of(str(d["channel_id"])),
            member=str(d["user_id"]),
            occurred_at=datetime.now(UTC),
            message_id=str(d["message_id"]),
            emoji=name,
            # one reaction per member, message and emoji: its time is when it reached us
            key=ev.make_key(PLATFORM, community, "reaction", d["message_id"], d["user_id"], name),
            raw=dict(d),
        )
    ]


def _join(d: Mapping[str, Any], community: str, where: Where, inviter: Inviter) -> list[ev.Event]:
    guild = str(d["guild_id"])
    home = where.home_of.get(guild)
    if home is None:
        return []
    user = d["user"]
    member = str(user["id"])
    who, code = inviter(guild)
    return [
        ev.MemberJoined(
            platform=PLATFORM,
            community=community,
            group=home,
            member=member,
            occurred_at=when(d.get("joined_at")),
            member_name=display_name(user, d),
            inviter=who if who != member else None,
            via="link" if code else "unknown",
            invite_code=code,
            member_is_bot=bool(user.get("bot")),
            raw=dict(d),
        )
    ]


def _leave(
    d: Mapping[str, Any], community: str, where: Where, reason: str, delivery: str
) -> list[ev.Event]:
    home = where.home_of.get(str(d["guild_id"]))
    if home is None:
        return []
    user = d["user"]
    return [
        ev.MemberLeft(
            platform=PLATFORM,
            community=community,
            group=home,
            member=str(user["id"]),
            occurred_at=datetime.now(UTC),
            member_name=display_name(user),
            reason=reason,
            key=ev.make_key(PLATFORM, community, reason, d["guild_id"], d["user"]["id"], delivery)
            if delivery
            else "",
            raw=dict(d),
        )
    ]
