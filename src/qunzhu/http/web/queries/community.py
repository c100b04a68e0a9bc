"""The community page: every group with its health, death risk and trend.

Death risk, its reasons and members come from the health engine through
qunzhu.readmodels.health (the figures of ``qunzhu health`` and ``GET …/health``). Before the
engine ran for the community, the risk is judged from the rollups alone: messages this
week against last week, and members counted from memberships.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from qunzhu.readmodels.capacity import effective_caps
from qunzhu.readmodels.health import group_health as engine_health
from qunzhu.readmodels.health import risk_of
from qunzhu.store.models import Group, GroupDaily, Membership

# A group is at high risk of dying (死群预警) when it went silent, or when this week has
# less than half of last week's messages after a week that was not trivially small.
SILENT_MIN_MEMBERS = 3
DROP_SHARE = 0.5
DROP_MIN_PREVIOUS = 10
WATCH_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class GroupHealth:
    id: int
    name: str
    platform: str
    segment: str | None
    cap: int | None
    members: int
    messages_7d: int
    messages_prev_7d: int
    value_7d: float
    value_prev_7d: float
    joins_7d: int
    leaves_7d: int
    # from the health engine when it has run: 0–100, and why
    death_risk: float | None = None
    reasons: tuple[str, ...] = ()
    unanswered_share: float | None = None  # of the last 14 days' questions (readmodels.health)

    @property
    def trend(self) -> float | None:
        """This week's messages as a share of last week's (None: nothing to compare)."""
        if self.messages_prev_7d == 0:
            return None
        return self.messages_7d / self.messages_prev_7d

    @property
    def risk(self) -> str:
        if self.death_risk is not None:
            return risk_of(self.death_risk, self.unanswered_share)
        if self.messages_7d == 0 and self.messages_prev_7d == 0 and self.members == 0:
            return "new"
        if self.messages_7d == 0 and self.members >= SILENT_MIN_MEMBERS:
            return "high"
        trend = self.trend
        if trend is not None and self.messages_prev_7d >= DROP_MIN_PREVIOUS:
            if trend < DROP_SHARE:
                return "high"
            if trend < WATCH_SHARE:
                return "watch"
        return "ok"

    @property
    def fill(self) -> float | None:
        return self.members / self.cap if self.cap else None


RISK_ORDER = {"high": 0, "watch": 1, "ok": 2, "new": 3}


def group_health(
    session: Session, community_id: int, today: date, lang: str = "en"
) -> list[GroupHealth]:
    """Every group of the community, riskiest first: message and value trend from
    ``group_daily``; members and death risk from the health engine's newest day when it has
    run (else members counted from memberships)."""
    this_week = today - timedelta(days=6)
    last_week = today - timedelta(days=13)
    recent = GroupDaily.day >= this_week

    def this(col: Any) -> Any:
        return func.sum(case((recent, col), else_=0))

    def prev(col: Any) -> Any:
        return func.sum(case((recent, 0), else_=col))

    sums = {
        row[0]: row[1:]
        for row in session.execute(
            select(
                GroupDaily.group_id,
                this(GroupDaily.messages),
                prev(GroupDaily.messages),
                this(GroupDaily.value),
                prev(GroupDaily.value),
                this(GroupDaily.joins),
                this(GroupDaily.leaves + GroupDaily.removals),
            )
            .where(
                GroupDaily.community_id == community_id,
                GroupDaily.day >= last_week,
                GroupDaily.day <= today,
            )
            .group_by(GroupDaily.group_id)
        ).tuples()
    }
    engine = {h.group_id: h for h in engine_health(session.connection(), community_id, lang=lang)}
    if engine:
        members = {g: h.members for g, h in engine.items()}
    else:
        members = dict(
            session.execute(
                select(Membership.group_id, func.count())
                .where(Membership.community_id == community_id, Membership.status == "active")
                .group_by(Membership.group_id)
            )
            .tuples()
            .all()
        )
    caps = effective_caps(session.connection(), [community_id])
    out = []
    for g in session.execute(
        select(Group.id, Group.name, Group.platform, Group.segment).where(
            Group.community_id == community_id
        )
    ):
        m7, mp, v7, vp, j7, l7 = sums.get(g.id, (0, 0, 0.0, 0.0, 0, 0))
        out.append(
            GroupHealth(
                id=g.id,
                name=g.name,
                platform=g.platform,
                segment=g.segment,
                cap=caps.get(g.id),
                members=int(members.get(g.id, 0)),
                messages_7d=int(m7 or 0),
                messages_prev_7d=int(mp or 0),
                value_7d=float(v7 or 0.0),
                value_prev_7d=float(vp or 0.0),
                joins_7d=int(j7 or 0),
                leaves_7d=int(l7 or 0),
                death_risk=engine[g.id].death_risk if g.id in engine else None,
                reasons=engine[g.id].reasons[:3] if g.id in engine else (),
                unanswered_share=engine[g.id].unanswered_share if g.id in engine else None,
            )
        )
    out.sort(
        key=lambda h: (RISK_ORDER[h.risk], h.trend if h.trend is not None else 9.0, h.name, h.id)
    )
    return out


def community_totals(groups: list[GroupHealth]) -> dict[str, float]:
    return {
        "groups": len(groups),
        "members": sum(g.members for g in groups),
        "messages_7d": sum(g.messages_7d for g in groups),
        "value_7d": round(sum(g.value_7d for g in groups), 1),
        "at_risk": sum(1 for g in groups if g.risk == "high"),
    }
