"""Telegram Desktop's ids in the Bot API's forms, so history and live meet in one member
and one group.

The export names a sender by peer: ``user509128351`` (a person), ``channel1482056085`` (a
channel, or a supergroup posting as itself: an anonymous admin), ``chat123`` (a basic
group); a chat by its bare positive id and its ``type``. The Bot API says ``509128351``,
``-1001482056085`` (supergroups and channels: -100 before the id) and ``-123`` (basic
groups). What is stored is always the Bot API form, which a connected bot then sees too.
"""

from __future__ import annotations

import re
from pathlib import Path

from qunzhu.adapters.importers import jsonstream

_PEER = re.compile(r"(user|channel|chat)(\d+)")
# the export's chat types whose Bot API id carries the -100 prefix, and the basic group's
SUPERGROUPS = ("private_supergroup", "public_supergroup", "private_channel", "public_channel")
BASIC_GROUPS = ("private_group",)
CHAT_FIELDS = ("name", "type", "id")


def peer_id(raw: object) -> str:
    """The Bot API id of an export's ``from_id`` / ``actor_id``; ids already numeric stay."""
    text = str(raw)
    match = _PEER.fullmatch(text)
    if match is None:
        return text
    kind, number = match.groups()
    if kind == "user":
        return number
    return f"-100{number}" if kind == "channel" else f"-{number}"


def is_chat(member: str) -> bool:
    """A sender that is a chat (an anonymous admin's group, a channel), not a person."""
    return member.startswith("-")


def chat_id(raw_id: object, chat_type: object) -> str:
    """The Bot API id of an exported chat (its bare ``id`` and its ``type``)."""
    text = str(raw_id)
    if not text.isdigit():
        return text  # already negative (a newer export) or not an id: kept as written
    if chat_type in SUPERGROUPS:
        return f"-100{text}"
    if chat_type in BASIC_GROUPS:
        return f"-{text}"
    return text  # private chats: the Bot API id is the person's id, as exported


def names_the_chat(group: str, chat: dict[str, object]) -> bool:
    """Whether ``--group`` names this chat: by its exported id, its Bot API id or its name."""
    ident = chat.get("id")
    if ident is None:
        return group == str(chat.get("name"))
    return group in (str(ident), chat_id(ident, chat.get("type")), str(chat.get("name")))


def canonical_group(path: Path, group: str) -> str:
    """The group the import stores into: the chat's Bot API id when ``--group`` names the
    exported chat (one chat export; the chosen chat of an account export), else ``group``
    as given (an operator's own label: the bot's chat then is another group).

    Reads the file only as far as the chat's header (``name``, ``type``, ``id`` come before
    its messages in what Telegram Desktop writes)."""
    chat: dict[str, object] = {}
    try:
        for prefix, event, value in jsonstream.events(path, None):
            if prefix in CHAT_FIELDS:  # one chat export: the top level
                chat[prefix] = value
            elif prefix == "messages" or (prefix == "chats.list.item.messages"):
                if chat and names_the_chat(group, chat):
                    return chat_id(chat.get("id"), chat.get("type"))
                if prefix == "messages":
                    return group
            elif prefix == "chats.list.item" and event == "start_map":
                chat = {}
            elif prefix.startswith("chats.list.item.") and prefix[16:] in CHAT_FIELDS:
                chat[prefix[16:]] = value
    except jsonstream.BrokenJson:
        return group  # the reading proper says what is wrong, and where
    return group
