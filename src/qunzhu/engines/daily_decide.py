"""The daily recompute's decisions, pure: snapshots in, dataclasses out, nothing read or
written here (:mod:`qunzhu.engines.recompute` loads and :mod:`qunzhu.engines.daily_writes`
writes). The row dataclasses are not frozen: one is made per member and day, and a frozen
one costs several times as much to build. Treat them as read-only.

- :func:`decide_roles`: each member's role in each group, and which roles changed;
- :func:`decide_health`: each group's health, and the alerts for lines crossed;
- :func:`decide_values_and_tiers`: each member's value, and their tier.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from qunzhu.engines.daily import DayView
from qunzhu.engines.health import HealthConfig, HealthResult, compute_health
from qunzhu.engines.snapshot import Membership_, MemberTotals
from qunzhu.engines.tiers import Standing, TierDecision, TierStateIn, decide_tier
from qunzhu.engines.value import decayed_sum
from qunzhu.spec.members import RoleTargets, Tier


@dataclass(slots=True)
class RoleRow:
    """A member's role in a group on the day; ``previous`` is what it was before (None:
    no role yet), and ``changed`` says whether the history gets a row."""

    group_id: int
    member_id: int
    role: str
    since: date
    value: float  # in the role window, rounded
    reason: dict[str, Any]
    previous: str | None
    changed: bool


def decide_roles(
    view: DayView, before: dict[tuple[int, int], tuple[str, date]], day: date
) -> list[RoleRow]:
    """``before``: (group, member) → (role, since) as stored before this run."""
    rows: list[RoleRow] = []
    for (g, m), (decision, value) in view.roles.items():
        old = before.get((g, m))
        same = old is not None and old[0] == decision.role
        rows.append(
            RoleRow(
                g,
                m,
                decision.role,
                old[1] if same and old is not None else day,
                round(value, 3),
                decision.reason,
                old[0] if old is not None else None,
                not same,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class GroupBefore:
    """A group's health the day before: what tells a line crossed from one stayed under."""

    death_risk: float
    value_per_day: float
    living_threshold: float


@dataclass(slots=True)
class HealthRow:
    group_id: int
    members: int
    result: HealthResult


@dataclass(slots=True)
class Alert:
    group_id: int
    kind: str  # death_risk | below_living
    message: str
    detail: dict[str, Any]


@dataclass
class HealthOutcome:
    rows: list[HealthRow] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def decide_health(
    view: DayView,
    targets: RoleTargets,
    cfg: HealthConfig,
    before: dict[int, GroupBefore],
    alerted: set[tuple[int, str]],
) -> HealthOutcome:
    """``alerted``: (group, kind) of alerts in the quiet days before ``view.day`` — a group
    hovering at a line does not alert every other day."""
    out = HealthOutcome()
    for g, snap in view.groups.items():
        h = compute_health(snap, targets, cfg)
        out.rows.append(HealthRow(g, snap.members, h))
        out.alerts += _alerts(g, snap.name, h, before.get(g), cfg, alerted)
    return out


def _alerts(
    g: int,
    name: str,
    h: HealthResult,
    before: GroupBefore | None,
    cfg: HealthConfig,
    alerted: set[tuple[int, str]],
) -> list[Alert]:
    was_risk = before.death_risk if before else 0.0
    was_living = before is None or before.value_per_day >= before.living_threshold
    found: list[tuple[str, str]] = []
    if h.death_risk >= cfg.dying_risk > was_risk and (g, "death_risk") not in alerted:
        top = "; ".join(r["en"] for r in h.reasons[:2])
        found.append(
            ("death_risk", f"{name}: death risk {h.death_risk:.0f} ≥ {cfg.dying_risk:.0f} ({top})")
        )
    if h.below_living and was_living and (g, "below_living") not in alerted:
        found.append(
            (
                "below_living",
                f"{name}: value {h.value_per_day:.1f}/day fell below the "
                f"living threshold {h.living_threshold:.1f}",
            )
        )
    detail = {"death_risk": h.death_risk, "reasons": [r["code"] for r in h.reasons]}
    return [Alert(g, kind, text[:500], detail) for kind, text in found]


@dataclass(slots=True)
class ValueRow:
    """A member's value on the day: decayed, and the raw sums it comes from."""

    member_id: int
    value: float  # decayed, rounded
    raw_value: float
    messages: int
    days_active: int


@dataclass(slots=True)
class TierRow:
    """A member's tier decision; ``stored`` is their tier state before (None: none yet)."""

    member_id: int
    decision: TierDecision
    stored: TierStateIn | None

    @property
    def new(self) -> bool:
        return self.stored is None

    @property
    def moves(self) -> bool:
        """The tier state row changes: new, a new tier, or the grace clock moved."""
        current = self.stored or TierStateIn(None)
        return (
            self.stored is None
            or self.decision.changed
            or self.decision.below_since != current.below_since
        )


@dataclass
class ValuesAndTiers:
    values: list[ValueRow] = field(default_factory=list)
    tiers: list[TierRow] = field(default_factory=list)


def decide_values_and_tiers(
    totals: MemberTotals,
    memberships: Iterable[Membership_],
    moderation_points: dict[int, float],
    tiers: list[Tier],
    half_life_days: float,
    day: date,
    uncounted: frozenset[int] = frozenset(),
) -> ValuesAndTiers:
    """Every member's value; the tier of every member but bots and staff (``uncounted``)."""
    out = ValuesAndTiers()
    values: dict[int, float] = {}
    for mid, days in totals.days.items():
        decayed = decayed_sum(((d, v) for d, v, _ in days), day, half_life_days)
        values[mid] = decayed
        out.values.append(
            ValueRow(
                mid,
                round(decayed, 3),
                round(sum(v for _, v, _ in days), 3),
                sum(n for _, _, n in days),
                len(days),
            )
        )
    members = set(totals.days) | {m.member_id for m in memberships} | set(totals.states)
    members -= uncounted
    for mid in members:
        days = totals.days.get(mid, [])
        joined = totals.first_joined.get(mid)
        standing = Standing(
            value=values.get(mid, 0.0),
            days_active=len(days),
            tenure_days=(day - joined).days if joined else 0,
            referrals=totals.referrals.get(mid, 0),
            plans=frozenset(totals.plans.get(mid, ())),
            moderation_points=moderation_points.get(mid, 0.0),
        )
        state = totals.states.get(mid)
        stored = TierStateIn(*state) if state else None
        decision = decide_tier(tiers, standing, stored or TierStateIn(None), day)
        out.tiers.append(TierRow(mid, decision, stored))
    return out
