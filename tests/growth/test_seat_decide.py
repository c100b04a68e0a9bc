"""The size policy's decisions and the freed seat's, on snapshots built in code: no
database."""

from __future__ import annotations

from dataclasses import replace

from qunzhu.growth.common import Place
from qunzhu.growth.seat_decide import (
    Claim,
    FullGroup,
    LeaveSnapshot,
    OtherGroup,
    Proposal,
    Waiting,
    decide_full,
    decide_leave,
    waitlisted,
)
from qunzhu.spec.positioning import SizePolicy

HERE = Place("test", "acme", "g1", "u100")
HUB = Place("test", "acme", "g1", None)


def _full(**policy: object) -> FullGroup:
    return FullGroup(
        group_id=1, member_id=100, cap=3, policy=SizePolicy(cap=3, **policy), here=HERE, hub=HUB
    )


def test_new_group_routes_to_the_segments_groups_in_order_each_by_a_seat_claim():
    full = replace(
        _full(policy="new_group"),
        others=(
            OtherGroup(2, 5, Place("test", "acme", "g2", "u100")),
            OtherGroup(3, 3, Place("test", "acme", "g3", "u100")),
        ),
    )
    plan = decide_full(full)
    assert [o.claim for o in plan.options] == [Claim("seat", 2, cap=5), Claim("seat", 3, cap=3)]
    first = plan.options[0]
    assert first.outcome == "routed" and first.routed_to == 2
    assert [a.kind for a in first.actions] == ["decline_join", "create_invite_link"]
    assert first.actions[0].detail["to_group"] == "g2" and first.actions[1].group == "g2"
    assert plan.otherwise.outcome == "no_room"
    assert [a.kind for a in plan.otherwise.actions] == ["decline_join", "alert"]
    assert plan.otherwise.actions[1].member is None  # the alert goes to the group's operators


def test_new_group_without_other_groups_asks_for_a_new_group():
    plan = decide_full(_full(policy="new_group"))
    assert plan.options == () and plan.otherwise.outcome == "no_room"
    assert plan.otherwise.actions[1].reason == "open_new_group"


def test_waitlist_joins_the_waitlist_and_the_position_makes_the_notice():
    plan = decide_full(_full(policy="waitlist"))
    assert plan.waitlist and plan.otherwise.outcome == "waitlisted"
    decline, notice = waitlisted(HERE, 4)
    assert decline.detail["position"] == 4 and "4" in (notice.text or "")


def _evicting(auto: bool, values: dict[int, float]) -> FullGroup:
    return replace(_full(policy="one_in_one_out", auto=auto), values=values)


def test_one_in_one_out_proposes_the_lowest_value_member_and_claims_nothing():
    plan = decide_full(_evicting(False, {11: 5.0, 12: 1.0, 13: 1.0, 14: 9.0}))
    (only,) = plan.options
    assert only.claim is None and only.outcome == "proposed"
    assert only.evicted == 12  # of two equally low, the lower id
    assert only.proposal == Proposal(12, 1.0, "proposed")
    assert only.actions[0].kind == "alert" and only.actions[0].detail["remove"] == 12


def test_automatic_one_in_one_out_tries_three_swaps_lowest_value_first():
    plan = decide_full(_evicting(True, {11: 5.0, 12: 1.0, 13: 2.0, 14: 9.0}))
    assert [o.claim for o in plan.options] == [
        Claim("swap", 1, out_member=12),
        Claim("swap", 1, out_member=13),
        Claim("swap", 1, out_member=11),
    ]
    assert all(o.outcome == "swapped" and o.proposal for o in plan.options)
    assert plan.options[0].proposal == Proposal(12, 1.0, "removed")


def test_one_in_one_out_with_everyone_protected_alerts():
    plan = decide_full(_evicting(True, {}))
    assert plan.options == () and plan.otherwise.outcome == "no_room"
    assert plan.otherwise.actions[0].reason == "everyone_protected"


def test_a_leaver_without_a_seat_frees_nothing():
    decision = decide_leave(LeaveSnapshot(1, 100, held_seat=False, waiting=(Waiting(5, 200),)))
    assert not decision.release and decision.offers == ()


def test_a_freed_seat_is_offered_to_the_waitlist_in_order():
    waiting = (Waiting(5, 200), Waiting(6, 201))
    decision = decide_leave(LeaveSnapshot(1, 100, held_seat=True, waiting=waiting))
    assert decision.release and decision.offers == waiting
