"""The content calendar (群日历): planned posts with their next times and what their past
occurrences caused; moderators plan drafts, admins approve, anyone may cancel who may plan.
The form posts go through the same ``qunzhu.messaging.calendar`` as the CLI and the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from qunzhu.auth.audit import record
from qunzhu.growth.common import spec_of
from qunzhu.http.deps import CommunityAccess, get_settings, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId, rows_of
from qunzhu.http.templating import request_language
from qunzhu.http.web.pages.common import back, page
from qunzhu.messaging import calendar
from qunzhu.messaging.calendar import KINDS, CalendarError, PostRequest
from qunzhu.messaging.compose import ComposeError
from qunzhu.messaging.ics import feed_token
from qunzhu.messaging.recurrence import RecurrenceError
from qunzhu.readmodels.message_effects import calendar_effects
from qunzhu.readmodels.what_worked import ranking
from qunzhu.store.broadcasts import AudienceError, group_targets
from qunzhu.store.messaging import PlannedPost

router = APIRouter()
PROBLEMS = (CalendarError, ComposeError, AudienceError, RecurrenceError)
REPEATS = {
    "": None,
    "daily": "FREQ=DAILY",
    "weekly": "FREQ=WEEKLY",
    "monthly": "FREQ=MONTHLY",
}


WORKED_DAYS = 28  # "what worked": four weeks, so a weekly topic is compared over 4 times


@router.get("/c/{slug}/calendar")
def calendar_page(request: Request, access: CommunityAccess = Depends(require("read"))) -> Response:
    now = datetime.now(UTC)
    with get_store(request).reading() as session:
        posts = calendar.listing(session, access.community.id, now)
        for post in posts:
            post["effect"] = calendar_effects(session, access.community.id, post["id"], now)
        groups = group_targets(session, access.community.id, every_group=True)
        spec = spec_of(session.connection(), access.community.id)
        since = now - timedelta(days=WORKED_DAYS)
        worked = ranking(
            session,
            access.community.id,
            since,
            now,
            now=now,
            lang=request_language(request, access.caller),
        )
    token = feed_token(get_settings(request).signing_key(), access.community.id)
    context = {
        "posts": posts,
        "groups": groups,
        "kinds": KINDS,
        "repeats": list(REPEATS),
        "zone": spec.timezone or str(get_settings(request).tz),
        "feed": f"/c/{access.community.slug}/calendar.ics?token={token}",
        "worked": worked,
        "worked_days": WORKED_DAYS,
    }
    return page(request, access, "calendar.html", "calendar", context)


@router.post("/c/{slug}/calendar")
def calendar_plan(
    request: Request,
    text: str = Form(..., max_length=8000),
    starts_at: str = Form(..., max_length=40),
    kind: str = Form("topic", max_length=16),
    title: str = Form("", max_length=200),
    repeat: str = Form("", max_length=16),
    group: list[str] = Form(default_factory=list),
    access: CommunityAccess = Depends(require("moderate")),
) -> Response:
    now = datetime.now(UTC)
    try:
        with get_store(request).unit_of_work() as session:
            spec = spec_of(session.connection(), access.community.id)
            zone_name = spec.timezone or str(get_settings(request).tz)
            try:
                starts = datetime.fromisoformat(starts_at)
            except ValueError:
                raise CalendarError(
                    "a date and time, e.g. 2026-12-07T09:00", field="starts_at"
                ) from None
            if repeat not in REPEATS:
                raise CalendarError("repeat is daily, weekly, monthly or empty", field="repeat")
            post = calendar.create(
                session,
                access.community.id,
                PostRequest(
                    texts={"zh-CN": text},
                    starts_at=starts,
                    timezone=zone_name,
                    kind=kind,
                    title=title,
                    rrule=REPEATS[repeat],
                    groups=group,
                    every_group=not group,
                    created_by=access.caller.username,
                ),
                now,
            )
            record(
                session,
                "calendar.add",
                source="web",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=f"post:{post.id}",
            )
    except PROBLEMS as exc:
        raise ApiError(422, "invalid", str(exc), field=exc.field) from None
    return back(f"/c/{access.community.slug}/calendar", done="calendar_planned")


def _change(request: Request, access: CommunityAccess, post_id: int, what: str) -> Response:
    now = datetime.now(UTC)
    try:
        with get_store(request).unit_of_work() as session:
            if what == "approve":
                calendar.approve(session, access.community.id, post_id, access.caller.username, now)
            else:
                calendar.cancel(session, access.community.id, post_id)
            record(
                session,
                f"calendar.{what}",
                source="web",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=f"post:{post_id}",
            )
    except PROBLEMS as exc:
        raise ApiError(409, "not_possible", str(exc), field=exc.field) from None
    done = "calendar_approved" if what == "approve" else "calendar_cancelled"
    return back(f"/c/{access.community.slug}/calendar", done=done)


@router.post("/c/{slug}/calendar/{post_id}/approve")
def calendar_approve(
    request: Request,
    post_id: ObjectId,
    access: CommunityAccess = Depends(require("manage", ids={"post_id": rows_of(PlannedPost)})),
) -> Response:
    return _change(request, access, post_id, "approve")


@router.post("/c/{slug}/calendar/{post_id}/cancel")
def calendar_cancel(
    request: Request,
    post_id: ObjectId,
    access: CommunityAccess = Depends(require("moderate", ids={"post_id": rows_of(PlannedPost)})),
) -> Response:
    return _change(request, access, post_id, "cancel")
