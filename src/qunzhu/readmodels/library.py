"""Reading the content library (内容库): the value engine's suggestions, the kept items, and
search in Chinese and English — the same functions for the CLI, the API and the dashboard.

Search finds an item when every word of the query (split on spaces) occurs in its text or
tags, case-insensitively. How, per database:

- SQLite: the FTS5 table ``library_fts`` with the trigram tokenizer (migration 0011) for
  words of 3 characters or more; trigrams cannot match a shorter word, so a 1–2 character
  word (most Chinese words: 群主, 打卡) is matched with LIKE on the same column.
- PostgreSQL has no Chinese parser for full-text search. Of the two ways round it we chose
  neither index: a pg_trgm GIN index needs the extension, which a backup of qunzhu's schema
  does not carry, so restoring into a fresh database failed on the index (found by
  tests/store/test_backup.py); jieba-cut tokens in a tsvector need a dictionary and miss a
  word the segmenter cut differently from the query (社群运营 stored, 群运营 asked). The
  words are matched with LIKE on the case-folded column instead — the same substring
  meaning as SQLite's trigrams, so one query finds the same items on both databases — over
  the community's kept items only (``ix_library_items_listing``): a library is curated by
  hand, hundreds of items, and that read stays small.

Text is masked (phone numbers, e-mail addresses) for callers without personal data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, text
from sqlalchemy.orm import Session

from qunzhu.auth.permissions import Caller, mask_text
from qunzhu.bounds import clean_text
from qunzhu.messaging.library import LibraryError
from qunzhu.readmodels.assigned import assigned_groups
from qunzhu.store.intelligence import MessageScore
from qunzhu.store.library import FTS_TABLE, LibraryItem
from qunzhu.store.models import Group, Member, Message

SUGGEST_DAYS = 90
MIN_CHARS = 10  # a suggestion is an answer or a post, not "谢谢大家" or "+1"
MAX_TERMS = 8
MAX_QUERY_CHARS = 100
DUPLICATES_READ = 4  # rows read per suggestion shown, for the copies skipped
LISTED = 500  # newest first; a library is curated by hand, hundreds of items, not millions


def suggestions(
    session: Session,
    community_id: int,
    *,
    now: datetime,
    limit: int = 20,
    days: int = SUGGEST_DAYS,
    unmasked: bool = False,
    groups: set[int] | None = None,
) -> list[dict[str, Any]]:
    """The most valuable messages of the last ``days`` (the value engine's scores) that are
    neither kept nor dismissed yet, most valuable first; one of each text (the engine's
    hash of the normalized text: a tip pasted by five members is suggested once). With
    ``groups``, only messages of those groups (what a moderator may decide for)."""
    s, m, li = MessageScore, Message, LibraryItem
    decided = (li.community_id == community_id) & (li.message_id == s.message_id)
    only = () if groups is None else (s.group_id.in_(sorted(groups)),)
    rows = session.execute(
        select(
            s.message_id,
            s.value,
            m.text,
            m.occurred_at,
            Group.name,
            Member.display_name,
            s.text_hash,
        )
        .select_from(s)
        .join(m, m.id == s.message_id)
        .join(Group, Group.id == s.group_id)
        .join(Member, Member.id == s.member_id)
        .outerjoin(li, decided)
        .where(
            s.community_id == community_id,
            *only,
            s.day >= (now - timedelta(days=days)).date(),
            s.value > 0,
            li.id.is_(None),
            m.recalled.is_(False),
            func.length(m.text) >= MIN_CHARS,
        )
        .order_by(s.value.desc(), s.message_id)
        .limit(limit * DUPLICATES_READ)
    ).all()
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for mid, value, text_, at, group, author, text_hash in rows:
        same = text_hash or " ".join(text_.split())
        if same in seen:
            continue
        seen.add(same)
        out.append(
            {
                "message_id": mid,
                "value": round(float(value), 2),
                "text": text_ if unmasked else mask_text(text_),
                "posted_at": at.isoformat(),
                "group": group,
                "author": author,
            }
        )
    return out[:limit]


def deciding_groups(session: Session, community_id: int, caller: Caller) -> set[int] | None:
    """The groups ``caller`` may keep and dismiss for (see :mod:`.assigned`)."""
    return assigned_groups(session, community_id, caller)


def _items(community_id: int) -> Select[Any]:
    li = LibraryItem
    return (
        select(li, Group.name, Member.display_name)
        .join(Group, Group.id == li.group_id)
        .join(Member, Member.id == li.member_id)
        .where(li.community_id == community_id, li.status == "kept")
        .order_by(li.posted_at.desc(), li.id.desc())
    )


def _as_dict(item: LibraryItem, group: str, author: str, unmasked: bool) -> dict[str, Any]:
    return {
        "id": item.id,
        "message_id": item.message_id,
        "group": group,
        "author": author,
        "member_id": item.member_id,
        "text": item.text if unmasked else mask_text(item.text),
        "tags": list(item.tags or []),
        "value": item.value,
        "posted_at": item.posted_at.isoformat(),
        "decided_by": item.decided_by,
        "decided_at": item.decided_at.isoformat(),
    }


def listing(
    session: Session,
    community_id: int,
    *,
    tag: str | None = None,
    unmasked: bool = False,
    limit: int = LISTED,
) -> list[dict[str, Any]]:
    """Kept items, newest first; with ``tag``, only those carrying it."""
    query = _items(community_id)
    rows = session.execute(query if tag else query.limit(limit)).all()
    out = [_as_dict(i, g, a, unmasked) for i, g, a in rows if not tag or tag in (i.tags or [])]
    return out[:limit]


def item(session: Session, community_id: int, item_id: int, *, unmasked: bool) -> dict[str, Any]:
    row = session.execute(_items(community_id).where(LibraryItem.id == item_id)).first()
    if row is None:
        raise LibraryError(f"no library item {item_id} in this community", field="item_id")
    return _as_dict(row[0], row[1], row[2], unmasked)


def tags(session: Session, community_id: int) -> list[tuple[str, int]]:
    """Every tag of the kept items with how many carry it, the most used first."""
    counts: dict[str, int] = {}
    for (found,) in session.execute(
        select(LibraryItem.tags).where(
            LibraryItem.community_id == community_id, LibraryItem.status == "kept"
        )
    ):
        for tag in found or []:
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def terms_of(query: str) -> list[str]:
    """The words of a query, case-folded; a clear error for an empty or oversized one."""
    if len(query) > MAX_QUERY_CHARS:
        raise LibraryError(f"a search is at most {MAX_QUERY_CHARS} characters", field="q")
    words = list(dict.fromkeys(clean_text(query).casefold().split()))
    if not words:
        raise LibraryError("type a word to search for", field="q")
    if len(words) > MAX_TERMS:
        raise LibraryError(f"at most {MAX_TERMS} words in a search", field="q")
    return words


def _has_fts(session: Session) -> bool:
    if session.get_bind().dialect.name != "sqlite":
        return False
    found = session.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"), {"n": FTS_TABLE}
    ).first()
    return found is not None


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    session: Session,
    community_id: int,
    query: str,
    *,
    unmasked: bool = False,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Kept items holding every word of ``query``, newest first (see the module's doc)."""
    words = terms_of(query)
    fts = _has_fts(session)
    statement = _items(community_id)
    trigram_words = [w for w in words if fts and len(w) >= 3]
    for word in words:
        if word not in trigram_words:
            statement = statement.where(LibraryItem.search_text.like(_like(word), escape="\\"))
    if trigram_words:
        # each word a quoted phrase: FTS5 reads quotes, AND, NEAR … as syntax otherwise
        match = " ".join('"' + w.replace('"', '""') + '"' for w in trigram_words)
        hits = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match")
        statement = statement.where(
            LibraryItem.id.in_(hits.bindparams(match=match).columns(rowid=LibraryItem.id.type))
        )
    rows = session.execute(statement.limit(limit)).all()
    return [_as_dict(i, g, a, unmasked) for i, g, a in rows]
