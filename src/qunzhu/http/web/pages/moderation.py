"""The review queue (审核队列): approve, undo or escalate one item or many at once; below it,
how often the community's flags were right in the last 30 days, per detector
(:mod:`qunzhu.readmodels.review_precision`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.web.pages.common import back, page, unmasked
from qunzhu.http.web.queries.review import DECISIONS, QUEUE_STATUSES, Decision, decide, queue
from qunzhu.readmodels.review_precision import flag_precision
from qunzhu.store.scoped import parse_id

router = APIRouter()


@router.get("/c/{slug}/review")
def review_page(
    request: Request,
    status: str = "pending_review",
    p: int = 1,
    access: CommunityAccess = Depends(require("moderate")),
) -> Response:
    status = status if status in QUEUE_STATUSES else "pending_review"
    with get_store(request).reading() as session:
        items, shown = queue(
            session, access.community.id, status=status, page=p, unmasked=unmasked(access)
        )
        precision = flag_precision(session.connection(), access.community.id)
    return page(
        request,
        access,
        "review.html",
        "review",
        {
            "items": items,
            "items_page": shown,
            "status": status,
            "statuses": QUEUE_STATUSES,
            "precision": precision,
        },
    )


@router.post("/c/{slug}/review/decide")
async def review_decide(
    request: Request,
    decision: str = Form(...),
    note: str = Form(""),
    status: str = Form("pending_review"),
    access: CommunityAccess = Depends(require("moderate")),
) -> Response:
    """One decision on every ticked item (``ids``), or on the one whose button was used."""
    if decision not in DECISIONS:
        raise ApiError(
            422, "invalid", f"decision must be one of {', '.join(DECISIONS)}", field="decision"
        )
    form = await request.form()
    ids = []
    for raw in form.getlist("ids"):
        item_id = parse_id(raw) if isinstance(raw, str) else None
        if item_id is not None:  # anything else cannot name an item
            ids.append(item_id)
    if not ids:
        return back(f"/c/{access.community.slug}/review", status=status, done="none_selected")
    decided: Decision = decision  # type: ignore[assignment]
    store = get_store(request)
    with store.unit_of_work() as session:
        changed = decide(
            session,
            access.community.id,
            access.community.slug,
            ids,
            decided,
            operator_id=access.caller.operator_id,
            note=note,
            tz=store.settings.tz,
        )
    return back(
        f"/c/{access.community.slug}/review",
        status=status,
        done=f"decided_{decision}" if changed else "nothing_changed",
    )
