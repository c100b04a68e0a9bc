"""Capacity (规模): a join to a capped group takes a seat, or meets the spec's policy.

``new_group``       route to the next group of the segment with a free seat, or ask an
                    operator to open one;
``waitlist``        queue with a position (候补), and offer the seat when one frees;
``one_in_one_out``  (一进一出) propose the lowest-value unprotected member, or remove them
                    when the spec says ``auto``.

The policy decides in :mod:`qunzhu.growth.seat_decide` from a snapshot
(:mod:`qunzhu.growth.seat_load`); this module writes what it decided, taking the first
option whose conditional seat write wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from qunzhu import events as ev
from qunzhu.growth.common import GrowthError, action, place_of
from qunzhu.growth.seat_decide import (
    Claim,
    FullGroup,
    Option,
    decide_full,
    decide_leave,
    removal,
    seat_freed,
    waitlisted,
)
from qunzhu.growth.seat_load import is_protected, load_full_group, load_leave, size_policy
from qunzhu.growth.seats import claim_seat, ensure_seats, release_seat, swap_seat
from qunzhu.growth.waitlist import (
    join_waitlist,
    mark_waitlist,
    offer_seat,
    waitlist_position,
    withdraw_offer,
)
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.growth import EvictionProposal

__all__ = [
    "Admission",
    "admit",
    "decide_eviction",
    "is_protected",
    "join_waitlist",
    "on_leave",
    "size_policy",
    "waitlist_position",
]


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
    # the group's own seat first: only the conditional write knows whether one is free
    ensure_seats(conn, group_id, cap, exclude or {member_id}, community_id)
    if claim_seat(conn, group_id, member_id, community_id):
        mark_waitlist(conn, group_id, member_id, "admitted")
        return Admission("seated", group_id)
    full = load_full_group(conn, spec, group_id, member_id, cap, now)
    plan = decide_full(full)
    if plan.waitlist:
        position = join_waitlist(conn, community_id, group_id, member_id, now)
        return Admission(
            "waitlisted", group_id, position=position, actions=list(waitlisted(full.here, position))
        )
    for option in plan.options:
        if option.claim is None or _claimed(conn, community_id, member_id, option.claim):
            return _write_option(conn, community_id, full, option, now)
    return _write_option(conn, community_id, full, plan.otherwise, now)


def _claimed(conn: Connection, community_id: int, member_id: int, claim: Claim) -> bool:
    match claim.kind:
        case "seat":
            assert claim.cap is not None
            ensure_seats(conn, claim.group_id, claim.cap, (), community_id)
            return claim_seat(conn, claim.group_id, member_id, community_id)
        case "swap":
            assert claim.out_member is not None
            return swap_seat(conn, claim.group_id, claim.out_member, member_id)


def _write_option(
    conn: Connection, community_id: int, full: FullGroup, option: Option, now: datetime
) -> Admission:
    actions = list(option.actions)
    proposal = option.proposal
    if proposal is not None:
        removed = proposal.status == "removed"
        insert_ignoring_conflicts(
            conn,
            table_of(EvictionProposal),
            [
                {
                    "community_id": community_id,
                    "group_id": full.group_id,
                    "member_id": proposal.member_id,
                    "for_member_id": full.member_id,
                    "value": proposal.value,
                    "status": proposal.status,
                    "created_at": now,
                    "decided_at": now if removed else None,
                }
            ],
        )
        if removed:
            out = place_of(conn, full.group_id, proposal.member_id)
            actions.append(removal(out, proposal.value))
    return Admission(
        option.outcome,
        full.group_id,
        routed_to=option.routed_to,
        evicted=option.evicted,
        actions=actions,
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


def on_leave(
    conn: Connection, group_id: int, member_id: int, now: datetime | None = None
) -> list[ev.Action]:
    """Free the seat; the first on the waitlist gets it held for them and a notice."""
    now = now or datetime.now(UTC)
    mark_waitlist(conn, group_id, member_id, "left")
    decision = decide_leave(load_leave(conn, group_id, member_id))
    if not decision.release or not release_seat(conn, group_id, member_id):
        return []
    for offer in decision.offers:
        if not offer_seat(conn, offer.entry_id, now):
            continue  # another transaction offered it
        if not claim_seat(conn, group_id, offer.member_id):  # someone else was quicker
            withdraw_offer(conn, offer.entry_id)
            return []
        return list(seat_freed(place_of(conn, group_id, offer.member_id)))
    return []
