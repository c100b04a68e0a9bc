"""The moderation review queue, appeals and a message check through the API.

Moderators (and admins, owners) list flagged items and approve, undo or escalate them, one
at a time or in bulk; an upheld appeal undoes an action and its points. The actions a
review produces (delete, warn, unmute, …) are queued in the outbox in the review's
transaction and carried out by the connectors of ``qunzhu serve``; the answer lists them and
their outbox ids (``queued``). The reviewed members' roles are decided again in the same
transaction (:func:`qunzhu.wiring.after_review`).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from qunzhu.auth.audit import record
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import BodyId, ObjectId, rows_of
from qunzhu.moderation.inspect import Inspector
from qunzhu.moderation.review import ReviewError, feedback, queue, review
from qunzhu.moderation.stored import AuditError, community_spec
from qunzhu.readmodels.review_precision import flag_precision
from qunzhu.store.models import ModerationAction
from qunzhu.store.scoped import row_in
from qunzhu.wiring import after_review

router = APIRouter(tags=["moderation"])
_MAX_BULK = 500
_ITEMS = {"item_id": rows_of(ModerationAction)}  # item ids here are moderation items


class ReviewIn(BaseModel):
    note: str | None = Field(None, max_length=2000)


class BulkIn(BaseModel):
    operation: Literal["approve", "undo", "escalate"]
    ids: list[BodyId] = Field(min_length=1, max_length=_MAX_BULK)
    note: str | None = Field(None, max_length=2000)


class AppealIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    decision: Literal["uphold", "reject"]


class CheckIn(BaseModel):
    text: str = Field(max_length=200_000)


def _operator(access: CommunityAccess) -> int | None:
    return getattr(access.caller, "operator_id", None)


def _apply(
    request: Request,
    access: CommunityAccess,
    ids: list[int],
    operation: str,
    note: str | None,
    origin: str = "review",
) -> list[dict[str, Any]]:
    store = get_store(request)
    try:
        with store.unit_of_work() as session:
            spec = community_spec(session, access.community.slug)
            reviewed = [
                review(
                    session,
                    access.community.id,
                    item,
                    operation,
                    spec,
                    operator_id=_operator(access),
                    note=note,
                    origin=origin,
                    tz=store.settings.tz,
                )
                for item in ids
            ]
            after_review(
                session, access.community.id, [r.member_id for r in reviewed], tz=store.settings.tz
            )
            done = [r.as_dict() for r in reviewed]
            record(
                session,
                f"moderation.{operation}",
                source="api",
                operator_id=_operator(access),
                community_id=access.community.id,
                target=",".join(map(str, ids))[:200],
                detail={"note": note} if note else None,
            )
    except ReviewError as exc:
        raise ApiError(
            404 if exc.field == "id" and "no moderation item" in str(exc) else 409,
            "review_refused",
            str(exc),
            field=exc.field,
        ) from None
    except AuditError as exc:
        raise ApiError(409, "spec_invalid", str(exc)) from None
    return done


@router.get(
    "/communities/{slug}/moderation/queue",
    summary="Moderation items, newest first (default: those waiting for review)",
)
def list_queue(
    slug: str,
    request: Request,
    status: str = Query("pending_review", description="'' for every status"),
    limit: int = Query(100, ge=1, le=1000),
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    with get_store(request).reading() as session:
        items = queue(session, access.community.id, status=status or None, limit=limit)
    return {"items": items}


@router.get(
    "/communities/{slug}/moderation/precision",
    summary="How often flags were right: approved / (approved + undone) over the flags "
    "reviewed in the last 30 days, with its 95% interval, per detector (flag_precision)",
)
def precision(
    slug: str, request: Request, access: CommunityAccess = Depends(require("moderate"))
) -> dict[str, Any]:
    with get_store(request).reading() as session:
        return flag_precision(session.connection(), access.community.id).as_dict()


# declared before /items/{item_id}/{operation}, which would otherwise take its path
@router.post(
    "/communities/{slug}/moderation/items/{item_id}/appeal",
    summary="Decide a member's appeal: uphold undoes the action and its points",
)
def appeal(
    slug: str,
    item_id: ObjectId,
    body: AppealIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate", ids=_ITEMS)),
) -> dict[str, Any]:
    note = f"appeal {body.decision}: {body.reason}"
    if body.decision == "uphold":
        return _apply(request, access, [item_id], "undo", note, origin="appeal")[0]
    with get_store(request).unit_of_work() as session:
        row = row_in(session, ModerationAction, access.community.id, item_id)
        if row is None:
            raise ApiError(
                404, "review_refused", f"no moderation item {item_id} in this community", field="id"
            )
        row.review_note = note
        status = row.status
        record(
            session,
            "moderation.appeal_rejected",
            source="api",
            operator_id=_operator(access),
            community_id=access.community.id,
            target=str(item_id),
            detail={"reason": body.reason},
        )
    return {"id": item_id, "status": status, "appeal": "rejected"}


@router.post(
    "/communities/{slug}/moderation/items/{item_id}/{operation}",
    summary="Approve, undo or escalate one item",
)
def review_one(
    slug: str,
    item_id: ObjectId,
    operation: Literal["approve", "undo", "escalate"],
    request: Request,
    body: ReviewIn | None = None,
    access: CommunityAccess = Depends(require("moderate", ids=_ITEMS)),
) -> dict[str, Any]:
    return _apply(request, access, [item_id], operation, body.note if body else None)[0]


@router.post("/communities/{slug}/moderation/bulk", summary="One operation on many items")
def review_bulk(
    slug: str,
    body: BulkIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    return {"items": _apply(request, access, body.ids, body.operation, body.note)}


@router.get(
    "/communities/{slug}/moderation/feedback",
    summary="Reviewed items as labelled data (1 = spam) to retrain the classifier",
)
def export_feedback(
    slug: str, request: Request, access: CommunityAccess = Depends(require("moderate"))
) -> dict[str, Any]:
    with get_store(request).reading() as session:
        rows = feedback(session, access.community.id)
    return {"rows": [{"label": label, "text": text} for label, text in rows]}


@router.post(
    "/communities/{slug}/moderation/check",
    summary="The decision for one message by this community's rules",
)
def check(
    slug: str, body: CheckIn, request: Request, access: CommunityAccess = Depends(require("read"))
) -> dict[str, Any]:
    try:
        with get_store(request).reading() as session:
            spec = community_spec(session, access.community.slug)
    except AuditError as exc:
        raise ApiError(409, "spec_invalid", str(exc)) from None
    return Inspector(spec).check(body.text).as_dict()
