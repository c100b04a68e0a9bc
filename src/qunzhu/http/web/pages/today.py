"""Today (今日待办): what needs an operator now, each item a link to act on it."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.templating import request_language
from qunzhu.http.web.pages.common import local_today, now_utc, page, unmasked
from qunzhu.http.web.pages.tasks import plan_context
from qunzhu.http.web.queries.today import today_sections

router = APIRouter()


@router.get("/c/{slug}")
def today_page(
    request: Request, scope: str = "", access: CommunityAccess = Depends(require("read"))
) -> Response:
    with get_store(request).reading() as session:
        day = plan_context(request, session, access, scope)
        sections = today_sections(
            session,
            access.community.id,
            access.community.slug,
            today=local_today(request),
            now=now_utc(),
            unmasked=unmasked(access),
            can_moderate=access.can("moderate"),
            lang=request_language(request, access.caller),
        )
    waiting = sum(s.count for s in sections)
    context = {"sections": sections, "waiting": waiting, **day}
    return page(request, access, "today.html", "today", context)


@router.get("/c/{slug}/")
def today_slash(slug: str, access: CommunityAccess = Depends(require("read"))) -> Response:
    return RedirectResponse(f"/c/{access.community.slug}", status_code=307)
