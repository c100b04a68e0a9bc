"""What the member-intelligence engines have written (qunzhu.store.intelligence), read for
the pages when those tables exist: group health and death risk, roles, tiers, questions.

Each function returns None (or nothing) when the engines are not installed or have not run
for the community yet, and the page falls back to what the rollups alone can tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunzhu.http.web.queries.common import optional_module
from qunzhu.store.models import Group

DYING_RISK = 70.0  # the health engine's own line (engines/health.py HealthConfig.dying_risk)
WATCH_RISK = 40.0


def table(name: str) -> Any:
    """The engines' mapped class ``name``, or None when the intelligence tables are absent."""
    return getattr(optional_module("qunzhu.store.intelligence"), name, None)


@dataclass(frozen=True, slots=True)
class Health:
    death_risk: float
    members: int
    active_share: float
    value_per_day: float
    reasons: list[str]

    @property
    def risk(self) -> str:
        if self.death_risk >= DYING_RISK:
            return "high"
        return "watch" if self.death_risk >= WATCH_RISK else "ok"


def _latest_day(session: Session, gh: Any, community_id: int) -> tuple[Any, list[int]]:
    """(the newest day the health engine computed, the community's group ids). The engine
    computes every group on the same day, so a few groups' newest rows — read through the
    table's primary key (group_id, day) — tell the day without scanning the community."""
    group_ids = list(session.scalars(select(Group.id).where(Group.community_id == community_id)))
    if not group_ids:
        return None, []
    day = session.scalar(select(func.max(gh.day)).where(gh.group_id.in_(group_ids[:50])))
    return day, group_ids


def latest_health(
    session: Session, community_id: int, lang: str = "en"
) -> dict[int, Health] | None:
    """Each group's health on the newest day the health engine computed, or None."""
    gh = table("GroupHealth")
    if gh is None:
        return None
    day, group_ids = _latest_day(session, gh, community_id)
    if day is None:
        return None
    key = "zh" if lang.startswith("zh") else "en"
    out = {}
    for row in session.execute(
        select(
            gh.group_id, gh.death_risk, gh.members, gh.active_share, gh.value_per_day, gh.reasons
        ).where(gh.group_id.in_(group_ids), gh.day == day)
    ):
        reasons = [
            str(r.get(key) or r.get("en") or r.get("code", ""))
            for r in (row.reasons or [])
            if isinstance(r, dict)
        ]
        out[int(row.group_id)] = Health(
            death_risk=float(row.death_risk),
            members=int(row.members),
            active_share=float(row.active_share),
            value_per_day=float(row.value_per_day),
            reasons=reasons[:3],
        )
    return out


def dying_groups(
    session: Session, community_id: int, lang: str = "en", limit: int = 20
) -> tuple[int, list[tuple[int, str, float, int, str]]] | None:
    """(how many groups are at or above the dying line, the riskiest ``limit`` as (id,
    name, death risk, members, first reason)) on the newest health day, or None."""
    gh = table("GroupHealth")
    if gh is None:
        return None
    day, group_ids = _latest_day(session, gh, community_id)
    if day is None:
        return None
    key = "zh" if lang.startswith("zh") else "en"
    where = (gh.group_id.in_(group_ids), gh.day == day, gh.death_risk >= DYING_RISK)
    count = session.scalar(select(func.count()).select_from(gh).where(*where)) or 0
    rows = (
        session.execute(
            select(gh.group_id, Group.name, gh.death_risk, gh.members, gh.reasons)
            .join(Group, Group.id == gh.group_id)
            .where(*where)
            .order_by(gh.death_risk.desc())
            .limit(limit)
        )
        .tuples()
        .all()
    )
    out = []
    for gid, name, risk, members, reasons in rows:
        first = next((r for r in (reasons or []) if isinstance(r, dict)), {})
        out.append(
            (
                int(gid),
                str(name),
                float(risk),
                int(members),
                str(first.get(key) or first.get("en") or ""),
            )
        )
    return int(count), out


def role_counts(session: Session, community_id: int) -> dict[str, int]:
    """Members per behavioural role across the community's groups (empty before roles ran):
    summed from the health engine's per-group counts of its newest day when it keeps them
    (a thousand small rows), else counted from the role assignments."""
    gh = table("GroupHealth")
    if gh is not None:
        day, group_ids = _latest_day(session, gh, community_id)
        if day is not None:
            total: dict[str, int] = {}
            for (metrics,) in session.execute(
                select(gh.metrics).where(gh.group_id.in_(group_ids), gh.day == day)
            ):
                for role, n in ((metrics or {}).get("role_counts") or {}).items():
                    total[str(role)] = total.get(str(role), 0) + int(n)
            if total:
                return dict(sorted(total.items(), key=lambda kv: -kv[1]))
    ra = table("RoleAssignment")
    if ra is None:
        return {}
    return {
        str(role): int(n)
        for role, n in session.execute(
            select(ra.role, func.count())
            .where(ra.community_id == community_id)
            .group_by(ra.role)
            .order_by(func.count().desc())
        ).tuples()
    }


def current_tier(session: Session, member_id: int) -> str | None:
    ts = table("TierState")
    if ts is None:
        return None
    found = session.scalar(select(ts.tier).where(ts.member_id == member_id))
    return str(found) if found is not None else None


def has_questions(session: Session, community_id: int) -> bool:
    """Whether the engines track questions for this community (so their answers count)."""
    q = table("Question")
    return (
        q is not None
        and session.scalar(select(q.message_id).where(q.community_id == community_id).limit(1))
        is not None
    )


def unanswered_questions(
    session: Session, community_id: int, since: datetime, limit: int
) -> tuple[int, list[int]]:
    """(how many questions since ``since`` have no answer, the newest ``limit`` message ids)."""
    q = table("Question")
    where = (q.community_id == community_id, q.asked_at >= since, q.answered_at.is_(None))
    count = session.scalar(select(func.count()).select_from(q).where(*where)) or 0
    ids = list(
        session.scalars(select(q.message_id).where(*where).order_by(q.asked_at.desc()).limit(limit))
    )
    return int(count), [int(i) for i in ids]
