"""Group health (群健康) as the health engine computed it: each group's death risk (死群预警)
with its reasons, active share, value per day and members, on one day; and the members per
behavioural role. ``qunzhu health``, ``GET …/health`` and the dashboard (community page,
today's groups at risk, role mix chart) read these functions.

``death_risk``
    0–100 from qunzhu.engines.health, on the newest day it computed unless a day is asked.
``risk``
    ``high`` at or above the engine's dying line (70), ``watch`` at or above 40 — or when
    at least half of 10 or more questions of the last 14 days went unanswered: such a group
    is not dying, but it is not healthy either, and its first reason says so — else ``ok``
    (qunzhu.engines.risk, which the weekly report reads too).
``since``
    The first day of the group's current run of days at this risk (when it became so).
``members``
    The group's active members the engine counted that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from qunzhu.engines import views
from qunzhu.engines.risk import DYING_RISK as DYING_RISK  # one definition, shared with
from qunzhu.engines.risk import WATCH_RISK as WATCH_RISK  # the weekly report
from qunzhu.engines.risk import risk_of as risk_of
from qunzhu.engines.risk import unanswered_share as unanswered_share
from qunzhu.store.intelligence import GroupHealth, RoleAssignment


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
    def unanswered_share(self) -> float | None:
        return unanswered_share(self.metrics)

    @property
    def risk(self) -> str:
        return risk_of(self.death_risk, self.unanswered_share)

    def as_json(self) -> dict[str, Any]:
        """The row as the API and ``--json`` print it."""
        return {
            "group": self.group,
            "group_id": self.group_id,
            "name": self.name,
            "day": self.day.isoformat(),
            "death_risk": self.death_risk,
            "risk": self.risk,
            "unanswered_share": self.unanswered_share,
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
    return tuple(_row(r) for r in rows)


def _row(r: dict[str, Any]) -> GroupHealthRow:
    return GroupHealthRow(
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


def risk_since(conn: Connection, community_id: int, group_id: int) -> date | None:
    """The first day of the group's current run of days at its newest risk word (None
    before the health engine ran for it)."""
    rows = conn.execute(
        select(GroupHealth.day, GroupHealth.death_risk, GroupHealth.metrics)
        .where(GroupHealth.community_id == community_id, GroupHealth.group_id == group_id)
        .order_by(GroupHealth.day.desc())
        .limit(366)
    ).tuples()
    since: date | None = None
    word: str | None = None
    for day, death_risk, metrics in rows:
        now = risk_of(float(death_risk), unanswered_share(metrics))
        if word is not None and now != word:
            break
        word, since = now, day
    return since


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
