"""The growth page: the referral ladder of the spec, the inviters' leaderboard of the last
30 days, and applications waiting for a decision. The leaderboard, campaigns, rewards and
referral counts are qunzhu.readmodels.referrals (the figures of the CLI and the API)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from qunzhu.auth.audit import record
from qunzhu.auth.permissions import mask_text
from qunzhu.growth import admission
from qunzhu.http.web.queries.common import day_start
from qunzhu.readmodels import referrals
from qunzhu.readmodels.referrals import Leader
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.models import Application, Group, Member

LEADERBOARD_SIZE = 20
LEADERBOARD_DAYS = 30
AppDecision = Literal["approve", "reject", "ask"]
REVIEWABLE = ("pending", "more_info")
APP_DECISIONS: tuple[str, ...] = get_args(AppDecision)


def leaderboard(
    conn: Connection,
    community_id: int,
    spec: CommunitySpec | None,
    today: date,
    tz: ZoneInfo,
    days: int = LEADERBOARD_DAYS,
) -> tuple[Leader, ...]:
    """Inviters of the last ``days`` days (in the community's time zone), against the
    spec's ladder: the leaderboard of qunzhu.readmodels.referrals over that window."""
    since = day_start(today - timedelta(days=days - 1), tz)
    rungs = spec.referral.ladder if spec is not None else []
    return referrals.leaderboard(conn, community_id, since, None, rungs, LEADERBOARD_SIZE)


def ladder(spec: CommunitySpec | None, lang: str) -> list[dict[str, Any]]:
    if spec is None:
        return []
    return [
        {"invitees": r.invitees, "kind": r.reward.kind, "value": r.reward.value}
        for r in sorted(spec.referral.ladder, key=lambda r: r.invitees)
    ]


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

    Goes through the growth package's admission review (it needs a reason the applicant
    reads for reject and ask, and raises GrowthError without one)."""
    app = session.get(Application, application_id)
    if app is None or app.community_id != community_id or app.status not in REVIEWABLE:
        return False
    admission.review(
        session.connection(),
        community_id,
        application_id,
        decision,
        reason.strip() or None,
        operator_id,
    )
    session.expire(app)
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
