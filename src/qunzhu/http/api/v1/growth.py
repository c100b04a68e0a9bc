"""Growth over HTTP: referral rewards, campaigns and personal invite links, applications,
join codes, capacity, plans and orders, routing; and the payment webhook, which carries no
session or token and is authenticated by the provider's signature instead. Platform actions
decided here (an invite link, a one-in-one-out removal) are queued in the outbox in the
request's transaction and carried out by the connectors of ``qunzhu serve``."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from qunzhu.auth.audit import record
from qunzhu.growth import admission, capacity, payments, referrals, routing
from qunzhu.growth.common import GrowthError, spec_of
from qunzhu.growth.providers import (
    BadNotice,
    ManualProvider,
    PaymentProvider,
    SignatureRejected,
    TestProvider,
)
from qunzhu.growth.referral_settle import settle
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import BodyId, ObjectId
from qunzhu.readmodels import referrals as read_referrals
from qunzhu.readmodels.capacity import UnknownGroup, community_capacity, waitlist
from qunzhu.store import outbox

router = APIRouter(tags=["growth"])
log = logging.getLogger(__name__)
T = TypeVar("T")
WEBHOOK_SECRET_ENV = "QUNZHU_PAYMENT_TEST_SECRET"

_STATUS = {"unknown": 404, "wrong_status": 409, "already_reviewed": 409, "campaign_exists": 409}


def _error(exc: GrowthError) -> ApiError:
    status = 404 if exc.reason.startswith("unknown_") else _STATUS.get(exc.reason, 422)
    return ApiError(status, exc.reason, str(exc))


def _in_tx(
    request: Request,
    access: CommunityAccess,
    audit: str | None,
    work: Callable[[Connection, int], T],
    target: str = "",
) -> T:
    """One transaction for the work and its audit entry; refusals answer with the reason."""
    try:
        with get_store(request).unit_of_work() as session:
            out = work(session.connection(), access.community.id)
            if audit:
                record(
                    session,
                    audit,
                    source="api",
                    operator_id=getattr(access.caller, "operator_id", None),
                    community_id=access.community.id,
                    target=target,
                )
            return out
    except GrowthError as exc:
        raise _error(exc) from None


def _queued(conn: Connection, community_id: int, actions: list[Any], origin: str) -> list[Any]:
    outbox.enqueue(conn, community_id, actions, origin)
    return actions


# -- referral ---------------------------------------------------------------------------


@router.get("/communities/{slug}/referral/rewards", summary="Referral rewards by status")
def list_rewards(
    slug: str,
    request: Request,
    status: str | None = None,
    access: CommunityAccess = Depends(require("read")),
) -> list[dict[str, Any]]:
    with get_store(request).reading() as session:
        found = read_referrals.rewards(session.connection(), access.community.id, status)
    return [asdict(r) for r in found]


@router.post(
    "/communities/{slug}/referral/rewards/{reward_id}/{decision}",
    summary="approve / reject a held reward, or redeem a granted one",
)
def decide_reward(
    slug: str,
    reward_id: ObjectId,
    decision: str,
    request: Request,
    access: CommunityAccess = Depends(require("manage")),
) -> dict[str, Any]:
    if decision not in ("approve", "reject", "redeem"):
        raise ApiError(422, "bad_decision", "decision is approve, reject or redeem")
    status = _in_tx(
        request,
        access,
        f"referral.reward.{decision}",
        lambda c, cid: referrals.decide_reward(c, cid, reward_id, decision),
        str(reward_id),
    )
    return {"id": reward_id, "status": status}


class CampaignIn(BaseModel):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    ladder: list[dict[str, Any]]
    starts_at: Any = None
    ends_at: Any = None


@router.post(
    "/communities/{slug}/referral/campaigns",
    status_code=201,
    summary="Create a campaign with its reward ladder",
)
def create_campaign(
    slug: str,
    body: CampaignIn,
    request: Request,
    access: CommunityAccess = Depends(require("manage")),
) -> dict[str, Any]:
    from datetime import UTC, datetime

    def when(v: Any) -> datetime | None:
        if v is None:
            return None
        at = datetime.fromisoformat(str(v))
        return at if at.tzinfo else at.replace(tzinfo=UTC)

    def work(c: Connection, cid: int) -> dict[str, Any]:
        try:
            start, end = when(body.starts_at) or datetime.now(UTC), when(body.ends_at)
            new_id = referrals.create_campaign(
                c, cid, body.slug, body.name, body.ladder, start, end
            )
        except GrowthError:
            raise
        except ValueError as exc:
            raise GrowthError("bad_campaign", str(exc)) from None
        return {"id": new_id, "slug": body.slug}

    return _in_tx(request, access, "referral.campaign.create", work, body.slug)


@router.get(
    "/communities/{slug}/referral/campaigns/{campaign}",
    summary="A campaign's joins, qualified, K-factor and leaderboard",
)
def campaign(
    slug: str, campaign: str, request: Request, access: CommunityAccess = Depends(require("read"))
) -> dict[str, Any]:
    return _in_tx(
        request,
        access,
        None,
        lambda c, cid: {
            **referrals.campaign_stats(c, cid, campaign),
            "leaderboard": [
                asdict(leader)
                for leader in read_referrals.campaign_leaderboard(c, cid, campaign).leaders
            ],
        },
    )


class InviteLinkIn(BaseModel):
    group_id: BodyId
    member_limit: int | None = Field(None, ge=1, le=referrals.MAX_LINK_MEMBERS)


@router.post(
    "/communities/{slug}/members/{member_id}/invite-link",
    status_code=202,
    summary="Ask for a member's personal invite link (Telegram: named, with a member limit)",
)
def invite_link(
    slug: str,
    member_id: ObjectId,
    body: InviteLinkIn,
    request: Request,
    access: CommunityAccess = Depends(require("manage")),
) -> dict[str, Any]:
    return _in_tx(
        request,
        access,
        "referral.invite_link",
        lambda c, cid: referrals.request_invite_link(
            c, cid, member_id, body.group_id, body.member_limit
        ),
        str(member_id),
    )


@router.post("/communities/{slug}/referral/settle", summary="Settle qualification and rewards")
def settle_now(
    slug: str, request: Request, access: CommunityAccess = Depends(require("manage"))
) -> dict[str, Any]:
    return _in_tx(request, access, "referral.settle", lambda c, cid: settle(c, cid).as_dict())


# -- applications and join codes --------------------------------------------------------


@router.get("/communities/{slug}/applications", summary="The application review queue")
def list_applications(
    slug: str,
    request: Request,
    status: str | None = "pending",
    access: CommunityAccess = Depends(require("moderate")),
) -> list[dict[str, Any]]:
    return _in_tx(request, access, None, lambda c, cid: admission.queue(c, cid, status))


class ReviewIn(BaseModel):
    decision: str = Field(pattern=r"^(approve|reject|ask)$")
    reason: str | None = None


@router.post(
    "/communities/{slug}/applications/{application_id}/review",
    summary="approve, reject with a reason, or ask for more",
)
def review_application(
    slug: str,
    application_id: ObjectId,
    body: ReviewIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    operator = getattr(access.caller, "operator_id", None)
    return _in_tx(
        request,
        access,
        f"application.{body.decision}",
        lambda c, cid: admission.review(
            c, cid, application_id, body.decision, body.reason, operator
        ),
        str(application_id),
    )


class JoinCodesIn(BaseModel):
    count: int = Field(1, ge=1, le=10_000)
    # bounded: a code valid for 10**7 days overflowed the date and answered 500
    valid_days: int | None = Field(None, ge=1, le=36_500)
    note: str = ""


@router.post("/communities/{slug}/join-codes", status_code=201, summary="Issue one-time join codes")
def join_codes(
    slug: str,
    body: JoinCodesIn,
    request: Request,
    access: CommunityAccess = Depends(require("manage")),
) -> dict[str, Any]:
    codes = _in_tx(
        request,
        access,
        "join_codes.issue",
        lambda c, cid: admission.issue_join_codes(
            c, cid, body.count, valid_days=body.valid_days, note=body.note
        ),
        str(body.count),
    )
    return {"codes": codes}


# -- capacity ---------------------------------------------------------------------------


@router.get(
    "/communities/{slug}/capacity",
    summary="Seats taken per group of the cap, members, who waits, open proposals",
)
def capacity_overview(
    slug: str, request: Request, access: CommunityAccess = Depends(require("read"))
) -> dict[str, Any]:
    with get_store(request).reading() as session:
        return asdict(community_capacity(session.connection(), access.community.id))


@router.get(
    "/communities/{slug}/groups/{group_id}/waitlist",
    summary="The queue of a group in order: waiting, or offered a held seat",
)
def group_waitlist(
    slug: str,
    group_id: ObjectId,
    request: Request,
    access: CommunityAccess = Depends(require("read")),
) -> list[dict[str, Any]]:
    with get_store(request).reading() as session:
        try:
            queue = waitlist(session.connection(), access.community.id, group_id)
        except UnknownGroup as exc:
            raise ApiError(404, "unknown_group", str(exc), field="group_id") from None
    return [asdict(p) for p in queue]


@router.post(
    "/communities/{slug}/capacity/proposals/{proposal_id}/{decision}",
    summary="Answer a one-in-one-out proposal: approve or dismiss",
)
def decide_proposal(
    slug: str,
    proposal_id: ObjectId,
    decision: str,
    request: Request,
    access: CommunityAccess = Depends(require("manage")),
) -> dict[str, Any]:
    if decision not in ("approve", "dismiss"):
        raise ApiError(422, "bad_decision", "decision is approve or dismiss")
    acts = _in_tx(
        request,
        access,
        f"capacity.proposal.{decision}",
        lambda c, cid: _queued(
            c,
            cid,
            capacity.decide_eviction(c, cid, proposal_id, decision == "approve"),
            f"proposal:{proposal_id}",
        ),
        str(proposal_id),
    )
    return {
        "id": proposal_id,
        "actions": [{"kind": a.kind, "group": a.group, "member": a.member} for a in acts],
    }


# -- membership -------------------------------------------------------------------------


@router.get("/communities/{slug}/plans", summary="Plans of the spec")
def plans(
    slug: str, request: Request, access: CommunityAccess = Depends(require("read"))
) -> list[dict[str, Any]]:
    return _in_tx(
        request,
        access,
        None,
        lambda c, cid: [p.model_dump() for p in spec_of(c, cid).monetization.plans],
    )


class OrderIn(BaseModel):
    member_id: BodyId
    plan: str


@router.post("/communities/{slug}/orders", status_code=201, summary="Open an order")
def create_order(
    slug: str, body: OrderIn, request: Request, access: CommunityAccess = Depends(require("manage"))
) -> dict[str, Any]:
    return _in_tx(
        request,
        access,
        "order.create",
        lambda c, cid: payments.create_order(c, cid, body.member_id, body.plan),
        str(body.member_id),
    )


@router.get("/communities/{slug}/orders", summary="Orders")
def list_orders(
    slug: str,
    request: Request,
    status: str | None = None,
    access: CommunityAccess = Depends(require("read")),
) -> list[dict[str, Any]]:
    return _in_tx(request, access, None, lambda c, cid: payments.orders(c, cid, status))


# -- routing ----------------------------------------------------------------------------


@router.get(
    "/communities/{slug}/routing/preview",
    summary="Who re-segmentation would move where; writes nothing",
)
def routing_preview(
    slug: str, request: Request, access: CommunityAccess = Depends(require("read"))
) -> list[dict[str, Any]]:
    return _in_tx(request, access, None, routing.plan)


@router.post("/communities/{slug}/routing/apply", summary="Re-segment (manual choices stay)")
def routing_apply(
    slug: str, request: Request, access: CommunityAccess = Depends(require("manage"))
) -> dict[str, Any]:
    moved = _in_tx(
        request, access, "routing.apply", lambda c, cid: routing.apply(c, cid, routing.plan(c, cid))
    )
    return {"moved": moved}


# -- payment webhook --------------------------------------------------------------------


def provider_named(name: str) -> PaymentProvider:
    """The provider for a webhook; its secret comes from the environment, never the code."""
    if name == "test":
        secret = os.environ.get(WEBHOOK_SECRET_ENV, "")
        if len(secret) < 16:
            raise ApiError(
                503,
                "provider_not_configured",
                f"set {WEBHOOK_SECRET_ENV} (16+ characters) to accept test payments",
            )
        return TestProvider(secret)
    if name == "manual":
        return ManualProvider()
    raise ApiError(404, "unknown_provider", f"no payment provider {name!r}")


@router.post(
    "/payments/{provider}/webhook",
    summary="Payment provider webhook (authenticated by its signature)",
)
async def payment_webhook(provider: str, request: Request) -> dict[str, Any]:
    # No require(): a provider has no session or token; the HMAC signature is the proof,
    # checked before anything is read from the body or stored.
    chosen = provider_named(provider)
    body = await request.body()
    try:
        notice = chosen.verify(dict(request.headers), body)
    except SignatureRejected as exc:
        log.warning("payment webhook refused (%s): %s", provider, exc)
        raise ApiError(401, "bad_signature", str(exc)) from None
    except BadNotice as exc:
        raise ApiError(400, "bad_notice", str(exc)) from None
    try:
        with get_store(request).unit_of_work() as session:
            paid = payments.record_payment(session.connection(), chosen.name, notice)
    except GrowthError as exc:
        raise _error(exc) from None
    return {"order_no": paid.order_no, "paid": paid.new, "replay": not paid.new}
