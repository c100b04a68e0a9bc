"""The content library's decisions (内容库): an operator keeps a valuable message (with tags)
or dismisses the suggestion; one row per source message, so deciding again changes the row
and a dismissed message is never suggested again. Removing an item from the library is a
dismissal too.

The value engine proposes (``qunzhu.readmodels.library.suggestions``); only an operator
keeps. Reading the library (listing, search, export) lives in ``qunzhu.readmodels.library``,
where the caller's right to personal data is known.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.bounds import clean_text
from qunzhu.store.library import LibraryItem
from qunzhu.store.models import Message

MAX_TAGS = 8
MAX_TAG_CHARS = 24
# punctuation an operator may use to type several tags in one field: "干货，Python; 入门"
TAG_SEPARATORS = str.maketrans({c: "," for c in "，、;；"})


class LibraryError(ValueError):
    """Bad input or an impossible decision, naming the field it is about."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class NotYourGroup(PermissionError):
    """A moderator decides for the groups assigned to them (admins for every group)."""

    def __init__(self, message_id: int) -> None:
        super().__init__(
            f"message {message_id} is in a group not assigned to you: an admin decides, or "
            "assigns you the group (Operators page)"
        )
        self.field = "message_id"


class UnknownMessage(LookupError):
    """No such message in this community (another community's ids look the same)."""

    def __init__(self, message_id: int) -> None:
        super().__init__(f"no message {message_id} in this community")
        self.field = "message_id"


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags as typed, split on commas (Chinese ones too), trimmed, duplicates dropped."""
    out: list[str] = []
    for raw in tags:
        # NUL and lone surrogates: neither database stores them
        for part in clean_text(raw).translate(TAG_SEPARATORS).split(","):
            tag = " ".join(part.split())
            if not tag or tag in out:
                continue
            if len(tag) > MAX_TAG_CHARS:
                raise LibraryError(
                    f"the tag {tag[:MAX_TAG_CHARS]!r}… is longer than {MAX_TAG_CHARS} characters",
                    field="tags",
                )
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise LibraryError(f"at most {MAX_TAGS} tags, {len(out)} given", field="tags")
    return out


def search_text_of(text: str, tags: Iterable[str]) -> str:
    """What search reads: the words and the tags, case-folded once here so the same LIKE and
    the same trigram index find "Python" by "python" on SQLite and PostgreSQL alike."""
    return "\n".join([text, *tags]).casefold()


def _message(
    session: Session, community_id: int, message_id: int, groups: set[int] | None
) -> Message:
    message = session.scalar(
        select(Message).where(Message.community_id == community_id, Message.id == message_id)
    )
    if message is None:
        raise UnknownMessage(message_id)
    if groups is not None and message.group_id not in groups:
        raise NotYourGroup(message_id)
    return message


def _row(session: Session, community_id: int, message_id: int) -> LibraryItem | None:
    return session.scalar(
        select(LibraryItem).where(
            LibraryItem.community_id == community_id, LibraryItem.message_id == message_id
        )
    )


def keep(
    session: Session,
    community_id: int,
    message_id: int,
    *,
    tags: Iterable[str] = (),
    by: str,
    now: datetime,
    groups: set[int] | None = None,
) -> LibraryItem:
    """Keep the message in the library (again: the tags given replace the old ones; none
    given keeps them). A recalled or erased message has no words left to keep. ``groups``:
    the groups the deciding operator may decide for (None: every group)."""
    message = _message(session, community_id, message_id, groups)
    text = (message.edited_text or message.text or "").strip()
    if message.recalled or not text:
        raise LibraryError(
            f"message {message_id} has no text to keep (recalled or erased)", field="message_id"
        )
    chosen = clean_tags(tags)
    item = _row(session, community_id, message_id)
    if item is None:
        item = LibraryItem(
            community_id=community_id,
            message_id=message.id,
            group_id=message.group_id,
            member_id=message.member_id,
            tags=[],
        )
        session.add(item)
    item.status = "kept"
    item.text = text
    item.tags = chosen or list(item.tags or [])
    item.value = round(float(message.value or 0.0), 2)
    item.posted_at = message.occurred_at
    item.search_text = search_text_of(text, item.tags)
    item.decided_by = by[:64]
    item.decided_at = now
    session.flush()
    return item


def dismiss(
    session: Session,
    community_id: int,
    message_id: int,
    *,
    by: str,
    now: datetime,
    groups: set[int] | None = None,
) -> LibraryItem:
    """Never suggest this message again; if it was kept, it leaves the library."""
    message = _message(session, community_id, message_id, groups)
    item = _row(session, community_id, message_id)
    if item is None:
        item = LibraryItem(
            community_id=community_id,
            message_id=message.id,
            group_id=message.group_id,
            member_id=message.member_id,
            tags=[],
            text="",
            value=round(float(message.value or 0.0), 2),
            posted_at=message.occurred_at,
            search_text="",
        )
        session.add(item)
    item.status = "dismissed"
    # a dismissed message's words are not kept: the library holds only what was chosen
    item.text, item.search_text = "", ""
    item.decided_by = by[:64]
    item.decided_at = now
    session.flush()
    return item


def remove(
    session: Session,
    community_id: int,
    item_id: int,
    *,
    by: str,
    now: datetime,
    groups: set[int] | None = None,
) -> LibraryItem:
    """Take a kept item out of the library (it stays out of the suggestions)."""
    message_id = session.scalar(
        select(LibraryItem.message_id).where(
            LibraryItem.community_id == community_id, LibraryItem.id == item_id
        )
    )
    if message_id is None:
        raise LibraryError(f"no library item {item_id} in this community", field="item_id")
    return dismiss(session, community_id, message_id, by=by, now=now, groups=groups)
