"""What waits to be carried out on the platforms, and the time-driven jobs of ``qunzhu
serve``: the outbox of actions decided outside the live pipeline (reviews, appeals, invite
links, the membership sweep) with their outcome, a retry for one that failed, and the last
run of each scheduled job."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from qunzhu.auth.audit import record
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId, rows_of
from qunzhu.live.scheduler import status as schedule_status
from qunzhu.store import outbox
from qunzhu.store.connectors import OUTBOX_STATUSES, OutboxAction

router = APIRouter(tags=["outbox"])


@router.get("/communities/{slug}/outbox", summary="Queued and carried-out actions, newest first")
def list_outbox(
    slug: str,
    request: Request,
    status: str | None = Query(None, description="queued, sending, sent, failed, alerted"),
    origin: str | None = Query(None, description="prefix, e.g. review: or invite:"),
    limit: int = Query(100, ge=1, le=1000),
    access: CommunityAccess = Depends(require("moderate")),  # names members and their chats
) -> dict[str, Any]:
    if status is not None and status not in OUTBOX_STATUSES:
        raise ApiError(
            422, "invalid", f"status must be one of {', '.join(OUTBOX_STATUSES)}", field="status"
        )
    with get_store(request).reading() as session:
        items = outbox.rows(session, access.community.id, status=status, origin=origin, limit=limit)
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
