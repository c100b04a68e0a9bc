"""The daily recompute of one community: catch up message scores, then roles, member value,
tiers and health for the day, alerts for lines crossed. One transaction; re-running the
same day gives the same rows (it replaces, never adds).

Load, decide, write: the snapshots come from :mod:`qunzhu.engines.snapshot` (and the few
reads of what the last run wrote, here), the decisions from the pure functions of
:mod:`qunzhu.engines.daily_decide`, the rows go out through
:mod:`qunzhu.engines.daily_writes`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, select

from qunzhu.engines.catchup import CatchUp, catch_up, reset_scores
from qunzhu.engines.daily import view_of_day
from qunzhu.engines.daily_decide import (
    GroupBefore,
    decide_health,
    decide_roles,
    decide_values_and_tiers,
)
from qunzhu.engines.daily_writes import (
    clear_tiers,
    write_alerts,
    write_health,
    write_roles,
    write_tiers,
    write_values,
)
from qunzhu.engines.fastio import fetch_all
from qunzhu.engines.health import HealthConfig
from qunzhu.engines.snapshot import load_community, load_totals
from qunzhu.engines.specs import SpecCache
from qunzhu.store.base import table_of
from qunzhu.store.gc_pause import gc_paused
from qunzhu.store.intelligence import GroupHealth, IntelAlert, RoleAssignment

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
    with gc_paused():
        return _recompute(
            conn,
            community_id,
            day,
            tz,
            score=score,
            rescore=rescore,
            backfill_days=backfill_days,
            cfg=cfg or HealthConfig(),
            progress=progress,
        )


def _recompute(
    conn: Connection,
    community_id: int,
    day: date,
    tz: tzinfo,
    *,
    score: bool,
    rescore: bool,
    backfill_days: int,
    cfg: HealthConfig,
    progress: Callable[[int], None] | None,
) -> RecomputeReport:
    report = RecomputeReport(community_id, day)
    if rescore:
        reset_scores(conn, community_id)
    if score or rescore:
        report.scored = catch_up(conn, community_id, tz, progress)
    spec = SpecCache().get(conn, community_id)
    data = load_community(
        conn, community_id, day, tz, extra_days=backfill_days, window_days=spec.roles.window_days
    )
    now = datetime.now(UTC)
    for back in range(backfill_days, -1, -1):
        past = day - timedelta(days=back)
        view = view_of_day(data, past, spec.roles)
        if back == 0:  # roles are today's only: the history keeps what changed, when it ran
            roles = decide_roles(view, _roles_before(conn, community_id), past)
            report.role_changes = write_roles(conn, community_id, past, roles, now)
            report.roles = len(roles)
        # each day's health sees the day before as written, backfilled days too
        health = decide_health(
            view,
            spec.targets,
            cfg,
            _health_before(conn, community_id, past),
            _alerted(conn, community_id, past),
        )
        write_health(conn, community_id, past, health.rows)
        write_alerts(conn, community_id, past, health.alerts, now)
        report.groups = len(health.rows)
        report.alerts += [
            {"group": a.group_id, "kind": a.kind, "day": past.isoformat(), "message": a.message}
            for a in health.alerts
        ]
    totals = load_totals(conn, community_id, day, tz, data.history)
    decided = decide_values_and_tiers(
        totals,
        data.memberships,
        data.moderation_points,
        list(spec.tiers),
        spec.weights.half_life_days,
        day,
        data.uncounted,
    )
    write_values(conn, community_id, day, decided.values)
    clear_tiers(conn, community_id, data.uncounted)
    report.members_valued = len(decided.values)
    report.tier_changes = write_tiers(conn, community_id, day, decided.tiers, now)
    return report


def _roles_before(conn: Connection, community_id: int) -> dict[tuple[int, int], tuple[str, date]]:
    ra = table_of(RoleAssignment)
    return {
        (g, m): (role, since)
        for g, m, role, since in fetch_all(
            conn,
            select(ra.c.group_id, ra.c.member_id, ra.c.role, ra.c.since).where(
                ra.c.community_id == community_id
            ),
        )
    }


def _health_before(conn: Connection, community_id: int, day: date) -> dict[int, GroupBefore]:
    gh = table_of(GroupHealth)
    return {
        g: GroupBefore(risk, vpd, float(metrics.get("living_threshold", 0.0)))
        for g, risk, vpd, metrics in conn.execute(
            select(gh.c.group_id, gh.c.death_risk, gh.c.value_per_day, gh.c.metrics).where(
                gh.c.community_id == community_id, gh.c.day == day - timedelta(days=1)
            )
        )
    }


def _alerted(conn: Connection, community_id: int, day: date) -> set[tuple[int, str]]:
    """(group, kind) of the alerts of the quiet days before ``day``."""
    a = table_of(IntelAlert)
    return {
        (int(g), str(kind))
        for g, kind in conn.execute(
            select(a.c.group_id, a.c.kind).where(
                a.c.community_id == community_id,
                a.c.day >= day - timedelta(days=ALERT_QUIET_DAYS),
                a.c.day < day,
            )
        )
    }
