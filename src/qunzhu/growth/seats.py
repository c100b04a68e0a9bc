"""The seat counter of a capped group (规模上限).

A seat is claimed by one conditional UPDATE (``taken = taken + 1 WHERE taken < cap``): on
PostgreSQL the row lock makes a second claimer wait and re-check the condition on the new
row, on SQLite ``BEGIN IMMEDIATE`` (store/session.py) lets one writer in at a time. Either
way two joins racing for the last seat never both get it. ``seat_holders`` makes a claim
or release told twice count once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, func, select, update

from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.growth import GroupSeats, SeatHolder
from qunzhu.store.models import Group, Membership


def _community_of(conn: Connection, group_id: int) -> int:
    return int(conn.execute(select(Group.community_id).where(Group.id == group_id)).scalar_one())


def ensure_seats(
    conn: Connection,
    group_id: int,
    cap: int,
    exclude: Iterable[int] = (),
    community_id: int | None = None,
) -> None:
    """Start the counter from the group's active members (except ``exclude``: the joins
    being decided now), and follow a changed cap."""
    seats, holders = table_of(GroupSeats), table_of(SeatHolder)
    current = conn.execute(select(seats.c.cap).where(seats.c.group_id == group_id)).scalar()
    if current is not None:
        if current != cap:
            conn.execute(update(seats).where(seats.c.group_id == group_id).values(cap=cap))
        return
    community_id = community_id or _community_of(conn, group_id)
    made = insert_ignoring_conflicts(
        conn,
        seats,
        [{"group_id": group_id, "community_id": community_id, "cap": cap, "taken": 0}],
        seats.c.group_id,
    )
    if not made:  # another transaction started it meanwhile
        return
    skip = set(exclude)
    now = datetime.now(UTC)
    rows = [
        {"group_id": group_id, "member_id": int(m), "community_id": community_id, "since": now}
        for (m,) in conn.execute(
            select(Membership.member_id).where(
                Membership.group_id == group_id, Membership.status == "active"
            )
        )
        if int(m) not in skip
    ]
    insert_ignoring_conflicts(conn, holders, rows)
    conn.execute(update(seats).where(seats.c.group_id == group_id).values(taken=len(rows)))


def holds_seat(conn: Connection, group_id: int, member_id: int) -> bool:
    h = table_of(SeatHolder)
    found = conn.execute(
        select(h.c.member_id).where(h.c.group_id == group_id, h.c.member_id == member_id)
    ).first()
    return found is not None


def claim_seat(
    conn: Connection, group_id: int, member_id: int, community_id: int | None = None
) -> bool:
    """True when the member holds a seat now (newly claimed or held already).

    The holder row goes in first (a member already seated is a conflict: done), then the
    counter moves only while below the cap; when it cannot, the holder row goes again."""
    seats, holders = table_of(GroupSeats), table_of(SeatHolder)
    added = insert_ignoring_conflicts(
        conn,
        holders,
        [
            {
                "group_id": group_id,
                "member_id": member_id,
                "community_id": community_id or _community_of(conn, group_id),
                "since": datetime.now(UTC),
            }
        ],
        holders.c.member_id,
    )
    if not added:
        return True
    got = conn.execute(
        update(seats)
        .where(seats.c.group_id == group_id, seats.c.taken < seats.c.cap)
        .values(taken=seats.c.taken + 1)
    )
    if got.rowcount:
        return True
    conn.execute(
        delete(holders).where(holders.c.group_id == group_id, holders.c.member_id == member_id)
    )
    return False


def release_seat(conn: Connection, group_id: int, member_id: int) -> bool:
    """True when a seat was freed (the member held one)."""
    seats, holders = table_of(GroupSeats), table_of(SeatHolder)
    gone = conn.execute(
        delete(holders).where(holders.c.group_id == group_id, holders.c.member_id == member_id)
    )
    if not gone.rowcount:
        return False
    conn.execute(
        update(seats)
        .where(seats.c.group_id == group_id, seats.c.taken > 0)
        .values(taken=seats.c.taken - 1)
    )
    return True


def swap_seat(conn: Connection, group_id: int, out_member: int, in_member: int) -> bool:
    """One-in-one-out: hand ``out_member``'s seat to ``in_member``; False if it was gone."""
    seats, holders = table_of(GroupSeats), table_of(SeatHolder)
    gone = conn.execute(
        delete(holders).where(holders.c.group_id == group_id, holders.c.member_id == out_member)
    )
    if not gone.rowcount:
        return False
    community_id = conn.execute(select(Group.community_id).where(Group.id == group_id)).scalar()
    added = insert_ignoring_conflicts(
        conn,
        holders,
        [
            {
                "group_id": group_id,
                "member_id": in_member,
                "community_id": community_id,
                "since": datetime.now(UTC),
            }
        ],
        holders.c.member_id,
    )
    if not added:  # the newcomer held a seat already: the one freed is simply free
        conn.execute(
            update(seats)
            .where(seats.c.group_id == group_id, seats.c.taken > 0)
            .values(taken=seats.c.taken - 1)
        )
    return True


def occupancy(conn: Connection, group_id: int) -> tuple[int, int] | None:
    """(taken, cap) of a capped group whose counter exists."""
    seats = table_of(GroupSeats)
    row = conn.execute(
        select(seats.c.taken, seats.c.cap).where(seats.c.group_id == group_id)
    ).first()
    return (int(row.taken), int(row.cap)) if row else None


def seat_holders(conn: Connection, group_id: int) -> list[int]:
    h = table_of(SeatHolder)
    return [
        int(m)
        for (m,) in conn.execute(
            select(h.c.member_id).where(h.c.group_id == group_id).order_by(h.c.since, h.c.member_id)
        )
    ]


def count_holders(conn: Connection, group_id: int) -> int:
    h = table_of(SeatHolder)
    return int(conn.execute(select(func.count()).where(h.c.group_id == group_id)).scalar() or 0)
