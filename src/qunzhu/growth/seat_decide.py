"""What a full group does with a newcomer, and who gets a freed seat: pure decisions.

A seat changes hands only through a conditional write (:mod:`qunzhu.growth.seats`) that can
lose a race to another transaction. So a decision here is a list of :class:`Option` values
in order of preference, each with the claim it needs; the writer
(:mod:`qunzhu.growth.capacity`) takes the first option whose claim succeeds, and
``otherwise`` when none does. Nothing here reads or writes the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, assert_never

from qunzhu import events as ev
from qunzhu.growth.common import Place, action
from qunzhu.spec.positioning import SizePolicy

Outcome = Literal["uncapped", "seated", "routed", "waitlisted", "proposed", "swapped", "no_room"]


@dataclass(frozen=True, slots=True)
class Claim:
    """A conditional write the option needs: a seat in ``group_id`` (its counter started at
    ``cap`` first), or ``swap``: the seat of ``out_member`` handed over (一进一出)."""

    kind: Literal["seat", "swap"]
    group_id: int
    cap: int | None = None
    out_member: int | None = None


@dataclass(frozen=True, slots=True)
class Proposal:
    """An ``eviction_proposals`` row: remove ``member_id`` to seat the newcomer."""

    member_id: int
    value: float
    status: Literal["proposed", "removed"]


@dataclass(frozen=True, slots=True)
class Option:
    outcome: Outcome
    actions: tuple[ev.Action, ...] = ()
    claim: Claim | None = None
    routed_to: int | None = None
    evicted: int | None = None
    proposal: Proposal | None = None


@dataclass(frozen=True, slots=True)
class OtherGroup:
    """A group of the same segment a newcomer may be routed to."""

    group_id: int
    cap: int
    place: Place  # the newcomer there


@dataclass(frozen=True, slots=True)
class FullGroup:
    """What the size policy needs to know once the group's own seat was refused."""

    group_id: int
    member_id: int
    cap: int
    policy: SizePolicy
    here: Place  # the newcomer in this group
    hub: Place  # the group itself, for alerts to its operators
    others: tuple[OtherGroup, ...] = ()  # new_group: the segment's other groups, in order
    values: dict[int, float] = field(default_factory=dict)  # one_in_one_out: unprotected holders


@dataclass(frozen=True, slots=True)
class FullPlan:
    options: tuple[Option, ...]
    otherwise: Option
    waitlist: bool = False  # join the waitlist; the position makes the actions (waitlisted)


EVICTION_TRIES = 3  # a racing newcomer may have taken the first candidate's seat


def decide_full(full: FullGroup) -> FullPlan:
    here, hub = full.here, full.hub
    match full.policy.policy:
        case "new_group":
            routes = tuple(
                Option(
                    "routed",
                    (
                        action(
                            "decline_join",
                            here,
                            reason="group full: routed",
                            to_group=o.place.group,
                        ),
                        action(
                            "create_invite_link",
                            o.place,
                            reason="routed from a full group",
                            member_limit=1,
                        ),
                    ),
                    claim=Claim("seat", o.group_id, cap=o.cap),
                    routed_to=o.group_id,
                )
                for o in full.others
            )
            no_room = Option(
                "no_room",
                (
                    action("decline_join", here, reason="group full"),
                    action(
                        "alert",
                        hub,
                        reason="open_new_group",
                        text=f"group {here.group} is full (cap {full.cap}) and its segment has "
                        "no free seat: open a new group (群满，请开新群)",
                    ),
                ),
            )
            return FullPlan(routes, no_room)
        case "waitlist":
            return FullPlan((), Option("waitlisted"), waitlist=True)
        case "one_in_one_out":
            return FullPlan(_evictions(full), _everyone_protected(hub))
        case unknown:
            assert_never(unknown)


def _evictions(full: FullGroup) -> tuple[Option, ...]:
    values = full.values
    ranked = sorted(values, key=lambda m: (values[m], m))
    if not full.policy.auto:
        return tuple(
            Option(
                "proposed",
                (
                    action(
                        "alert",
                        full.hub,
                        reason="one_in_one_out_proposal",
                        text=f"一进一出: remove member {m} "
                        f"(value {values[m]:.1f}) to seat member {full.member_id}?",
                        remove=m,
                        admit=full.member_id,
                    ),
                ),
                evicted=m,
                proposal=Proposal(m, values[m], "proposed"),
            )
            for m in ranked[:1]
        )
    return tuple(
        Option(
            "swapped",
            (),  # the remove action names the evicted member where the platform knows them
            claim=Claim("swap", full.group_id, out_member=m),
            evicted=m,
            proposal=Proposal(m, values[m], "removed"),
        )
        for m in ranked[:EVICTION_TRIES]
    )


def _everyone_protected(hub: Place) -> Option:
    return Option(
        "no_room",
        (
            action(
                "alert",
                hub,
                reason="everyone_protected",
                text="group full and every member is protected (群满且全员受保护)",
            ),
        ),
    )


def removal(out: Place, value: float) -> ev.Action:
    """The platform action of an automatic one-in-one-out."""
    return action("remove", out, reason="one_in_one_out", value=value)


def waitlisted(here: Place, position: int) -> tuple[ev.Action, ...]:
    return (
        action("decline_join", here, reason="group full: waitlisted", position=position),
        action(
            "send_message",
            here,
            reason="waitlist",
            text=f"群已满，您在候补名单第 {position} 位 (waitlist position {position})",
        ),
    )


@dataclass(frozen=True, slots=True)
class Waiting:
    entry_id: int
    member_id: int


@dataclass(frozen=True, slots=True)
class LeaveSnapshot:
    group_id: int
    member_id: int
    held_seat: bool
    waiting: tuple[Waiting, ...] = ()  # the head of the waitlist, oldest first


@dataclass(frozen=True, slots=True)
class LeaveDecision:
    release: bool  # the leaver's seat is freed
    offers: tuple[Waiting, ...] = ()  # offered the seat in turn, until one offer holds


def decide_leave(snap: LeaveSnapshot) -> LeaveDecision:
    if not snap.held_seat:
        return LeaveDecision(release=False)
    return LeaveDecision(release=True, offers=snap.waiting)


def seat_freed(here: Place) -> tuple[ev.Action, ...]:
    return (
        action("approve_join", here, reason="seat freed"),
        action(
            "send_message",
            here,
            reason="seat freed",
            text="有空位了，欢迎入群 (a seat is free: you may join now)",
        ),
    )
