"""What waits to be carried out on the platforms, and the time-driven jobs of ``qunzhu
serve``: the outbox of decided actions (the pipeline's, reviews, appeals, invite links, the
membership sweep) with their outcome, a retry for one that failed, the last run of each
scheduled job — and the two calls of an external bridge that acts on a platform qunzhu has
no connector for: claim the actions of its platform, report what came of each."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from qunzhu.auth.audit import record
from qunzhu.events import PLATFORMS
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId, rows_of
from qunzhu.live.scheduler import status as schedule_status
from qunzhu.store import outbox
from qunzhu.store.connectors import OUTBOX_STATUSES, OutboxAction
from qunzhu.store.outbox_bridge import claim_for_bridge, report_outcome

router = APIRouter(tags=["outbox"])


@router.get("/communities/{slug}/outbox", summary="Queued and carried-out actions, newest first")
def list_outbox(
    slug: str,
    request: Request,
    status: str | None = Query(None, description="queued, sending, sent, failed, alerted"),
    origin: str | None = Query(None, description="prefix, e.g. review:, invite:, pipeline:"),
    platform: str | None = Query(None, description="only the actions on this platform"),
    after: int | None = Query(
        None, ge=0, description="only rows after this id, oldest first (a cursor)"
    ),
    limit: int = Query(100, ge=1, le=1000),
    access: CommunityAccess = Depends(require("moderate")),  # names members and their chats
) -> dict[str, Any]:
    if status is not None and status not in OUTBOX_STATUSES:
        raise ApiError(
            422, "invalid", f"status must be one of {', '.join(OUTBOX_STATUSES)}", field="status"
        )
    with get_store(request).reading() as session:
        items = outbox.rows(
            session,
            access.community.id,
            status=status,
            origin=origin,
            platform=platform,
            after=after,
            limit=limit,
        )
        totals = outbox.counts(session, access.community.id)
    return {"items": items, "counts": totals}


@router.post(
    "/communities/{slug}/outbox/{item_id}/retry",
    summary="Queue a failed or alerted action again (after fixing the connector)",
)
def retry(
    slug: str,
    item_id: ObjectId,
    request: Request,
    access: CommunityAccess = Depends(require("moderate", ids={"item_id": rows_of(OutboxAction)})),
) -> dict[str, Any]:
    with get_store(request).unit_of_work() as session:
        done = outbox.requeue(session, access.community.id, [item_id])
        if not done:
            raise ApiError(
                409,
                "not_retryable",
                f"outbox item {item_id} is not failed, alerted or skipped in this community",
                field="item_id",
            )
        record(
            session,
            "outbox.retry",
            source="api",
            operator_id=getattr(access.caller, "operator_id", None),
            community_id=access.community.id,
            target=str(item_id),
        )
    return {"id": item_id, "status": "queued"}


@router.get("/communities/{slug}/schedule", summary="The last run of each scheduled job")
def schedule(
    slug: str, request: Request, access: CommunityAccess = Depends(require("read"))
) -> dict[str, Any]:
    with get_store(request).reading() as session:
        jobs = schedule_status(session.connection(), access.community.id)
    return {"jobs": jobs}


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str = Field(description="the platform the bridge acts on, e.g. api or wechat")
    after: int = Field(0, ge=0, description="only rows after this id")
    limit: int = Field(100, ge=1, le=500)


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["sent", "failed"]
    reason: str | None = Field(None, max_length=2000, description="why it failed")
    result: dict[str, Any] = Field(
        default_factory=dict, description="what the platform answered, e.g. an invite_link"
    )


@router.post(
    "/communities/{slug}/outbox/claim",
    summary="A bridge takes the queued actions of its platform (each goes to one bridge)",
)
def claim(
    slug: str,
    body: ClaimIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    if body.platform not in PLATFORMS:
        raise ApiError(
            422, "invalid", f"platform must be one of {', '.join(PLATFORMS)}", field="platform"
        )
    caller = access.caller
    with get_store(request).unit_of_work() as session:
        items = claim_for_bridge(
            session,
            access.community.id,
            body.platform,
            caller.username,
            after=body.after,
            limit=body.limit,
        )
        if items:
            record(
                session,
                "outbox.claim",
                source="api",
                operator_id=caller.operator_id,
                community_id=access.community.id,
                target=body.platform,
                detail={"ids": [i["id"] for i in items]},
            )
    last = items[-1]["id"] if items else body.after
    return {"items": items, "next_after": last}


@router.post(
    "/communities/{slug}/outbox/{item_id}/outcome",
    summary="A bridge reports what came of an action it claimed (sent, or failed and why)",
)
def outcome(
    slug: str,
    item_id: ObjectId,
    body: OutcomeIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate", ids={"item_id": rows_of(OutboxAction)})),
) -> dict[str, Any]:
    caller = access.caller
    with get_store(request).unit_of_work() as session:
        refused = report_outcome(
            session,
            access.community.id,
            item_id,
            caller.username,
            body.status,
            reason=body.reason,
            result=body.result,
        )
        if refused is not None:
            status = 404 if refused.code == "missing" else 409
            code = "not_found" if refused.code == "missing" else "not_claimed"
            raise ApiError(status, code, refused.message, field="item_id")
        record(
            session,
            "outbox.outcome",
            source="api",
            operator_id=caller.operator_id,
            community_id=access.community.id,
            target=str(item_id),
            detail={"status": body.status, "reason": body.reason},
        )
    return {"id": item_id, "status": body.status}
