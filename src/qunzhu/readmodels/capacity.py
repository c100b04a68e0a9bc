"""Capacity (规模) of a community's groups: seats taken of the cap, who waits, and the open
one-in-one-out proposals. ``qunzhu capacity show|waitlist``, ``GET …/capacity`` and the
dashboard's group page all read these functions, so each figure has one definition:

``cap``
    The cap admission enforces now: the group's own cap, else the spec's ``size.cap``
    (a community without a spec has no caps unless a group sets one) — the rule of
    ``qunzhu.growth.capacity.size_policy``, see :func:`effective_caps`. The groups listed
    by ``GET …/groups``, the communities page and the community page show this cap too.
``seats_taken``
    Members holding a seat. Once admission has started a group's seat counter
    (``group_seats``, growth/seats.py) it is the counter: it also counts a seat held for
    someone offered it from the waitlist who has not come in yet, and it is the number the
    cap is enforced against. Before the counter exists (an uncapped group, or no join
    since the cap was set) it is the group's active members, which is exactly what the
    counter starts from.
``members``
    Active memberships of the group: the joins the platform reported, less leaves. Not a
    capacity figure: a join admission declined (group full) stays a membership until the
    platform reports it gone, so it may exceed the cap; seats never do.
``waitlist``
    People queued for a seat (候补, ``waitlist_entries.status = 'waiting'``). Someone
    *offered* a seat holds it already (counted in ``seats_taken``), so is not counted here.
``pending_applications``
    Applications to the group waiting for an operator (``applications.status = 'pending'``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select

from qunzhu.growth.common import spec_of
from qunzhu.growth.seat_load import group_cap
from qunzhu.store.growth import EvictionProposal, GroupSeats, WaitlistEntry
from qunzhu.store.models import Application, Community, Group, Membership

WAITING = "waiting"
IN_QUEUE = ("waiting", "offered")  # the queue as listed: waiting, or offered a held seat


class UnknownGroup(LookupError):
    """The group is not one of the community's (never says whether it exists elsewhere)."""


@dataclass(frozen=True, slots=True)
class GroupCapacity:
    group_id: int
    platform_group_id: str
    name: str
    cap: int | None
    seats_taken: int
    members: int
    waitlist: int
    pending_applications: int

    @property
    def free(self) -> int | None:
        return None if self.cap is None else max(0, self.cap - self.seats_taken)

    @property
    def percent(self) -> int | None:
        return None if not self.cap else min(100, round(100 * self.seats_taken / self.cap))


@dataclass(frozen=True, slots=True)
class Proposal:
    """An open one-in-one-out proposal: remove ``member_id`` to seat ``for_member_id``."""

    id: int
    group_id: int
    member_id: int
    for_member_id: int
    value: float


@dataclass(frozen=True, slots=True)
class CommunityCapacity:
    policy: str
    cap: int | None  # the spec's cap (None without a spec); groups may set their own
    auto: bool
    groups: tuple[GroupCapacity, ...]
    proposals: tuple[Proposal, ...]


@dataclass(frozen=True, slots=True)
class WaitlistPlace:
    position: int
    member_id: int
    status: str  # waiting | offered (a seat is held for them)
    since: datetime
    notified_at: datetime | None


def effective_caps(conn: Connection, community_ids: list[int]) -> dict[int, int | None]:
    """Each group's cap as admission enforces it (``qunzhu.growth.seat_load.group_cap``),
    for all the communities' groups in one query."""
    if not community_ids:
        return {}
    rows = conn.execute(
        select(Group.id, Group.cap, Community.spec_yaml)
        .join(Community, Community.id == Group.community_id)
        .where(Group.community_id.in_(community_ids))
    ).tuples()
    return {int(gid): group_cap(cap, spec) for gid, cap, spec in rows}


def _per_group(conn: Connection, query: Select[Any]) -> dict[int, int]:
    return {int(g): int(n) for g, n in conn.execute(query).tuples() if g is not None}


def _groups(conn: Connection, community_id: int, only: int | None) -> list[GroupCapacity]:
    query = select(Group.id, Group.platform_group_id, Group.name).where(
        Group.community_id == community_id
    )
    if only is not None:
        query = query.where(Group.id == only)
    rows = conn.execute(query.order_by(Group.id)).tuples().all()
    ids = [int(r[0]) for r in rows]
    if not ids:
        return []
    seats = {
        int(g): int(t)
        for g, t in conn.execute(
            select(GroupSeats.group_id, GroupSeats.taken).where(GroupSeats.group_id.in_(ids))
        ).tuples()
    }
    members = _per_group(
        conn,
        select(Membership.group_id, func.count())
        .where(Membership.group_id.in_(ids), Membership.status == "active")
        .group_by(Membership.group_id),
    )
    waiting = _per_group(
        conn,
        select(WaitlistEntry.group_id, func.count())
        .where(WaitlistEntry.group_id.in_(ids), WaitlistEntry.status == WAITING)
        .group_by(WaitlistEntry.group_id),
    )
    caps = effective_caps(conn, [community_id])
    pending = _per_group(
        conn,
        select(Application.group_id, func.count())
        .where(Application.group_id.in_(ids), Application.status == "pending")
        .group_by(Application.group_id),
    )
    return [
        GroupCapacity(
            group_id=gid,
            platform_group_id=str(pgid),
            name=str(name),
            cap=caps.get(gid),
            seats_taken=seats.get(gid, members.get(gid, 0)),
            members=members.get(gid, 0),
            waitlist=waiting.get(gid, 0),
            pending_applications=pending.get(gid, 0),
        )
        for gid, pgid, name in ((int(r[0]), r[1], r[2]) for r in rows)
    ]


def group_capacity(conn: Connection, community_id: int, group_id: int) -> GroupCapacity:
    """One group's capacity; UnknownGroup when it is not the community's."""
    found = _groups(conn, community_id, group_id)
    if not found:
        raise UnknownGroup(f"group {group_id} is not in this community")
    return found[0]


def community_capacity(conn: Connection, community_id: int) -> CommunityCapacity:
    """Every group's capacity, the spec's size policy, and the open proposals."""
    size = spec_of(conn, community_id).size
    p = EvictionProposal
    proposals = tuple(
        Proposal(id=int(i), group_id=int(g), member_id=int(m), for_member_id=int(f), value=float(v))
        for i, g, m, f, v in conn.execute(
            select(p.id, p.group_id, p.member_id, p.for_member_id, p.value)
            .where(p.community_id == community_id, p.status == "proposed")
            .order_by(p.id)
        ).tuples()
    )
    return CommunityCapacity(
        policy=size.policy,
        cap=size.cap,
        auto=size.auto,
        groups=tuple(_groups(conn, community_id, None)),
        proposals=proposals,
    )


def waitlist(conn: Connection, community_id: int, group_id: int) -> tuple[WaitlistPlace, ...]:
    """The queue of a group in order: those waiting, and those offered a held seat;
    UnknownGroup when the group is not the community's."""
    here = conn.execute(
        select(Group.id).where(Group.id == group_id, Group.community_id == community_id)
    ).scalar()
    if here is None:
        raise UnknownGroup(f"group {group_id} is not in this community")
    w = WaitlistEntry
    rows = conn.execute(
        select(w.member_id, w.status, w.created_at, w.notified_at)
        .where(w.community_id == community_id, w.group_id == group_id, w.status.in_(IN_QUEUE))
        .order_by(w.id)
    ).tuples()
    return tuple(
        WaitlistPlace(position=i, member_id=int(m), status=str(s), since=c, notified_at=n)
        for i, (m, s, c, n) in enumerate(rows, 1)
    )
