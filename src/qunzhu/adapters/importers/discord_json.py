"""DiscordChatExporter JSON: ``guild``, ``channel`` and ``messages[]`` of one channel.

Each message has ``id`` (a global snowflake), ``type`` (``Default``, ``Reply``,
``GuildMemberJoin``, ``ChannelPinnedMessage``, …), ``timestamp`` with its offset, ``author``
(``id``, ``name``, ``nickname``, ``isBot``), ``content``, ``attachments``, ``stickers``,
``reactions`` (with ``count``), ``mentions`` and, for replies, ``reference.messageId``.
``GuildMemberJoin`` becomes a join; other system types are not member events.

Ids are the platform's snowflakes, as a gateway bot sees them: ``author.id`` is the user's
id (a deleted account keeps its own id under the name "Deleted User"), and the group is the
channel: ``--group`` naming the exported channel (by id or name) stores into its id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from qunzhu import events as ev
from qunzhu.adapters.importers import jsonstream
from qunzhu.adapters.importers.common import (
    ImportFormatError,
    Posted,
    ProgressFn,
    Rejected,
    Row,
    Skipped,
    local,
    message_key,
)
from qunzhu.adapters.importers.jsonsalvage import Unreadable

FORMAT = "discord-json"
PLATFORM = "discord"
MESSAGE_TYPES = ("Default", "Reply", "ThreadStarterMessage", "ChatInputCommand",
                 "ContextMenuCommand")  # fmt: skip
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".webm", ".mkv")
AUDIO_EXTENSIONS = (".mp3", ".ogg", ".wav", ".m4a", ".flac")


def sniff(head: bytes | str, filename: str = "") -> bool:
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    text = text.lstrip("\ufeff \r\n\t")
    return text.startswith("{") and '"guild"' in text[:4000] and '"channel"' in text[:4000]


def canonical_group(path: Path, group: str) -> str:
    """The channel's id when ``group`` names the exported channel, else ``group``."""
    channel: dict[str, str] = {}
    try:
        for prefix, _event, value in jsonstream.events(path, None):
            if prefix in ("channel.id", "channel.name"):
                channel[prefix[8:]] = str(value)
            elif prefix == "messages":
                break
    except jsonstream.BrokenJson:
        return group  # the reading proper says what is wrong, and where
    if channel.get("id") and group in (channel["id"], channel.get("name")):
        return channel["id"]
    return group


def service_keys(raw: Any, community: str, group: str) -> list[str]:
    """The key a stored join (its raw: message id and type) had in ``group``."""
    if not isinstance(raw, dict) or raw.get("type") != "GuildMemberJoin":
        return []
    return [_join_key(community, group, raw.get("id"))]


def _join_key(community: str, group: str, message_id: object) -> str:
    return ev.make_key(PLATFORM, community, group, "join", message_id)


def rows(
    path: Path,
    *,
    community: str,
    group: str,
    tz: tzinfo,
    progress: ProgressFn | None = None,
) -> Iterator[Row]:
    source = str(path)
    index = -1
    try:
        for index, m in enumerate(jsonstream.items(path, "messages.item", progress)):
            if type(m) is Unreadable:
                yield jsonstream.skipped(source, m)
                continue
            try:
                event = _event(m, community, group, tz)
            except (
                ValueError,
                TypeError,
                KeyError,
                AttributeError,
                OverflowError,
                ev.EventError,
            ) as exc:
                ident = m.get("id") if isinstance(m, dict) else None
                text = json.dumps(m, ensure_ascii=False, default=str)[:4000]
                yield Rejected(source, 0, f"messages[{index}] (id {ident}): {exc}", text)
                continue
            if event is not None:
                yield event
    except jsonstream.BrokenJson as exc:
        if index < 0:
            raise ImportFormatError(path, str(exc), line=exc.line) from None
        yield Skipped(source, exc.line, str(exc), "", skipped=jsonstream.left_after(path, exc.line))


def _when(value: object, tz: tzinfo) -> datetime:
    if not isinstance(value, str):
        raise ValueError("no 'timestamp'")
    return local(datetime.fromisoformat(value.replace("Z", "+00:00")), tz)


def _kind(m: dict[str, Any]) -> tuple[str, str | None]:
    if m.get("stickers"):
        return "sticker", None
    attachments = m.get("attachments") or ()
    if attachments:
        name = str(attachments[0].get("fileName") or attachments[0].get("url") or "")
        low = name.lower()
        if low.endswith(IMAGE_EXTENSIONS):
            return "image", name
        if low.endswith(VIDEO_EXTENSIONS):
            return "video", name
        if low.endswith(AUDIO_EXTENSIONS):
            return "voice", name
        return "file", name
    if m.get("embeds") and not (m.get("content") or "").strip(" <>").count(" "):
        return "link", None
    return "text", None


def _event(m: Any, community: str, group: str, tz: tzinfo) -> Posted | ev.Event | None:
    if not isinstance(m, dict):
        raise ValueError("not an object")
    author = m.get("author")
    if not isinstance(author, dict) or not author.get("id"):
        raise ValueError("no 'author.id'")
    member = str(author["id"])
    name = str(author.get("nickname") or author.get("name") or "")
    when = _when(m.get("timestamp"), tz)
    kind_of = m.get("type", "Default")
    if kind_of == "GuildMemberJoin":
        return ev.MemberJoined(
            platform=PLATFORM,
            community=community,
            group=group,
            member=member,
            member_name=name,
            occurred_at=when,
            via="unknown",
            key=_join_key(community, group, m.get("id")),
            raw={"id": m.get("id"), "type": kind_of},
        )
    if kind_of not in MESSAGE_TYPES:
        return None  # pins, calls, channel renames, boosts: not member events
    if not m.get("id"):
        raise ValueError("no 'id'")
    reference = m.get("reference") or {}
    reply_to = reference.get("messageId") if isinstance(reference, dict) else None
    kind, attachment = _kind(m)
    reactions = m.get("reactions") or ()
    mentions = tuple(
        str(x["id"]) for x in m.get("mentions") or () if isinstance(x, dict) and x.get("id")
    )
    return Posted(
        key=message_key(PLATFORM, community, group, str(m["id"])),
        message_id=str(m["id"]),
        member=member,
        member_name=name,
        occurred_at=when,
        text=str(m.get("content") or ""),
        kind=kind,
        reply_to=str(reply_to) if reply_to else None,
        mentions=mentions,
        reactions=sum(int(r.get("count", 0)) for r in reactions if isinstance(r, dict)),
        attachment=attachment,
    )
