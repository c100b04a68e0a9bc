"""The waitlist (候补) of a capped group: join it, read a position, mark an entry done."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select, update

from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.growth import WaitlistEntry


def join_waitlist(
    conn: Connection, community_id: int, group_id: int, member_id: int, now: datetime
) -> int:
    """Queue the member (again, when an old entry of theirs left or was admitted) and return
    their position."""
    t = table_of(WaitlistEntry)
    insert_ignoring_conflicts(
        conn,
        t,
        [
            {
                "community_id": community_id,
                "group_id": group_id,
                "member_id": member_id,
                "status": "waiting",
                "created_at": now,
            }
        ],
    )
    conn.execute(
        update(t)
        .where(
            t.c.group_id == group_id,
            t.c.member_id == member_id,
            t.c.status.in_(("left", "admitted")),
        )
        .values(status="waiting", created_at=now, notified_at=None)
    )
    return waitlist_position(conn, group_id, member_id) or 0


def waitlist_position(conn: Connection, group_id: int, member_id: int) -> int | None:
    t = table_of(WaitlistEntry)
    mine = conn.execute(
        select(t.c.id).where(
            t.c.group_id == group_id, t.c.member_id == member_id, t.c.status == "waiting"
        )
    ).scalar()
    if mine is None:
        return None
    return int(
        conn.execute(
            select(func.count()).where(
                t.c.group_id == group_id, t.c.status == "waiting", t.c.id <= mine
            )
        ).scalar()
        or 0
    )


def mark_waitlist(conn: Connection, group_id: int, member_id: int, status: str) -> None:
    """The member's open entry (waiting or offered) is done: admitted, or left."""
    t = table_of(WaitlistEntry)
    conn.execute(
        update(t)
        .where(
            t.c.group_id == group_id,
            t.c.member_id == member_id,
            t.c.status.in_(("waiting", "offered")),
        )
        .values(status=status)
    )


def head_of_waitlist(conn: Connection, group_id: int, limit: int = 5) -> list[tuple[int, int]]:
    """(entry id, member id) of the first ``limit`` waiting, oldest first."""
    t = table_of(WaitlistEntry)
    return [
        (int(entry_id), int(member_id))
        for entry_id, member_id in conn.execute(
            select(t.c.id, t.c.member_id)
            .where(t.c.group_id == group_id, t.c.status == "waiting")
            .order_by(t.c.id)
            .limit(limit)
        )
    ]


def offer_seat(conn: Connection, entry_id: int, now: datetime) -> bool:
    """Mark a waiting entry offered; False when another transaction got to it first."""
    t = table_of(WaitlistEntry)
    taken = conn.execute(
        update(t)
        .where(t.c.id == entry_id, t.c.status == "waiting")
        .values(status="offered", notified_at=now)
    )
    return bool(taken.rowcount)


def withdraw_offer(conn: Connection, entry_id: int) -> None:
    t = table_of(WaitlistEntry)
    conn.execute(update(t).where(t.c.id == entry_id).values(status="waiting", notified_at=None))
