"""The content calendar over HTTP: moderators plan posts (drafts), admins approve them,
analysts read; the feed's address for a phone's calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from qunzhu.auth.audit import record
from qunzhu.growth.common import spec_of
from qunzhu.http.api.v1.broadcasts import Texts
from qunzhu.http.deps import CommunityAccess, get_settings, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId, rows_of
from qunzhu.messaging import calendar
from qunzhu.messaging.calendar import CalendarError, PostRequest
from qunzhu.messaging.compose import ComposeError
from qunzhu.messaging.ics import feed_token
from qunzhu.messaging.recurrence import RecurrenceError
from qunzhu.readmodels.message_effects import calendar_effects
from qunzhu.store.broadcasts import AudienceError
from qunzhu.store.messaging import PlannedPost

router = APIRouter(tags=["calendar"])
PROBLEMS = (CalendarError, ComposeError, AudienceError, RecurrenceError)


class PostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Texts
    starts_at: datetime = Field(description="the first time (no zone: in `timezone`)")
    timezone: str | None = Field(None, max_length=64, description="e.g. Asia/Shanghai")
    rrule: str | None = Field(None, max_length=500, description="RFC 5545, FREQ=WEEKLY;BYDAY=MO")
    kind: Literal["topic", "content", "announcement", "rules"] = "topic"
    title: str = Field("", max_length=200)
    groups: list[str] = Field(default_factory=list, max_length=5000)
    segment: str | None = Field(None, max_length=64)
    all_groups: bool = False
    lang: str = Field("zh-CN", pattern="^(zh-CN|en)$")


@router.post("/communities/{slug}/calendar", summary="Plan a post (a draft for an admin)")
def plan(
    slug: str,
    body: PostIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    now = datetime.now(UTC)
    try:
        with get_store(request).unit_of_work() as session:
            spec = spec_of(session.connection(), access.community.id)
            tz_name = body.timezone or spec.timezone or str(get_settings(request).tz)
            starts = body.starts_at
            post = calendar.create(
                session,
                access.community.id,
                PostRequest(
                    texts={"zh-CN": body.text.zh_cn, "en": body.text.en},
                    starts_at=starts,
                    timezone=tz_name,
                    kind=body.kind,
                    title=body.title,
                    rrule=body.rrule,
                    groups=body.groups,
                    segment=body.segment,
                    every_group=body.all_groups,
                    created_by=access.caller.username,
                    lang=body.lang,
                ),
                now,
            )
            record(
                session,
                "calendar.add",
                source="api",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=f"post:{post.id}",
            )
            return calendar.as_dict(post, now)
    except PROBLEMS as exc:
        raise ApiError(422, "invalid", str(exc), field=exc.field) from None


@router.get("/communities/{slug}/calendar", summary="Planned posts and their next occurrences")
def listing(
    slug: str, request: Request, access: CommunityAccess = Depends(require("read"))
) -> dict[str, Any]:
    with get_store(request).reading() as session:
        items = calendar.listing(session, access.community.id, datetime.now(UTC))
        for post in items:  # what each post's occurrences caused, on average
            post["effect"] = calendar_effects(session, access.community.id, post["id"])
    token = feed_token(get_settings(request).signing_key(), access.community.id)
    return {"items": items, "feed": f"/c/{slug}/calendar.ics?token={token}"}


def _change(
    request: Request, access: CommunityAccess, post_id: int, what: Literal["approve", "cancel"]
) -> dict[str, Any]:
    now = datetime.now(UTC)
    try:
        with get_store(request).unit_of_work() as session:
            if what == "approve":
                post = calendar.approve(
                    session, access.community.id, post_id, access.caller.username, now
                )
            else:
                post = calendar.cancel(session, access.community.id, post_id)
            record(
                session,
                f"calendar.{what}",
                source="api",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=f"post:{post_id}",
            )
            return calendar.as_dict(post, now)
    except PROBLEMS as exc:
        raise ApiError(409, "not_possible", str(exc), field=exc.field) from None


@router.post("/communities/{slug}/calendar/{post_id}/approve", summary="Approve a draft (admins)")
def approve(
    slug: str,
    post_id: ObjectId,
    request: Request,
    access: CommunityAccess = Depends(require("manage", ids={"post_id": rows_of(PlannedPost)})),
) -> dict[str, Any]:
    return _change(request, access, post_id, "approve")


@router.post("/communities/{slug}/calendar/{post_id}/cancel", summary="Cancel a planned post")
def cancel(
    slug: str,
    post_id: ObjectId,
    request: Request,
    access: CommunityAccess = Depends(require("moderate", ids={"post_id": rows_of(PlannedPost)})),
) -> dict[str, Any]:
    return _change(request, access, post_id, "cancel")
