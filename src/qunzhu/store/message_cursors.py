"""How far a sending job has read the joins (``message_cursors``): read where it stands, and
move it in the transaction that queues what it read — a crash neither skips nor repeats."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.messaging import MessageCursor

_cursors = table_of(MessageCursor)


def position(conn: Connection, community_id: int, name: str, now: datetime) -> int:
    """The cursor ``name`` of the community (made at 0 the first time)."""
    insert_ignoring_conflicts(
        conn,
        _cursors,
        [{"community_id": community_id, "name": name[:64], "position": 0, "updated_at": now}],
    )
    found = conn.scalar(
        select(_cursors.c.position).where(
            _cursors.c.community_id == community_id, _cursors.c.name == name[:64]
        )
    )
    return int(found or 0)


def move(conn: Connection, community_id: int, name: str, to: int, now: datetime) -> None:
    conn.execute(
        update(_cursors)
        .where(_cursors.c.community_id == community_id, _cursors.c.name == name[:64])
        .values(position=to, updated_at=now)
    )
