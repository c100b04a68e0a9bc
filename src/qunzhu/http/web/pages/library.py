"""The content library (内容库): the value engine's suggestions to keep or dismiss, search,
the kept items by tag, and the compilation's downloads. Moderators and above decide;
analysts read. The forms go through the same ``qunzhu.messaging.library`` as the CLI and the
API, and read through ``qunzhu.readmodels.library``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from qunzhu.auth.audit import record
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId, rows_of
from qunzhu.http.templating import request_language
from qunzhu.http.web.pages.common import back, page, shown_zone, unmasked
from qunzhu.messaging import library
from qunzhu.messaging.library import LibraryError, NotYourGroup, UnknownMessage
from qunzhu.readmodels import library as reading
from qunzhu.reports import compilation
from qunzhu.reports.render import PdfUnavailable
from qunzhu.store.library import LibraryItem
from qunzhu.store.scoped import MAX_ID

router = APIRouter()
SUGGESTED = 10


@router.get("/c/{slug}/library")
def library_page(
    request: Request,
    q: str = Query("", max_length=200),
    tag: str = Query("", max_length=64),
    access: CommunityAccess = Depends(require("read")),
) -> Response:
    cid, open_ = access.community.id, unmasked(access)
    problem = ""
    found = None
    with get_store(request).reading() as session:
        if q.strip():
            try:
                found = reading.search(session, cid, q, unmasked=open_)
            except LibraryError as exc:
                problem = exc.field
        suggested = (
            reading.suggestions(
                session,
                cid,
                now=datetime.now(UTC),
                limit=SUGGESTED,
                unmasked=open_,
                groups=reading.deciding_groups(session, cid, access.caller),
            )
            if access.can("moderate")
            else []
        )
        context = {
            "q": q,
            "tag": tag,
            "problem": problem,
            "found": _timed(found) if found is not None else None,
            "suggested": _timed(suggested),
            "items": _timed(reading.listing(session, cid, tag=tag or None, unmasked=open_)),
            "tags": reading.tags(session, cid),
        }
    return page(request, access, "library.html", "library", context)


def _timed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The read model's ISO times as datetimes, for the ``when`` filter (the zone shown)."""
    for row in rows:
        row["posted"] = datetime.fromisoformat(row["posted_at"])
        if "decided_at" in row:
            row["decided"] = datetime.fromisoformat(row["decided_at"])
    return rows


def _decide(
    request: Request, access: CommunityAccess, what: str, message_id: int, tags: str = ""
) -> Response:
    now, by = datetime.now(UTC), access.caller.username
    try:
        with get_store(request).unit_of_work() as session:
            cid = access.community.id
            mine = reading.deciding_groups(session, cid, access.caller)
            if what == "keep":
                library.keep(session, cid, message_id, tags=[tags], by=by, now=now, groups=mine)
            else:
                library.dismiss(session, cid, message_id, by=by, now=now, groups=mine)
            record(
                session,
                f"library.{what}",
                source="web",
                operator_id=access.caller.operator_id,
                community_id=cid,
                target=str(message_id),
            )
    except UnknownMessage as exc:
        raise ApiError(404, "not_found", str(exc), field=exc.field) from None
    except NotYourGroup as exc:
        raise ApiError(403, "forbidden", str(exc), field=exc.field) from None
    except LibraryError as exc:
        raise ApiError(422, "invalid", str(exc), field=exc.field) from None
    done = "library_kept" if what == "keep" else "library_dismissed"
    return back(f"/c/{access.community.slug}/library", done=done)


@router.post("/c/{slug}/library/keep")
def library_keep(
    request: Request,
    message_id: int = Form(..., ge=1, le=MAX_ID),
    tags: str = Form("", max_length=300),
    access: CommunityAccess = Depends(require("moderate")),
) -> Response:
    return _decide(request, access, "keep", message_id, tags)


@router.post("/c/{slug}/library/dismiss")
def library_dismiss(
    request: Request,
    message_id: int = Form(..., ge=1, le=MAX_ID),
    access: CommunityAccess = Depends(require("moderate")),
) -> Response:
    return _decide(request, access, "dismiss", message_id)


@router.post("/c/{slug}/library/{item_id}/remove")
def library_remove(
    request: Request,
    item_id: ObjectId,
    access: CommunityAccess = Depends(require("moderate", ids={"item_id": rows_of(LibraryItem)})),
) -> Response:
    try:
        with get_store(request).unit_of_work() as session:
            mine = reading.deciding_groups(session, access.community.id, access.caller)
            item = library.remove(
                session,
                access.community.id,
                item_id,
                by=access.caller.username,
                now=datetime.now(UTC),
                groups=mine,
            )
            record(
                session,
                "library.remove",
                source="web",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=str(item.message_id),
            )
    except NotYourGroup as exc:
        raise ApiError(403, "forbidden", str(exc), field=exc.field) from None
    return back(f"/c/{access.community.slug}/library", done="library_removed")


@router.get("/c/{slug}/library/export")
def library_export(
    request: Request,
    format: str = Query("html", pattern="^(md|html|pdf)$"),
    by: compilation.GroupBy = Query("tag"),
    access: CommunityAccess = Depends(require("read")),
) -> Response:
    lang = request_language(request, access.caller)
    with get_store(request).reading() as session:
        items = reading.listing(session, access.community.id, unmasked=True)
    zone = shown_zone(request, access.community.id)
    try:
        body, media = compilation.export(format, access.community.name, items, by, lang, zone)
    except PdfUnavailable as exc:
        raise ApiError(503, "unavailable", str(exc)) from None
    name = f"{access.community.slug}-library.{format}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
