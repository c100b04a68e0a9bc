"""Tiers (等级): promotion at once when every criterion of a higher tier holds; demotion only
after staying below ``low_water`` × the current tier's minimums for ``grace_days`` (so a
member on the line does not flap); a locked tier never moves; payment of a tier's plan
grants it.

Pure: :func:`decide_tier` takes the member's standing and state and returns the decision;
:func:`next_tier_needs` says what the next tier still needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from qunzhu.spec.members import PromoteCriteria, Tier

CRITERIA = ("min_value", "min_days_active", "min_tenure_days", "min_referrals")
STANDING_OF = {
    "min_value": "value",
    "min_days_active": "days_active",
    "min_tenure_days": "tenure_days",
    "min_referrals": "referrals",
}


@dataclass(frozen=True, slots=True)
class Standing:
    value: float
    days_active: int
    tenure_days: int
    referrals: int
    plans: frozenset[str] = frozenset()
    moderation_points: float = 0.0


@dataclass(frozen=True, slots=True)
class TierStateIn:
    tier: str | None
    below_since: date | None = None
    locked: bool = False


@dataclass(frozen=True, slots=True)
class TierDecision:
    tier: str
    changed: bool
    below_since: date | None
    reason: str
    source: str = "rule"  # rule | payment | lock
    detail: dict[str, Any] = field(default_factory=dict)


def meets(c: PromoteCriteria | None, s: Standing, scale: float = 1.0) -> bool:
    """All stated criteria hold (numeric minimums scaled by ``scale``)."""
    if c is None:
        return False
    if c.plan is not None and c.plan not in s.plans:
        return False
    if c.max_moderation_points is not None and s.moderation_points > c.max_moderation_points:
        return False
    return all(
        float(getattr(s, STANDING_OF[name])) >= need * scale
        for name, need in c.thresholds().items()
    )


def qualified_index(tiers: list[Tier], s: Standing) -> tuple[int, str]:
    """The highest tier the standing qualifies for, and how (rule or payment)."""
    best, how = 0, "rule"
    for i, tier in enumerate(tiers[1:], start=1):
        if meets(tier.promote, s):
            best = i
            how = "payment" if tier.promote and tier.promote.plan else "rule"
    return best, how


def decide_tier(tiers: list[Tier], s: Standing, state: TierStateIn, today: date) -> TierDecision:
    ids = [t.id for t in tiers]
    target, how = qualified_index(tiers, s)
    if state.tier is None or state.tier not in ids:
        return TierDecision(ids[target], True, None, f"initial tier {ids[target]}", how)
    if state.locked:
        return TierDecision(state.tier, False, None, "locked by an operator", "lock")
    current = ids.index(state.tier)
    if target > current:
        return TierDecision(
            ids[target], True, None, f"promoted: meets every criterion of {ids[target]}", how
        )
    if target == current:
        return TierDecision(state.tier, False, None, "meets the criteria of the current tier")
    tier = tiers[current]
    if not tier.demotes or tier.promote is None:
        return TierDecision(state.tier, False, None, "this tier is not demoted automatically")
    assert tier.demote is not None
    if meets(tier.promote, s, tier.demote.low_water):
        return TierDecision(
            state.tier,
            False,
            None,
            f"below the promotion line but above the low-water mark ({tier.demote.low_water:.0%})",
        )
    since = state.below_since or today
    waited = (today - since).days
    if waited < tier.demote.grace_days:
        return TierDecision(
            state.tier,
            False,
            since,
            f"below the low-water mark for {waited} of {tier.demote.grace_days} grace days",
        )
    return TierDecision(
        ids[target],
        True,
        None,
        f"demoted: below {tier.demote.low_water:.0%} of {state.tier}'s minimums "
        f"for {waited} days (grace {tier.demote.grace_days})",
    )


def next_tier_needs(tiers: list[Tier], current: str | None, s: Standing) -> dict[str, Any] | None:
    """What the tier above the current one still needs, criterion by criterion."""
    ids = [t.id for t in tiers]
    at = ids.index(current) if current in ids else 0
    for tier in tiers[at + 1 :]:
        c = tier.promote
        if c is None:
            continue
        needs: list[dict[str, Any]] = []
        for name, need in c.thresholds().items():
            have = float(getattr(s, STANDING_OF[name]))
            needs.append(
                {
                    "criterion": name,
                    "need": need,
                    "have": round(have, 2),
                    "missing": round(max(0.0, need - have), 2),
                }
            )
        if c.plan is not None:
            needs.append(
                {
                    "criterion": "plan",
                    "need": c.plan,
                    "have": sorted(s.plans),
                    "missing": 0 if c.plan in s.plans else 1,
                }
            )
        if c.max_moderation_points is not None:
            needs.append(
                {
                    "criterion": "max_moderation_points",
                    "need": c.max_moderation_points,
                    "have": s.moderation_points,
                    "missing": max(0.0, s.moderation_points - c.max_moderation_points),
                }
            )
        return {
            "tier": tier.id,
            "name_zh": tier.name_zh,
            "name_en": tier.name_en,
            "needs": needs,
            "ready": all(n["missing"] == 0 for n in needs),
        }
    return None
