"""Telegram Desktop exports (``result.json``): one chat, or a whole account's data.

A one-chat export has ``name, type, id, messages[]`` at the top; an account export has
``chats.list[]`` with one such object per chat, and ``--group`` (the chat's id or name)
picks the chat to import. Messages bring their text (plain or with entities), replies,
forwards, media kinds and reactions; service messages bring the members' comings and
goings: ``invite_members`` (added by the actor), ``join_group_by_link`` (with the link's
``inviter``), ``join_group_by_request``, ``remove_members`` (removed by the actor, or left
when the actor removed themselves).

Service messages name the people they are about by display name; names become user ids
through the messages of the same export, so service events are kept aside (few; no more
than the members who came and went) and emitted at the end, when every name is known.
Other service actions (pins, calls, topic changes, title and photo changes) are left out.

Ids are stored in the Bot API's forms (:mod:`telegram_ids`), so a connected bot meets the
same members and the same group. Posts in the name of a chat (an anonymous admin, a
channel's automatic forward) are that chat's member, marked as a bot: one per chat. In a
forum, a message that points at its topic's creation is in the topic, not a reply to it.
Old exports without ``date_unixtime`` give local times, read in the import's zone (said in
the summary).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import ijson

from qunzhu import bounds
from qunzhu import events as ev
from qunzhu.adapters.importers import jsonsalvage, jsonstream
from qunzhu.adapters.importers.common import (
    ImportFormatError,
    Noted,
    Posted,
    ProgressFn,
    Rejected,
    Row,
    Skipped,
    local,
    message_key,
)
from qunzhu.adapters.importers.jsonsalvage import Unreadable
from qunzhu.adapters.importers.telegram_ids import (
    canonical_group,
    chat_id,
    is_chat,
    names_the_chat,
    peer_id,
)
from qunzhu.adapters.importers.telegram_service import service_events, service_keys, trim

__all__ = ["FORMAT", "PLATFORM", "canonical_group", "chat_id", "rows", "service_keys", "sniff"]

FORMAT = "telegram-json"
PLATFORM = "telegram"

MEDIA = {"sticker": "sticker", "voice_message": "voice", "audio_file": "voice",
         "video_file": "video", "video_message": "video", "animation": "video"}  # fmt: skip
CHAT_TYPES = ("private_group", "private_supergroup", "public_supergroup", "private_channel",
              "public_channel", "personal_chat", "bot_chat", "saved_messages")  # fmt: skip


def sniff(head: bytes | str, filename: str = "") -> bool:
    text = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    text = text.lstrip("\ufeff \r\n\t")
    if not text.startswith("{") or '"guild"' in text[:2000]:
        return False
    return any(mark in text for mark in ('"date_unixtime"', '"from_id"', '"actor_id"')) or (
        '"chats"' in text and '"personal_information"' in text
    )


def _layout(path: Path) -> str:
    """ "single" or "account": which top-level key comes first."""
    try:
        for prefix, event, value in jsonstream.events(path, None):
            if prefix == "" and event == "map_key" and value in ("messages", "chats"):
                return "single" if value == "messages" else "account"
    except jsonstream.BrokenJson as exc:
        # broken before its first key showed: a one-chat export still has its array of
        # messages to read on from, when no account's "chats" comes first
        start = jsonsalvage.array_start(path, "messages")
        chats = jsonsalvage.array_start(path, "chats", opener="{")
        if start is not None and (chats is None or chats > start):
            return "single"
        raise ImportFormatError(path, str(exc), line=exc.line) from None
    raise ImportFormatError(path, "a JSON file with neither 'messages' nor 'chats'")


def _account_messages(
    path: Path, group: str, progress: ProgressFn | None
) -> Iterator[dict[str, Any]]:
    """Messages of the chat whose id or name is ``group``, streamed out of an account export."""
    chat: dict[str, Any] = {}
    seen: list[str] = []
    found = False
    builder: Any = None
    depth = 0
    for prefix, event, value in jsonstream.events(path, progress):
        if builder is not None:
            builder.event(event, value)
            depth += event in ("start_map", "start_array")
            depth -= event in ("end_map", "end_array")
            if depth == 0:
                yield builder.value
                builder = None
            continue
        if prefix == "chats.list.item":
            if event == "start_map":
                chat = {}
            elif event == "end_map":
                seen.append(f"{chat.get('id')} ({chat.get('name')}, {chat.get('type')})")
        elif prefix in ("chats.list.item.name", "chats.list.item.id", "chats.list.item.type"):
            chat[prefix.rsplit(".", 1)[1]] = value
        elif (
            prefix == "chats.list.item.messages.item"
            and event == "start_map"
            and names_the_chat(group, chat)
        ):
            found = True
            builder, depth = ijson.ObjectBuilder(), 1
            builder.event(event, value)
    if not found:
        listed = "; ".join(seen[:30]) + (" …" if len(seen) > 30 else "")
        raise ImportFormatError(
            path, f"an account export: --group must name one of its chats by id or name: {listed}"
        )


def rows(
    path: Path,
    *,
    community: str,
    group: str,
    tz: tzinfo,
    progress: ProgressFn | None = None,
) -> Iterator[Row]:
    if _layout(path) == "single":
        messages = jsonstream.items(path, "messages.item", progress)
    else:
        messages = _account_messages(path, group, progress)
    names: dict[str, str] = {}
    service: list[tuple[int, dict[str, Any]]] = []
    read = _Reading(tz)
    source = str(path)
    index = -1
    try:
        for index, m in enumerate(messages):
            if type(m) is Unreadable:
                yield jsonstream.skipped(source, m)
            elif not isinstance(m, dict):
                yield Rejected(source, 0, f"messages[{index}] is not an object", str(m)[:4000])
            elif m.get("type") == "service":
                if m.get("action") == "topic_created" and m.get("id") is not None:
                    read.topics.add(str(m["id"]))
                if m.get("actor") and m.get("actor_id"):  # a name known to its account
                    names.setdefault(str(m["actor"]), peer_id(m["actor_id"]))
                service.append((index, trim(m)))
            else:
                try:
                    yield _message(m, names, community, group, read)
                except (ValueError, TypeError, KeyError, OverflowError, ev.EventError) as exc:
                    yield Rejected(
                        source, 0, f"messages[{index}] (id {m.get('id')}): {exc}", _dump(m)
                    )
    except jsonstream.BrokenJson as exc:
        if index < 0 and not service:
            raise ImportFormatError(path, str(exc), line=exc.line) from None
        yield Skipped(source, exc.line, str(exc), "", skipped=jsonstream.left_after(path, exc.line))
    for i, m in service:
        try:
            yield from service_events(m, names, community, group, _when(m, read))
        except (ValueError, TypeError, KeyError, OverflowError, ev.EventError) as exc:
            yield Rejected(source, 0, f"messages[{i}] (id {m.get('id')}): {exc}", _dump(m))
    if read.local:
        yield Noted(
            f"{read.local:,} record(s) carry no date_unixtime (an older Telegram Desktop): "
            f"their local times were read in {read.tz} (--tz to choose another zone)"
        )


class _Reading:
    """What one export's reading keeps between messages."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.topics: set[str] = set()  # ids of topic creations: the roots of forum topics
        self.local = 0  # records whose time is a local time read in ``tz``
        self.peers: dict[object, str] = {}  # from_id → member: few senders, many messages


def _dump(m: Any) -> str:
    return json.dumps(m, ensure_ascii=False, default=str)[:4000]


def _when(m: dict[str, Any], read: _Reading) -> datetime:
    stamp = m.get("date_unixtime")
    if stamp is not None:
        return bounds.time_from_unix(int(stamp))
    date = m.get("date")
    if not isinstance(date, str):
        raise ValueError("no 'date'")
    moment = datetime.fromisoformat(date)
    read.local += moment.tzinfo is None
    return local(moment, read.tz)


def flatten(text: object) -> str:
    """Telegram text is a string, or a list of strings and {"type", "text"} entities."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in text)
    return ""


def _kind(m: dict[str, Any]) -> str:
    if "photo" in m:
        return "image"
    media = m.get("media_type")
    if isinstance(media, str):
        return MEDIA.get(media, "other")
    if "file" in m:
        return "file"
    if "poll" in m:
        return "poll"
    if "location_information" in m:
        return "location"
    if "contact_information" in m:
        return "contact_card"
    return "text"


def _mentions(m: dict[str, Any]) -> tuple[str, ...]:
    out = []
    for entity in m.get("text_entities") or ():
        if isinstance(entity, dict) and entity.get("type") == "mention_name":
            uid = entity.get("user_id")
            if uid is not None:
                out.append(peer_id(uid))
    return tuple(out)


def _message(
    m: dict[str, Any], names: dict[str, str], community: str, group: str, read: _Reading
) -> Posted | ev.MessagePosted:
    if "id" not in m:
        raise ValueError("no 'id'")
    sender = m.get("from_id")
    if not sender:
        raise ValueError("no 'from_id'")
    member = read.peers.get(sender)
    if member is None:
        member = read.peers[sender] = peer_id(sender)
    name = m.get("from") or ""
    if name and not is_chat(member):
        names.setdefault(str(name), member)
    reply = m.get("reply_to_message_id")
    if reply is not None and (str(reply) in read.topics or "reply_to_peer_id" in m):
        # a message in a forum topic points at the topic's creation: a thread, not a reply;
        # a reply to another chat's message has nothing here to link to
        reply = None
    reactions = m.get("reactions") or ()
    message_id = str(m["id"])
    if not message_id:
        raise ValueError("an empty 'id'")
    posted = Posted(
        key=message_key(PLATFORM, community, group, message_id),
        message_id=message_id,
        member=member,
        member_name=str(name),
        occurred_at=_when(m, read),
        text=flatten(m.get("text")),
        kind=_kind(m),
        reply_to=None if reply is None else str(reply),
        mentions=_mentions(m) if "text_entities" in m else (),
        reactions=sum(int(r.get("count", 0)) for r in reactions if isinstance(r, dict)),
        forwarded="forwarded_from" in m,
        attachment=m.get("file") or m.get("photo"),
    )
    if is_chat(member):
        # an anonymous admin or a channel posting here: that chat's own member, a bot-like
        # account kept out of rankings (an event, which carries the flag; such posts are few)
        return replace(posted.event(PLATFORM, community, group), member_is_bot=True)
    return posted
