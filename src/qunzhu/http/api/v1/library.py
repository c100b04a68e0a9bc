"""The content library over HTTP: analysts read, search and export; moderators and above
keep or dismiss what the value engine suggests. And "what worked": the posts of a period
ranked by what they caused (the same ranking as the calendar page and the weekly report)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from qunzhu.auth.audit import record
from qunzhu.growth.common import spec_of
from qunzhu.http.deps import CommunityAccess, get_settings, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import BodyId, ObjectId, rows_of
from qunzhu.messaging import library
from qunzhu.messaging.broadcast import community_zone
from qunzhu.messaging.library import LibraryError, NotYourGroup, UnknownMessage
from qunzhu.readmodels import library as reading
from qunzhu.readmodels.what_worked import ranking
from qunzhu.reports import compilation
from qunzhu.reports.render import PdfUnavailable
from qunzhu.store.library import LibraryItem

router = APIRouter(tags=["library"])
ITEM = {"item_id": rows_of(LibraryItem)}


class KeepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: BodyId
    tags: list[str] = Field(default_factory=list, max_length=8)


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: BodyId


def _problem(exc: LibraryError | UnknownMessage | NotYourGroup) -> ApiError:
    if isinstance(exc, NotYourGroup):
        return ApiError(403, "forbidden", str(exc), field=exc.field)
    if isinstance(exc, UnknownMessage):
        return ApiError(404, "unknown_message", str(exc), field=exc.field)
    return ApiError(422, "invalid", str(exc), field=exc.field)


@router.get("/communities/{slug}/library", summary="Kept items, or those matching a search")
def listing(
    slug: str,
    request: Request,
    q: str | None = Query(None, max_length=200, description="words, all of which must occur"),
    tag: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=500),
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    open_ = access.can("personal_data")
    try:
        with get_store(request).reading() as session:
            cid = access.community.id
            if q is not None:
                items = reading.search(session, cid, q, unmasked=open_, limit=limit)
                items = [i for i in items if not tag or tag in i["tags"]]
            else:
                items = reading.listing(session, cid, tag=tag, unmasked=open_, limit=limit)
            return {"items": items, "tags": dict(reading.tags(session, cid))}
    except LibraryError as exc:
        raise _problem(exc) from None


@router.get("/communities/{slug}/library/suggestions", summary="What the value engine suggests")
def suggestions(
    slug: str,
    request: Request,
    days: int = Query(reading.SUGGEST_DAYS, ge=1, le=3660),
    limit: int = Query(20, ge=1, le=200),
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    with get_store(request).reading() as session:
        found = reading.suggestions(
            session,
            access.community.id,
            now=datetime.now(UTC),
            days=days,
            limit=limit,
            unmasked=access.can("personal_data"),
        )
    return {"items": found}


def _decide(
    request: Request, access: CommunityAccess, what: str, message_id: int, tags: list[str]
) -> dict[str, Any]:
    now, by = datetime.now(UTC), access.caller.username
    try:
        with get_store(request).unit_of_work() as session:
            cid = access.community.id
            mine = reading.deciding_groups(session, cid, access.caller)
            if what == "keep":
                row = library.keep(session, cid, message_id, tags=tags, by=by, now=now, groups=mine)
            else:
                row = library.dismiss(session, cid, message_id, by=by, now=now, groups=mine)
            record(
                session,
                f"library.{what}",
                source="api",
                operator_id=access.caller.operator_id,
                community_id=cid,
                target=str(message_id),
            )
            return {"id": row.id, "message_id": row.message_id, "status": row.status}
    except (LibraryError, UnknownMessage, NotYourGroup) as exc:
        raise _problem(exc) from None


@router.post("/communities/{slug}/library", summary="Keep a message in the library")
def keep(
    slug: str,
    body: KeepIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    return _decide(request, access, "keep", body.message_id, body.tags)


@router.post("/communities/{slug}/library/dismissals", summary="Never suggest a message again")
def dismiss(
    slug: str,
    body: DismissIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    return _decide(request, access, "dismiss", body.message_id, [])


FILES = {
    200: {
        "description": "The compilation, as an attachment",
        "content": {
            "text/markdown": {"schema": {"type": "string"}},
            "text/html": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get(
    "/communities/{slug}/library/export",
    summary="The compilation (年底合集) as a file",
    response_class=Response,
    responses=FILES,  # type: ignore[arg-type]
)
def export(
    slug: str,
    request: Request,
    format: Literal["md", "html", "pdf"] = Query("html"),
    by: Literal["tag", "month"] = Query("tag"),
    lang: Literal["zh-CN", "en"] = Query("zh-CN"),
    access: CommunityAccess = Depends(require("read")),
) -> Response:
    with get_store(request).reading() as session:
        items = reading.listing(session, access.community.id, unmasked=True)
        spec = spec_of(session.connection(), access.community.id)
    zone = community_zone(spec, get_settings(request).tz)
    try:
        body, media = compilation.export(format, access.community.name, items, by, lang, zone)
    except PdfUnavailable as exc:
        raise ApiError(503, "unavailable", str(exc)) from None
    name = f"{access.community.slug}-library.{format}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/communities/{slug}/library/{item_id}", summary="One kept item")
def one(
    slug: str,
    item_id: ObjectId,
    request: Request,
    access: CommunityAccess = Depends(require("read", ids=ITEM)),
) -> dict[str, Any]:
    try:
        with get_store(request).reading() as session:
            return reading.item(
                session, access.community.id, item_id, unmasked=access.can("personal_data")
            )
    except LibraryError as exc:  # a dismissed item is not in the library
        raise ApiError(404, "not_in_library", str(exc), field=exc.field) from None


@router.delete("/communities/{slug}/library/{item_id}", summary="Take an item out of the library")
def remove(
    slug: str,
    item_id: ObjectId,
    request: Request,
    access: CommunityAccess = Depends(require("moderate", ids=ITEM)),
) -> dict[str, Any]:
    try:
        with get_store(request).unit_of_work() as session:
            row = _removed(session, access, item_id)
            record(
                session,
                "library.remove",
                source="api",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=str(row.message_id),
            )
            return {"id": row.id, "message_id": row.message_id, "status": row.status}
    except NotYourGroup as exc:
        raise _problem(exc) from None


def _removed(session: Session, access: CommunityAccess, item_id: int) -> LibraryItem:
    mine = reading.deciding_groups(session, access.community.id, access.caller)
    return library.remove(
        session,
        access.community.id,
        item_id,
        by=access.caller.username,
        now=datetime.now(UTC),
        groups=mine,
    )


@router.get("/communities/{slug}/what-worked", summary="Posts ranked by what they caused")
def what_worked(
    slug: str,
    request: Request,
    days: int = Query(28, ge=1, le=366),
    lang: Literal["zh-CN", "en"] = Query("zh-CN"),
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    now = datetime.now(UTC)
    with get_store(request).reading() as session:
        ranked = ranking(
            session, access.community.id, now - timedelta(days=days), now, now=now, lang=lang
        )
    return {"days": days, "items": ranked}
