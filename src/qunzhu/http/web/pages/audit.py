"""The audit log (操作日志) of a community, and input that could not be accepted."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.web.pages.common import page, unmasked
from qunzhu.http.web.queries.admin import audit_actions, audit_entries, quarantined

router = APIRouter()


@router.get("/c/{slug}/audit")
def audit_page(
    request: Request,
    action: str = "",
    p: int = 1,
    access: CommunityAccess = Depends(require("manage")),
) -> Response:
    with get_store(request).reading() as session:
        rows, shown = audit_entries(
            session, access.community.id, action=action[:64], page=p, unmasked=unmasked(access)
        )
        actions = audit_actions(session, access.community.id)
    return page(
        request,
        access,
        "audit.html",
        "audit",
        {"rows": rows, "rows_page": shown, "action": action, "actions": actions},
    )


@router.get("/c/{slug}/errors")
def errors_page(
    request: Request, p: int = 1, access: CommunityAccess = Depends(require("read"))
) -> Response:
    with get_store(request).reading() as session:
        rows, shown = quarantined(session, access.community.id, page=p, unmasked=unmasked(access))
    return page(request, access, "errors.html", "today", {"rows": rows, "rows_page": shown})
