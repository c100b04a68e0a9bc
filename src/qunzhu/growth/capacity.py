"""Capacity (规模): a join to a capped group takes a seat, or meets the spec's policy.

``new_group``       route to the next group of the segment with a free seat, or ask an
                    operator to open one;
``waitlist``        queue with a position (候补), and offer the seat when one frees;
``one_in_one_out``  (一进一出) propose the lowest-value unprotected member, or remove them
                    when the spec says ``auto``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from qunzhu import events as ev
from qunzhu.growth.common import GrowthError, action, parsed_spec, place_of
from qunzhu.growth.seats import claim_seat, ensure_seats, release_seat, seat_holders, swap_seat
from qunzhu.growth.value import value_of
from qunzhu.spec.positioning import SizePolicy
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.growth import EvictionProposal, MemberTag, WaitlistEntry
from qunzhu.store.intelligence import RoleAssignment, TierState
from qunzhu.store.models import Community, Group, Member


@dataclass
class Admission:
    outcome: str  # uncapped | seated | routed | waitlisted | proposed | swapped | no_room
    group_id: int
    position: int | None = None
    routed_to: int | None = None
    evicted: int | None = None
    actions: list[ev.Action] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "group_id": self.group_id,
            "position": self.position,
            "routed_to": self.routed_to,
            "evicted": self.evicted,
            "actions": [a.kind for a in self.actions],
        }


def size_policy(conn: Connection, group_id: int) -> tuple[int, CommunitySpec, int | None]:
    """The group's community, its spec, and the group's cap: the group's own, else the
    spec's (a community that wrote no spec has only the caps set on groups)."""
    row = conn.execute(
        select(Group.community_id, Group.cap, Community.spec_yaml)
        .join(Community, Community.id == Group.community_id)
        .where(Group.id == group_id)
    ).one()
    spec = parsed_spec(row.spec_yaml or "")
    cap = row.cap if row.cap is not None else (spec.size.cap if row.spec_yaml else None)
    return int(row.community_id), spec, cap


def _segment_groups(conn: Connection, spec: CommunitySpec, group_id: int) -> list[int]:
    """The other groups of this group's segment, in the spec's order."""
    g = conn.execute(select(Group).where(Group.id == group_id)).one()
    for seg in spec.segments:
        if g.platform_group_id in seg.groups or g.segment == seg.id:
            ids = []
            for pgid in seg.groups:
                found = conn.execute(
                    select(Group.id).where(
                        Group.community_id == g.community_id, Group.platform_group_id == pgid
                    )
                ).scalar()
                if found is not None and found != group_id:
                    ids.append(int(found))
            return ids
    if g.segment:
        return [
            int(i)
            for (i,) in conn.execute(
                select(Group.id)
                .where(
                    Group.community_id == g.community_id,
                    Group.segment == g.segment,
                    Group.id != group_id,
                )
                .order_by(Group.id)
            )
        ]
    return []


def is_protected(
    conn: Connection, policy: SizePolicy, group_id: int, member_ids: list[int]
) -> set[int]:
    """Members never removed: flagged protected, or named in ``size.protected`` by id,
    tier, role or tag (owner, admin, mentor…)."""
    names = set(policy.protected)
    out = {
        int(m)
        for (m,) in conn.execute(
            select(Member.id).where(Member.id.in_(member_ids), Member.protected.is_(True))
        )
    }
    out |= {m for m in member_ids if str(m) in names}
    if names:
        out |= {
            int(m)
            for (m,) in conn.execute(
                select(TierState.member_id).where(
                    TierState.member_id.in_(member_ids), TierState.tier.in_(names)
                )
            )
        }
        out |= {
            int(m)
            for (m,) in conn.execute(
                select(RoleAssignment.member_id).where(
                    RoleAssignment.group_id == group_id,
                    RoleAssignment.member_id.in_(member_ids),
                    RoleAssignment.role.in_(names),
                )
            )
        }
        t = table_of(MemberTag)
        out |= {
            int(m)
            for (m,) in conn.execute(
                select(t.c.member_id).where(t.c.member_id.in_(member_ids), t.c.tag.in_(names))
            )
        }
    return out


def admit(
    conn: Connection,
    group_id: int,
    member_id: int,
    *,
    exclude: set[int] | None = None,
    now: datetime | None = None,
) -> Admission:
    """Give ``member_id`` a seat in ``group_id`` or apply the size policy; in the caller's
    transaction, so the decision and its effects commit together."""
    now = now or datetime.now(UTC)
    community_id, spec, cap = size_policy(conn, group_id)
    if cap is None:
        return Admission("uncapped", group_id)
    ensure_seats(conn, group_id, cap, exclude or {member_id}, community_id)
    if claim_seat(conn, group_id, member_id, community_id):
        _mark_waitlist(conn, group_id, member_id, "admitted")
        return Admission("seated", group_id)
    policy = spec.size
    here = place_of(conn, group_id, member_id)
    if policy.policy == "new_group":
        for other in _segment_groups(conn, spec, group_id):
            other_cap = size_policy(conn, other)[2] or policy.cap
            ensure_seats(conn, other, other_cap, (), community_id)
            if claim_seat(conn, other, member_id, community_id):
                there = place_of(conn, other, member_id)
                return Admission(
                    "routed",
                    group_id,
                    routed_to=other,
                    actions=[
                        action(
                            "decline_join", here, reason="group full: routed", to_group=there.group
                        ),
                        action(
                            "create_invite_link",
                            there,
                            reason="routed from a full group",
                            member_limit=1,
                        ),
                    ],
                )
        return Admission(
            "no_room",
            group_id,
            actions=[
                action("decline_join", here, reason="group full"),
                action(
                    "alert",
                    place_of(conn, group_id, None),
                    reason="open_new_group",
                    text=f"group {here.group} is full (cap {cap}) and its segment has no free "
                    "seat: open a new group (群满，请开新群)",
                ),
            ],
        )
    if policy.policy == "waitlist":
        position = join_waitlist(conn, community_id, group_id, member_id, now)
        return Admission(
            "waitlisted",
            group_id,
            position=position,
            actions=[
                action("decline_join", here, reason="group full: waitlisted", position=position),
                action(
                    "send_message",
                    here,
                    reason="waitlist",
                    text=f"群已满，您在候补名单第 {position} 位 (waitlist position {position})",
                ),
            ],
        )
    return _one_in_one_out(conn, community_id, policy, group_id, member_id, now)


def _one_in_one_out(
    conn: Connection,
    community_id: int,
    policy: SizePolicy,
    group_id: int,
    member_id: int,
    now: datetime,
) -> Admission:
    holders = [m for m in seat_holders(conn, group_id) if m != member_id]
    safe = is_protected(conn, policy, group_id, holders)
    values = value_of(conn, [m for m in holders if m not in safe], now.date())
    ranked = sorted(values, key=lambda m: (values[m], m))
    t = table_of(EvictionProposal)
    for candidate in ranked[:3]:  # a racing newcomer may have taken the first one's seat
        if policy.auto and not swap_seat(conn, group_id, candidate, member_id):
            continue
        status = "removed" if policy.auto else "proposed"
        insert_ignoring_conflicts(
            conn,
            t,
            [
                {
                    "community_id": community_id,
                    "group_id": group_id,
                    "member_id": candidate,
                    "for_member_id": member_id,
                    "value": values[candidate],
                    "status": status,
                    "created_at": now,
                    "decided_at": now if policy.auto else None,
                }
            ],
        )
        out = place_of(conn, group_id, candidate)
        if policy.auto:
            return Admission(
                "swapped",
                group_id,
                evicted=candidate,
                actions=[action("remove", out, reason="one_in_one_out", value=values[candidate])],
            )
        return Admission(
            "proposed",
            group_id,
            evicted=candidate,
            actions=[
                action(
                    "alert",
                    place_of(conn, group_id, None),
                    reason="one_in_one_out_proposal",
                    text=f"一进一出: remove member {candidate} "
                    f"(value {values[candidate]:.1f}) to seat member {member_id}?",
                    remove=candidate,
                    admit=member_id,
                )
            ],
        )
    return Admission(
        "no_room",
        group_id,
        actions=[
            action(
                "alert",
                place_of(conn, group_id, None),
                reason="everyone_protected",
                text="group full and every member is protected (群满且全员受保护)",
            )
        ],
    )


def decide_eviction(
    conn: Connection, community_id: int, proposal_id: int, approve: bool
) -> list[ev.Action]:
    """An operator's answer to a one-in-one-out proposal."""
    t = table_of(EvictionProposal)
    p = conn.execute(
        select(t).where(t.c.id == proposal_id, t.c.community_id == community_id)
    ).one_or_none()
    if p is None:
        raise GrowthError("unknown_proposal", f"proposal {proposal_id} does not exist")
    done = conn.execute(
        update(t)
        .where(t.c.id == p.id, t.c.status == "proposed")
        .values(status="removed" if approve else "dismissed", decided_at=datetime.now(UTC))
    )
    if not done.rowcount:
        raise GrowthError("wrong_status", f"proposal {proposal_id} is {p.status} already")
    if approve and swap_seat(conn, p.group_id, p.member_id, p.for_member_id):
        return [action("remove", place_of(conn, p.group_id, p.member_id), reason="one_in_one_out")]
    return [
        action("decline_join", place_of(conn, p.group_id, p.for_member_id), reason="group full")
    ]


def join_waitlist(
    conn: Connection, community_id: int, group_id: int, member_id: int, now: datetime
) -> int:
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


def _mark_waitlist(conn: Connection, group_id: int, member_id: int, status: str) -> None:
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


def on_leave(
    conn: Connection, group_id: int, member_id: int, now: datetime | None = None
) -> list[ev.Action]:
    """Free the seat; the first on the waitlist gets it held for them and a notice."""
    now = now or datetime.now(UTC)
    _mark_waitlist(conn, group_id, member_id, "left")
    if not release_seat(conn, group_id, member_id):
        return []
    t = table_of(WaitlistEntry)
    for entry_id, waiting in conn.execute(
        select(t.c.id, t.c.member_id)
        .where(t.c.group_id == group_id, t.c.status == "waiting")
        .order_by(t.c.id)
        .limit(5)
    ).all():
        taken = conn.execute(
            update(t)
            .where(t.c.id == entry_id, t.c.status == "waiting")
            .values(status="offered", notified_at=now)
        )
        if not taken.rowcount:
            continue
        if not claim_seat(conn, group_id, int(waiting)):  # someone else was quicker
            conn.execute(
                update(t).where(t.c.id == entry_id).values(status="waiting", notified_at=None)
            )
            return []
        here = place_of(conn, group_id, int(waiting))
        return [
            action("approve_join", here, reason="seat freed"),
            action(
                "send_message",
                here,
                reason="seat freed",
                text="有空位了，欢迎入群 (a seat is free: you may join now)",
            ),
        ]
    return []
