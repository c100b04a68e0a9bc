"""Growth (增长): the referral ladder, inviters' leaderboard, rewards, and applications."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from qunzhu.http.deps import CommunityAccess, get_settings, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId
from qunzhu.http.templating import request_language
from qunzhu.http.web.pages.common import back, community_spec, local_today, page, unmasked
from qunzhu.http.web.queries import rewards
from qunzhu.http.web.queries.growth import (
    APP_DECISIONS,
    AppDecision,
    decide_application,
    ladder,
    leaderboard,
    pending_applications,
)
from qunzhu.readmodels import queues, referrals

router = APIRouter()


@router.get("/c/{slug}/growth")
def growth_page(request: Request, access: CommunityAccess = Depends(require("read"))) -> Response:
    lang = request_language(request, access.caller)
    cid = access.community.id
    with get_store(request).reading() as session:
        spec = community_spec(session, cid)
        conn = session.connection()
        context = {
            "enabled": bool(spec and spec.referral.enabled),
            "ladder": ladder(spec, lang),
            "leaders": leaderboard(conn, cid, spec, local_today(request), get_settings(request).tz),
            "counts": referrals.referral_counts(conn, cid),
            # the figure Today shows and GET …/queues returns (held_rewards)
            "rewards_held": queues.held_rewards(conn, cid),
            "applications": pending_applications(session, cid, unmasked=unmasked(access)),
            "campaigns": referrals.campaigns(conn, cid),
            "held": referrals.rewards(conn, cid, "held", rewards.SHOWN),
            "granted": referrals.rewards(conn, cid, "granted", rewards.SHOWN),
        }
    return page(request, access, "growth.html", "growth", context)


@router.post("/c/{slug}/applications/{application_id}")
def application_decide(
    request: Request,
    application_id: ObjectId,
    decision: str = Form(...),
    reason: str = Form(""),
    access: CommunityAccess = Depends(require("manage")),
) -> Response:
    if decision not in APP_DECISIONS:
        raise ApiError(422, "invalid", "decision must be approve, reject or ask", field="decision")
    chosen: AppDecision = decision  # type: ignore[assignment]
    try:
        with get_store(request).unit_of_work() as session:
            changed = decide_application(
                session,
                access.community.id,
                application_id,
                chosen,
                operator_id=access.caller.operator_id,
                reason=reason,
            )
    except ValueError as exc:  # the growth package's GrowthError: e.g. a reason is needed
        raise ApiError(422, "invalid", str(exc), field="reason") from None
    return back(
        f"/c/{access.community.slug}/growth",
        done=f"application_{decision}" if changed else "nothing_changed",
    )


@router.post("/c/{slug}/rewards/{reward_id}")
def reward_decide(
    request: Request,
    reward_id: ObjectId,
    move: str = Form(...),
    note: str = Form(""),
    access: CommunityAccess = Depends(require("manage")),
) -> Response:
    if move not in rewards.REWARD_MOVES:
        raise ApiError(422, "invalid", "move must be approve, reject or redeem", field="move")
    chosen: rewards.RewardMove = move  # type: ignore[assignment]
    try:
        with get_store(request).unit_of_work() as session:
            rewards.decide(
                session,
                access.community.id,
                reward_id,
                chosen,
                operator_id=access.caller.operator_id,
                note=note,
            )
    except ValueError as exc:  # GrowthError: unknown reward, or not in the right status
        raise ApiError(422, "invalid", str(exc), field="reward") from None
    return back(f"/c/{access.community.slug}/growth", done=f"reward_{move}")
