"""Group health (群健康) as the health engine computed it: each group's death risk (死群预警)
with its reasons, active share, value per day and members, on one day; and the members per
behavioural role. ``qunzhu health``, ``GET …/health`` and the dashboard (community page,
today's groups at risk, role mix chart) read these functions.

``death_risk``
    0–100 from qunzhu.engines.health, on the newest day it computed unless a day is asked.
``risk``
    ``high`` at or above :data:`DYING_RISK` (the engine's own line, HealthConfig.dying_risk),
    ``watch`` at or above :data:`WATCH_RISK`, else ``ok``.
``members``
    The group's active members the engine counted that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from qunzhu.engines import views
from qunzhu.store.intelligence import GroupHealth, RoleAssignment

DYING_RISK = 70.0  # engines/health.py HealthConfig.dying_risk
WATCH_RISK = 40.0


def risk_of(death_risk: float) -> str:
    """The word for a death risk: high, watch or ok."""
    if death_risk >= DYING_RISK:
        return "high"
    return "watch" if death_risk >= WATCH_RISK else "ok"


@dataclass(frozen=True, slots=True)
class GroupHealthRow:
    group: str  # the platform's group id (as in `qunzhu health` and the API since v1)
    group_id: int
    name: str
    day: date
    death_risk: float
    reasons: tuple[str, ...]  # in the language asked for, strongest first
    reason_codes: tuple[str, ...]
    active_share: float
    value_per_day: float
    members: int
    forecast_days: float | None  # days until below the living line, when falling
    metrics: dict[str, Any]

    @property
    def risk(self) -> str:
        return risk_of(self.death_risk)

    def as_json(self) -> dict[str, Any]:
        """The row as the API and ``--json`` print it."""
        return {
            "group": self.group,
            "group_id": self.group_id,
            "name": self.name,
            "day": self.day.isoformat(),
            "death_risk": self.death_risk,
            "risk": self.risk,
            "reasons": list(self.reasons),
            "reason_codes": list(self.reason_codes),
            "active_share": self.active_share,
            "value_per_day": self.value_per_day,
            "members": self.members,
            "forecast_days": self.forecast_days,
            "metrics": self.metrics,
        }


def group_health(
    conn: Connection,
    community_id: int,
    day: date | None = None,
    lang: str = "en",
    *,
    min_risk: float | None = None,
) -> tuple[GroupHealthRow, ...]:
    """Each group's health on ``day`` (default the newest computed), riskiest first, only
    those at ``min_risk`` or above when it is given; empty before the health engine ran for
    the community."""
    rows = views.health_rows(
        conn, community_id, day, "zh" if lang.startswith("zh") else "en", min_risk
    )
    return tuple(
        GroupHealthRow(
            group=str(r["group"]),
            group_id=int(r["group_id"]),
            name=str(r["name"]),
            day=date.fromisoformat(r["day"]),
            death_risk=float(r["death_risk"]),
            reasons=tuple(str(x) for x in r["reasons"]),
            reason_codes=tuple(str(x) for x in r["reason_codes"]),
            active_share=float(r["active_share"]),
            value_per_day=float(r["value_per_day"]),
            members=int(r["members"]),
            forecast_days=r["forecast_days"],
            metrics=dict(r["metrics"] or {}),
        )
        for r in rows
    )


def role_counts(conn: Connection, community_id: int) -> dict[str, int]:
    """Members per behavioural role across the community's groups (empty before roles
    ran), most first: summed from the health engine's per-group counts of its newest day
    when it keeps them (a thousand small rows), else counted from the role assignments."""
    day = views.latest_day(conn, community_id)
    total: dict[str, int] = {}
    if day is not None:
        for (metrics,) in conn.execute(
            select(GroupHealth.metrics).where(
                GroupHealth.community_id == community_id, GroupHealth.day == day
            )
        ):
            for role, n in ((metrics or {}).get("role_counts") or {}).items():
                total[str(role)] = total.get(str(role), 0) + int(n)
    if not total:
        ra = RoleAssignment
        total = {
            str(role): int(n)
            for role, n in conn.execute(
                select(ra.role, func.count())
                .where(ra.community_id == community_id)
                .group_by(ra.role)
            ).tuples()
        }
    return dict(sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))


def health_computed(conn: Connection, community_id: int) -> bool:
    """Whether the health engine has run for the community (its verdicts then replace the
    rollup trend)."""
    return views.latest_day(conn, community_id) is not None
