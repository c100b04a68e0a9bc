"""WhatsApp's system lines (no sender) as member events, in each language of
:data:`.whatsapp_words.LANGUAGES`: joins by invite link, adds (the adder is the inviter),
removals and leaves. Anything else WhatsApp writes there — the encryption notice, a group
created, its subject, icon or description changed, a security code changed — is no member
event and makes no member.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from qunzhu import events as ev
from qunzhu.adapters.importers import whatsapp_words as words
from qunzhu.adapters.importers.common import Ordinals

ME = "me"


def _member(name: str) -> str:
    name = name.strip()
    return ME if name.lower() in words.ME_NAMES else name


def system_events(
    text: str, when: datetime, ids: Ordinals, common: dict[str, Any]
) -> Iterator[ev.Event]:
    text = text.strip()
    if not text or words.notice_language(text):
        return
    for language in words.LANGUAGES:
        joined = language.joined.match(text)
        if joined:
            member = _member(joined[1])
            key = ids.event_key("join", when, member)
            yield ev.MemberJoined(
                member=member, member_name=joined[1].strip(), via="link", key=key, **common
            )
            return
        for pattern in (language.added, language.removed):
            found = pattern.match(text)
            if found is None:
                continue
            actor = _member(found[1])
            for name in language.lists.split(found[2]):
                if name.strip():
                    yield _moved(pattern is language.added, name, actor, when, ids, common)
            return
        left = language.left.match(text)
        if left:
            member = _member(left[1])
            key = ids.event_key("leave", when, member)
            yield ev.MemberLeft(member=member, member_name=left[1].strip(), key=key, **common)
            return


def _moved(
    added: bool, name: str, actor: str, when: datetime, ids: Ordinals, common: dict[str, Any]
) -> ev.Event:
    member = _member(name)
    if added:
        key = ids.event_key("join", when, member)
        return ev.MemberJoined(
            member=member, member_name=name.strip(), inviter=actor, via="added", key=key,
            **common,
        )  # fmt: skip
    key = ids.event_key("leave", when, member)
    return ev.MemberLeft(
        member=member, member_name=name.strip(), reason="removed", by=actor, key=key, **common
    )
