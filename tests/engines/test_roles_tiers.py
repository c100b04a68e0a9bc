"""Roles from the spec's thresholds, and tiers with promotion, hysteresis and locks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from qunzhu.engines.roles import MemberWindow, assign_role, strongest
from qunzhu.engines.tiers import Standing, TierStateIn, decide_tier, next_tier_needs
from qunzhu.spec.members import RoleThresholds, Tier

T = RoleThresholds()


@pytest.mark.parametrize(
    ("window", "role"),
    [
        (MemberWindow(1, 200, 40, 90.0, 12), "kol"),
        (MemberWindow(1, 200, 40, 90.0, 3), "core"),
        (MemberWindow(1, 10, 40, 20.0, 3), "newcomer"),
        (MemberWindow(1, 30, 10, 8.0, 1), "active"),
        (MemberWindow(1, 300, 2, 0.5, 0), "lurker"),
        (MemberWindow(1, 300, 50, 200.0, 20, moderation_points=6), "disruptor"),
    ],
)
def test_roles_follow_the_spec_thresholds(window, role):
    decision = assign_role(window, T)
    assert decision.role == role
    assert decision.reason["limits"]  # every role says which limits decided it
    assert decision.text("en") and decision.text("zh-CN")


def test_a_lower_kol_threshold_in_the_spec_makes_a_kol():
    window = MemberWindow(1, 200, 40, 50.0, 6)
    assert assign_role(window, T).role == "core"
    lower = RoleThresholds(kol_min_value=40, kol_min_distinct_repliers=5)
    assert assign_role(window, lower).role == "kol"


def test_reason_text_names_the_numbers():
    text = assign_role(MemberWindow(1, 300, 2, 0.5, 0), T).text("en")
    assert "2 messages" in text and "lurker" in text


def test_the_community_shows_the_strongest_role():
    assert strongest(["lurker", "kol", "active"]) == "kol"
    assert strongest(["active", "disruptor"]) == "disruptor"


TIERS = [
    Tier(id="member", name_zh="成员"),
    Tier(
        id="silver",
        name_zh="白银",
        promote={"min_value": 50, "min_days_active": 10},
        demote={"low_water": 0.9, "grace_days": 14},
    ),
    Tier(id="gold", name_zh="黄金", promote={"min_value": 200, "min_referrals": 5}, demote="never"),
    Tier(id="vip", name_zh="会员", promote={"plan": "annual"}),
]
DAY = date(2026, 5, 1)


def standing(value: float, days: int = 20, referrals: int = 0, plans: frozenset[str] = frozenset()):
    return Standing(
        value=value, days_active=days, tenure_days=100, referrals=referrals, plans=plans
    )


def test_promotion_happens_at_once():
    d = decide_tier(TIERS, standing(60), TierStateIn("member"), DAY)
    assert (d.tier, d.changed) == ("silver", True)


def test_paying_for_a_plan_grants_its_tier():
    d = decide_tier(TIERS, standing(0, plans=frozenset({"annual"})), TierStateIn("member"), DAY)
    assert (d.tier, d.source) == ("vip", "payment")


def test_above_the_low_water_mark_nobody_is_demoted():
    d = decide_tier(TIERS, standing(46), TierStateIn("silver"), DAY)  # 46 >= 0.9 * 50
    assert (d.tier, d.changed, d.below_since) == ("silver", False, None)


def test_demotion_waits_for_the_grace_period_below_the_low_water_mark():
    first = decide_tier(TIERS, standing(40), TierStateIn("silver"), DAY)
    assert (first.tier, first.changed, first.below_since) == ("silver", False, DAY)
    later = DAY + timedelta(days=13)
    still = decide_tier(TIERS, standing(40), TierStateIn("silver", first.below_since), later)
    assert not still.changed and "13 of 14" in still.reason
    after = decide_tier(
        TIERS, standing(40), TierStateIn("silver", first.below_since), DAY + timedelta(days=14)
    )
    assert (after.tier, after.changed) == ("member", True)


def test_recovering_before_the_grace_ends_clears_the_clock():
    d = decide_tier(TIERS, standing(55), TierStateIn("silver", DAY), DAY + timedelta(days=5))
    assert d.below_since is None and d.tier == "silver"


def test_a_tier_with_demote_never_is_kept_and_a_lock_holds():
    assert decide_tier(TIERS, standing(0), TierStateIn("gold"), DAY).tier == "gold"
    locked = decide_tier(TIERS, standing(500, referrals=9), TierStateIn("member", locked=True), DAY)
    assert (locked.tier, locked.changed, locked.source) == ("member", False, "lock")


def test_next_tier_says_what_is_still_missing():
    needs = next_tier_needs(TIERS, "silver", standing(120, referrals=2))
    assert needs is not None and needs["tier"] == "gold" and not needs["ready"]
    missing = {n["criterion"]: n["missing"] for n in needs["needs"]}
    assert missing == {"min_value": 80, "min_referrals": 3}
