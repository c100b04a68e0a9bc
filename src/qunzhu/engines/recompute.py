"""The daily recompute of one community: catch up message scores, then roles, member value,
tiers and health for the day, alerts for lines crossed. One transaction; re-running the
same day gives the same rows (it replaces, never adds)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from qunzhu.engines.catchup import CatchUp, catch_up, reset_scores
from qunzhu.engines.daily import view_of_day
from qunzhu.engines.fastio import fetch_all, insert_rows
from qunzhu.engines.health import HealthConfig, HealthResult, compute_health
from qunzhu.engines.snapshot import CommunityData, MemberTotals, load_community, load_totals
from qunzhu.engines.specs import EngineSpec, SpecCache
from qunzhu.engines.tiers import Standing, TierStateIn, decide_tier
from qunzhu.engines.value import decayed_sum
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.intelligence import (
    GroupHealth,
    IntelAlert,
    MemberValue,
    RoleAssignment,
    RoleChange,
    TierState,
)
from qunzhu.store.models import TierChange

_BATCH = 5000
ALERT_QUIET_DAYS = 14


@dataclass
class RecomputeReport:
    community_id: int
    day: date
    scored: CatchUp = field(default_factory=CatchUp)
    roles: int = 0
    role_changes: int = 0
    members_valued: int = 0
    tier_changes: int = 0
    groups: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "community": self.community_id,
            "day": self.day.isoformat(),
            "scored_messages": self.scored.messages,
            "credited_reactions": self.scored.reactions,
            "credited_check_ins": self.scored.check_ins,
            "roles": self.roles,
            "role_changes": self.role_changes,
            "members_valued": self.members_valued,
            "tier_changes": self.tier_changes,
            "groups": self.groups,
            "alerts": self.alerts,
        }


def _insert(conn: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    insert_rows(conn, table_of(model), rows)


def recompute_community(
    conn: Connection,
    community_id: int,
    day: date,
    tz: tzinfo,
    *,
    score: bool = True,
    rescore: bool = False,
    backfill_days: int = 0,
    cfg: HealthConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> RecomputeReport:
    cfg = cfg or HealthConfig()
    report = RecomputeReport(community_id, day)
    if rescore:
        reset_scores(conn, community_id)
    if score or rescore:
        report.scored = catch_up(conn, community_id, tz, progress)
    spec = SpecCache().get(conn, community_id)
    data = load_community(
        conn, community_id, day, tz, extra_days=backfill_days, window_days=spec.roles.window_days
    )
    for back in range(backfill_days, 0, -1):
        past = day - timedelta(days=back)
        _write_health(conn, data, spec, past, cfg, report, write_roles=False)
    _write_health(conn, data, spec, day, cfg, report, write_roles=True)
    totals = load_totals(conn, community_id, day, tz, data.history)
    _write_values_and_tiers(conn, data, totals, spec, day, report)
    return report


def _write_health(
    conn: Connection,
    data: CommunityData,
    spec: EngineSpec,
    day: date,
    cfg: HealthConfig,
    report: RecomputeReport,
    *,
    write_roles: bool,
) -> dict[int, HealthResult]:
    view = view_of_day(data, day, spec.roles)
    c = data.community_id
    if write_roles:
        now = datetime.now(UTC)
        ra = table_of(RoleAssignment)
        before = {
            (g, m): (role, since)
            for g, m, role, since in fetch_all(
                conn,
                select(ra.c.group_id, ra.c.member_id, ra.c.role, ra.c.since).where(
                    ra.c.community_id == c
                ),
            )
        }
        conn.execute(delete(ra).where(ra.c.community_id == c))
        rows = []
        changes = []
        for (g, m), (decision, value) in view.roles.items():
            old = before.get((g, m))
            since = old[1] if old is not None and old[0] == decision.role else day
            if old is None or old[0] != decision.role:
                changes.append(
                    {
                        "community_id": c,
                        "group_id": g,
                        "member_id": m,
                        "day": day,
                        "role": decision.role,
                        "previous_role": old[0] if old is not None else None,
                        "reason": decision.reason,
                        "created_at": now,
                    }
                )
            rows.append(
                {
                    "community_id": c,
                    "group_id": g,
                    "member_id": m,
                    "role": decision.role,
                    "day": day,
                    "since": since,
                    "value": round(value, 3),
                    "reason": decision.reason,
                }
            )
        _insert(conn, RoleAssignment, rows)
        # the history keeps changes only: a member whose role holds adds no row
        _insert(conn, RoleChange, changes)
        report.roles = len(rows)
        report.role_changes = len(changes)
    gh = table_of(GroupHealth)
    previous = {
        g: (risk, vpd, metrics)
        for g, risk, vpd, metrics in conn.execute(
            select(gh.c.group_id, gh.c.death_risk, gh.c.value_per_day, gh.c.metrics).where(
                gh.c.community_id == c, gh.c.day == day - timedelta(days=1)
            )
        )
    }
    conn.execute(delete(gh).where(gh.c.community_id == c, gh.c.day == day))
    results: dict[int, HealthResult] = {}
    rows = []
    for g, snap in view.groups.items():
        h = compute_health(snap, spec.targets, cfg)
        results[g] = h
        rows.append(
            {
                "community_id": c,
                "group_id": g,
                "day": day,
                "death_risk": h.death_risk,
                "value_per_day": h.value_per_day,
                "active_share": h.active_share,
                "members": snap.members,
                "metrics": h.metrics,
                "reasons": h.reasons,
            }
        )
        _alerts(conn, c, g, snap.name, day, h, previous.get(g), cfg, report)
    _insert(conn, GroupHealth, rows)
    report.groups = len(rows)
    return results


def _alerts(
    conn: Connection,
    c: int,
    g: int,
    name: str,
    day: date,
    h: HealthResult,
    before: tuple[float, float, dict[str, Any]] | None,
    cfg: HealthConfig,
    report: RecomputeReport,
) -> None:
    was_risk = before[0] if before else 0.0
    was_living = before is None or before[1] >= float(before[2].get("living_threshold", 0.0))
    found: list[tuple[str, str]] = []
    if h.death_risk >= cfg.dying_risk > was_risk and not _alerted(conn, g, "death_risk", day):
        top = "; ".join(r["en"] for r in h.reasons[:2])
        found.append(
            ("death_risk", f"{name}: death risk {h.death_risk:.0f} ≥ {cfg.dying_risk:.0f} ({top})")
        )
    if h.below_living and was_living and not _alerted(conn, g, "below_living", day):
        found.append(
            (
                "below_living",
                f"{name}: value {h.value_per_day:.1f}/day fell below the "
                f"living threshold {h.living_threshold:.1f}",
            )
        )
    rows = [
        {
            "community_id": c,
            "group_id": g,
            "kind": kind,
            "day": day,
            "message": text[:500],
            "detail": {"death_risk": h.death_risk, "reasons": [r["code"] for r in h.reasons]},
            "created_at": datetime.now(UTC),
            "acknowledged": False,
        }
        for kind, text in found
    ]
    insert_ignoring_conflicts(conn, table_of(IntelAlert), rows)
    report.alerts += [
        {"group": g, "kind": r["kind"], "day": day.isoformat(), "message": r["message"]}
        for r in rows
    ]


def _alerted(conn: Connection, group_id: int, kind: str, day: date) -> bool:
    """An alert of this kind in the last two weeks: a group hovering at the line does not
    alert every other day."""
    a = table_of(IntelAlert)
    found = conn.execute(
        select(a.c.id)
        .where(
            a.c.group_id == group_id,
            a.c.kind == kind,
            a.c.day >= day - timedelta(days=ALERT_QUIET_DAYS),
            a.c.day < day,
        )
        .limit(1)
    ).first()
    return found is not None


def _write_values_and_tiers(
    conn: Connection,
    data: CommunityData,
    totals: MemberTotals,
    spec: EngineSpec,
    day: date,
    report: RecomputeReport,
) -> None:
    c = data.community_id
    half = spec.weights.half_life_days
    mv = table_of(MemberValue)
    conn.execute(delete(mv).where(mv.c.community_id == c))
    values: dict[int, float] = {}
    rows = []
    for mid, days in totals.days.items():
        decayed = decayed_sum(((d, v) for d, v, _ in days), day, half)
        values[mid] = decayed
        rows.append(
            {
                "member_id": mid,
                "community_id": c,
                "day": day,
                "value": round(decayed, 3),
                "raw_value": round(sum(v for _, v, _ in days), 3),
                "messages": sum(n for _, _, n in days),
                "days_active": len(days),
            }
        )
    _insert(conn, MemberValue, rows)
    report.members_valued = len(rows)
    tiers = list(spec.tiers)
    members = set(totals.days) | {m.member_id for m in data.memberships} | set(totals.states)
    changes: list[dict[str, Any]] = []
    upserts: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    for mid in members:
        days = totals.days.get(mid, [])
        joined = totals.first_joined.get(mid)
        standing = Standing(
            value=values.get(mid, 0.0),
            days_active=len(days),
            tenure_days=(day - joined).days if joined else 0,
            referrals=totals.referrals.get(mid, 0),
            plans=frozenset(totals.plans.get(mid, ())),
            moderation_points=data.moderation_points.get(mid, 0.0),
        )
        state = totals.states.get(mid)
        current = TierStateIn(*state) if state else TierStateIn(None)
        decision = decide_tier(tiers, standing, current, day)
        if state is None or decision.changed or decision.below_since != current.below_since:
            upserts.append(
                {
                    "member_id": mid,
                    "community_id": c,
                    "tier": decision.tier,
                    "since": day if decision.changed or state is None else None,
                    "below_since": decision.below_since,
                    "locked": current.locked,
                    "lock_reason": None,
                    "new": state is None,
                }
            )
        if decision.changed:
            changes.append(
                {
                    "community_id": c,
                    "member_id": mid,
                    "tier": decision.tier,
                    "previous_tier": current.tier,
                    "reason": decision.reason,
                    "source": decision.source,
                    "locked": False,
                    "changed_at": now,
                }
            )
    _apply_tier_rows(conn, upserts)
    _insert(conn, TierChange, changes)
    report.tier_changes = len(changes)


def _apply_tier_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    ts = table_of(TierState)
    fresh = [{k: v for k, v in r.items() if k != "new"} for r in rows if r["new"]]
    _insert(conn, TierState, fresh)
    moved = [r for r in rows if not r["new"]]
    with_since = [
        {
            "b_id": r["member_id"],
            "b_tier": r["tier"],
            "b_since": r["since"],
            "b_below": r["below_since"],
        }
        for r in moved
        if r["since"] is not None
    ]
    without = [
        {"b_id": r["member_id"], "b_below": r["below_since"]} for r in moved if r["since"] is None
    ]
    if with_since:
        conn.execute(
            update(ts)
            .where(ts.c.member_id == bindparam("b_id"))
            .values(
                tier=bindparam("b_tier"),
                since=bindparam("b_since"),
                below_since=bindparam("b_below"),
            ),
            with_since,
        )
    if without:
        conn.execute(
            update(ts)
            .where(ts.c.member_id == bindparam("b_id"))
            .values(below_since=bindparam("b_below")),
            without,
        )
