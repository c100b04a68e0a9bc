"""What a new message means beyond its own row, written once for both writers (per event and
bulk): speaking in a group makes a membership, and a reply is linked to the message it
answers.

Both take what the writers hold anyway (ids, times) and run one statement per chunk, so the
per-event writer and the importer's bulk writer cannot drift apart.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import Connection

from qunzhu.store.base import table_of
from qunzhu.store.bulk import _sqlite_datetime, insert_ignoring_conflicts, raw_executemany
from qunzhu.store.models import Membership

# (community id, group id, member id, time of a new message); the time is a datetime or, on
# SQLite, the text the column stores (what a bulk row already holds): both sort as times
Spoke = tuple[int, int, int, datetime | str]


def speakers_are_members(conn: Connection, spoke: Iterable[Spoke]) -> None:
    """Speaking in a group means being in it, whether or not a join was ever seen: each
    (group, member) gets a membership from their earliest new message, unless they have one
    (an existing membership, joined or left, is never changed here)."""
    first: dict[tuple[int, int], tuple[int, datetime | str]] = {}
    for community_id, group_id, member_id, at in spoke:
        seen = first.get((group_id, member_id))
        if seen is None or at < seen[1]:  # type: ignore[operator]  # one kind per call
            first[(group_id, member_id)] = (community_id, at)
    if not first:
        return
    if conn.dialect.name == "sqlite":
        raw_executemany(
            conn,
            _SPEAKER_SQLITE,
            [
                [c, g, m, _sqlite_datetime(at) if isinstance(at, datetime) else at]
                for (g, m), (c, at) in first.items()
            ],
        )
        return
    insert_ignoring_conflicts(
        conn,
        table_of(Membership),
        [
            {
                "community_id": c,
                "group_id": g,
                "member_id": m,
                "status": "active",
                "joined_at": at,
                "left_at": None,
                "inviter_member_id": None,
                "join_via": "unknown",
            }
            for (g, m), (c, at) in first.items()
        ],
    )


def link_replies(conn: Connection, new_ids: Collection[int]) -> int:
    """Link the replies among the messages just inserted (``new_ids``) to the messages they
    answer, found by (group, platform message id) anywhere in the group: earlier chunks,
    earlier runs, the same chunk. Returns how many were linked; a reply whose target is not
    stored stays unlinked (``reply_to_platform_id`` keeps what it answered).

    On SQLite the new ids of one insert are consecutive (INTEGER PRIMARY KEY under the write
    lock the writer holds): one range. Elsewhere, or when they are not, the ids themselves.
    """
    if not new_ids:
        return 0
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    linked = 0
    try:
        if conn.dialect.name != "sqlite":
            cursor.execute(_LINK_POSTGRESQL, (list(new_ids),))
            return max(int(cursor.rowcount), 0)
        low, high = min(new_ids), max(new_ids)
        if high - low + 1 == len(new_ids):
            cursor.execute(_link_sqlite("BETWEEN ? AND ?"), (low, high))
            return max(int(cursor.rowcount), 0)
        ids = sorted(new_ids)
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            cursor.execute(_link_sqlite(f"IN ({', '.join('?' * len(part))})"), part)
            linked += max(int(cursor.rowcount), 0)
        return linked
    finally:
        cursor.close()


_SPEAKER_SQLITE = (
    "INSERT INTO memberships (community_id, group_id, member_id, status, joined_at, left_at, "
    "inviter_member_id, join_via) VALUES (?, ?, ?, 'active', ?, NULL, NULL, 'unknown') "
    "ON CONFLICT DO NOTHING"
)

# UPDATE … FROM looks each target up once (index on group and platform message id); SQLite
# before 3.33 lacks it and gets a correlated subquery
_LINK_FROM = (
    "UPDATE messages AS m SET reply_to_id = t.id FROM messages AS t WHERE {rows} "
    "AND m.reply_to_platform_id IS NOT NULL AND m.reply_to_id IS NULL "
    "AND t.group_id = m.group_id AND t.platform_message_id = m.reply_to_platform_id"
)
_TARGET = (
    "SELECT t.id FROM messages AS t WHERE t.group_id = messages.group_id "
    "AND t.platform_message_id = messages.reply_to_platform_id"
)
_LINK_POSTGRESQL = _LINK_FROM.format(rows="m.id = ANY(%s)")


def _link_sqlite(ids: str) -> str:
    if sqlite3.sqlite_version_info >= (3, 33):
        return _LINK_FROM.format(rows=f"m.id {ids}")
    return (
        f"UPDATE messages SET reply_to_id = ({_TARGET}) WHERE id {ids} "
        f"AND reply_to_platform_id IS NOT NULL AND reply_to_id IS NULL AND EXISTS ({_TARGET})"
    )
