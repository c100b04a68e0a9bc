"""The growth page: the referral ladder (campaign), the inviters' leaderboard, rewards
reached, and applications waiting for a decision.

Rewards and campaigns come from the growth package (``qunzhu.growth``) when it offers them;
until then the ladder comes from the spec and the rewards reached are counted from the
qualified referrals, which is what the ladder pays on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from qunzhu.auth.audit import record
from qunzhu.auth.permissions import mask_text
from qunzhu.http.web.queries.common import day_start, optional_module
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.models import Application, Group, Member, Referral, utcnow

LEADERBOARD_SIZE = 20
LEADERBOARD_DAYS = 30
AppDecision = Literal["approve", "reject", "ask"]
REVIEWABLE = ("pending", "more_info")
APP_DECISIONS: tuple[str, ...] = get_args(AppDecision)


@dataclass(frozen=True, slots=True)
class Inviter:
    member_id: int
    name: str
    invited: int
    qualified: int
    held: int
    rung: int  # how many rungs of the ladder the qualified count has reached
    next_at: int | None  # qualified invitees needed for the next rung


def leaderboard(
    session: Session,
    community_id: int,
    spec: CommunitySpec | None,
    today: date,
    tz: ZoneInfo,
    days: int = LEADERBOARD_DAYS,
) -> list[Inviter]:
    since = day_start(today - timedelta(days=days - 1), tz)
    qualified = func.sum(case((Referral.status == "qualified", 1), else_=0))
    held = func.sum(case((Referral.status == "held", 1), else_=0))
    rows = (
        session.execute(
            select(Referral.inviter_member_id, Member.display_name, func.count(), qualified, held)
            .join(Member, Member.id == Referral.inviter_member_id)
            .where(Referral.community_id == community_id, Referral.occurred_at >= since)
            .group_by(Referral.inviter_member_id, Member.display_name)
            .order_by(qualified.desc(), func.count().desc(), Referral.inviter_member_id)
            .limit(LEADERBOARD_SIZE)
        )
        .tuples()
        .all()
    )
    ladder = sorted(r.invitees for r in spec.referral.ladder) if spec is not None else []
    out = []
    for member_id, name, invited, q, h in rows:
        q = int(q or 0)
        reached = sum(1 for need in ladder if q >= need)
        out.append(
            Inviter(
                member_id=member_id,
                name=name,
                invited=int(invited),
                qualified=q,
                held=int(h or 0),
                rung=reached,
                next_at=ladder[reached] if reached < len(ladder) else None,
            )
        )
    return out


def ladder(spec: CommunitySpec | None, lang: str) -> list[dict[str, Any]]:
    if spec is None:
        return []
    return [
        {"invitees": r.invitees, "kind": r.reward.kind, "value": r.reward.value}
        for r in sorted(spec.referral.ladder, key=lambda r: r.invitees)
    ]


def referral_counts(session: Session, community_id: int) -> dict[str, int]:
    return {
        str(s): int(n)
        for s, n in session.execute(
            select(Referral.status, func.count())
            .where(Referral.community_id == community_id)
            .group_by(Referral.status)
        ).tuples()
    }


def pending_applications(
    session: Session, community_id: int, *, unmasked: bool, limit: int = 50
) -> list[dict[str, Any]]:
    """Applications waiting for a decision; answers masked unless ``unmasked``."""
    rows = (
        session.execute(
            select(Application, Member.display_name, Group.name)
            .outerjoin(Member, Member.id == Application.member_id)
            .outerjoin(Group, Group.id == Application.group_id)
            .where(Application.community_id == community_id, Application.status == "pending")
            .order_by(Application.submitted_at, Application.id)
            .limit(limit)
        )
        .tuples()
        .all()
    )
    return [
        {
            "id": a.id,
            "at": a.submitted_at,
            "member": name or a.external_id,
            "member_id": a.member_id,
            "group": group or "",
            "answers": {
                str(k): str(v) if unmasked else mask_text(str(v))
                for k, v in (a.answers or {}).items()
            },
        }
        for a, name, group in rows
    ]


def decide_application(
    session: Session,
    community_id: int,
    application_id: int,
    decision: AppDecision,
    *,
    operator_id: int,
    reason: str = "",
) -> bool:
    """An operator's decision on a pending application; False if it is not pending here.

    Goes through the growth package's admission review when it is installed (it needs a
    reason the applicant reads for reject and ask); recorded here otherwise."""
    admission = optional_module("qunzhu.growth.admission")
    app = session.get(Application, application_id)
    if app is None or app.community_id != community_id or app.status not in REVIEWABLE:
        return False
    if admission is not None and hasattr(admission, "review"):
        admission.review(
            session.connection(),
            community_id,
            application_id,
            decision,
            reason.strip() or None,
            operator_id,
        )
        session.expire(app)
    else:
        app.status = {"approve": "approved", "reject": "rejected", "ask": "more_info"}[decision]
        app.reason = reason[:500] or None
        app.reviewed_by = operator_id
        app.reviewed_at = utcnow()
    record(
        session,
        f"application.{decision}",
        source="web",
        operator_id=operator_id,
        community_id=community_id,
        target=str(application_id),
        detail={
            "group_id": app.group_id,
            "member_id": app.member_id,
            "reason": reason[:200] or None,
        },
    )
    return True
