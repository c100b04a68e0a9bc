"""The content calendar's ICS feed: ``/c/{slug}/calendar.ics?token=…``, read-only, without a
login (a phone's calendar app cannot sign in), for the token the calendar page and ``qunzhu
calendar feed`` show. A wrong token and an unknown community answer the same 404."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from qunzhu.http.deps import get_settings, get_store
from qunzhu.http.errors import ApiError
from qunzhu.messaging.ics import render, token_matches
from qunzhu.store.messaging import PlannedPost
from qunzhu.store.models import Community

router = APIRouter(include_in_schema=False)


@router.get("/c/{slug}/calendar.ics")
def calendar_feed(slug: str, request: Request, token: str = Query("", max_length=64)) -> Response:
    secret = get_settings(request).signing_key()
    with get_store(request).reading() as session:
        community = session.execute(
            select(Community.id, Community.name).where(Community.slug == slug)
        ).first()
        if community is None or not token_matches(secret, community.id, token):
            raise ApiError(404, "not_found", "no such calendar")
        posts = session.scalars(
            select(PlannedPost)
            .where(PlannedPost.community_id == community.id)
            .order_by(PlannedPost.id)
        ).all()
    body = render(community.name, slug, posts, datetime.now(UTC))
    return Response(body, media_type="text/calendar; charset=utf-8")
