"""The pure referral engine: qualification, rings, fraud signals and K-factor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qunzhu.growth.referral_rules import (
    InviteeFacts,
    fraud_signals,
    k_factor,
    members_in_rings,
    qualify,
)
from qunzhu.spec.growth import FraudThresholds, Qualification

T0 = datetime(2025, 1, 1, tzinfo=UTC)
Q = Qualification(stay_days=7, must_speak=True)


def facts(
    n: int = 1,
    *,
    left: float | None = None,
    spoke: bool = True,
    status="pending",
    inviter: int = 1,
    rejoin: bool = False,
    value: float = 1.0,
) -> InviteeFacts:
    return InviteeFacts(
        referral_id=n,
        inviter=inviter,
        invitee=100 + n,
        joined_at=T0,
        left_at=T0 + timedelta(days=left) if left is not None else None,
        spoke=spoke,
        value=value,
        rejoin=rejoin,
        status=status,
    )


def test_qualification_paths():
    later = T0 + timedelta(days=8)
    assert qualify(facts(), Q, 30, T0 + timedelta(days=3)).reason == "inside_stay_window"
    assert qualify(facts(), Q, 30, later).status == "qualified"
    assert qualify(facts(spoke=False), Q, 30, later).reason == "waiting_to_speak"
    assert qualify(facts(left=2), Q, 30, later).reason == "left_early"
    assert qualify(facts(inviter=101), Q, 30, later).reason == "self_invite"
    assert qualify(facts(rejoin=True), Q, 30, later).reason == "rejoin"
    assert qualify(facts(left=10), Q, 30, later + timedelta(days=5)).status == "clawed_back"
    assert qualify(facts(left=10, status="qualified"), Q, 30, later).status == "clawed_back"
    assert qualify(facts(left=40, status="qualified"), Q, 30, later).status == "qualified"
    assert qualify(facts(status="disqualified"), Q, 30, later).status == "disqualified"
    rich = Qualification(stay_days=7, must_speak=False, min_value=5)
    assert qualify(facts(value=1), rich, 30, later).reason == "below_min_value"
    assert qualify(facts(spoke=False), None, 0, T0).status == "qualified"  # no rule: every join


def test_rings_are_cycles_not_trees():
    assert members_in_rings([(1, 2), (2, 3), (3, 1), (3, 4), (5, 5)]) == {1, 2, 3}
    assert members_in_rings([(1, 2), (1, 3), (2, 4)]) == set()
    assert members_in_rings([(1, 2), (2, 1), (3, 4), (4, 5), (5, 3)]) == {1, 2, 3, 4, 5}
    chain = [(i, i + 1) for i in range(50_000)]  # deep: no recursion limit
    assert members_in_rings(chain) == set()
    assert members_in_rings([*chain, (50_000, 0)]) == set(range(50_001))


def test_fraud_signals():
    t = FraudThresholds(max_invites_per_day=3, max_quick_leave_share=0.5, max_silent_share=0.5)
    now = T0 + timedelta(days=10)
    clean = [facts(i) for i in range(3)]
    assert not fraud_signals(clean, t, 7, now, False, 0)
    burst = fraud_signals([facts(i) for i in range(4)], t, 7, now, False, 0)
    assert burst.found == {"burst": 4}
    leavers = fraud_signals([facts(i, left=1) for i in range(2)] + [facts(9)], t, 7, now, False, 0)
    assert leavers.found["quick_leave_share"] == 0.667
    silent = fraud_signals([facts(i, spoke=False) for i in range(3)], t, 7, now, False, 0)
    assert silent.found == {"silent_share": 1.0}
    assert fraud_signals(clean[:2], t, 7, now, True, 1).found == {
        "ring": True,
        "shared_device_or_address": 1,
    }
    two_silent = fraud_signals([facts(i, spoke=False) for i in range(2)], t, 7, now, False, 0)
    assert not two_silent  # too few to judge


def test_k_factor():
    assert k_factor(30, 12, 100) == {"k_joined": 0.3, "k_qualified": 0.12}
    assert k_factor(3, 1, 0) == {"k_joined": None, "k_qualified": None}
