"""Value, roles, tiers, health, funnel and the weekly report's numbers, as JSON.

Every route reads the engines' tables (computed by `qunzhu recompute` or ``POST
…/recompute``); none scans raw messages. Message texts shown (unanswered questions, a
member's top messages) have phone numbers and e-mail addresses masked unless the caller
holds the ``personal_data`` capability.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from qunzhu.auth.audit import record
from qunzhu.auth.permissions import mask_text
from qunzhu.engines import views
from qunzhu.engines.recompute import recompute_community
from qunzhu.engines.tierlock import TierLockError, lock_tier, unlock_tier
from qunzhu.http.days import Day
from qunzhu.http.deps import CommunityAccess, get_settings, get_store, require
from qunzhu.http.errors import ERROR_RESPONSES, ApiError
from qunzhu.http.ownership import ObjectId
from qunzhu.readmodels.health import group_health
from qunzhu.readmodels.members import UnknownMember, member_profile, members_by_value
from qunzhu.reports.weekly import weekly_data

router = APIRouter(tags=["intelligence"], responses=ERROR_RESPONSES)
LANG = Query("en", pattern="^(en|zh|zh-CN)$", description="en or zh-CN")


class TierLockIn(BaseModel):
    tier: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


def _masked(access: CommunityAccess, text: str) -> str:
    return text if access.can("personal_data") else mask_text(text)


@router.get("/communities/{slug}/health", summary="Each group's health and death risk")
def health(
    request: Request,
    slug: str,
    day: Day | None = None,
    lang: str = LANG,
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    with get_store(request).read_engine.connect() as conn:
        rows = group_health(conn, access.community.id, day, lang)
    return {"community": slug, "groups": [r.as_json() for r in rows]}


@router.get("/communities/{slug}/health/history", summary="Death risk and value per day")
def health_history(
    request: Request,
    slug: str,
    days: int = Query(28, ge=1, le=365),
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    with get_store(request).read_engine.connect() as conn:
        return {"community": slug, "groups": views.health_history(conn, access.community.id, days)}


@router.get("/communities/{slug}/members/value", summary="Members by value, role and tier")
def members_value(
    request: Request,
    slug: str,
    group: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    with get_store(request).read_engine.connect() as conn:
        try:
            gid = views.group_id_of(conn, access.community.id, group) if group else None
        except views.UnknownCommunity as exc:
            raise ApiError(404, "unknown_group", str(exc), field="group") from None
        rows = members_by_value(conn, access.community.id, gid, limit)
    return {"community": slug, "members": [asdict(r) for r in rows]}


@router.get(
    "/communities/{slug}/members/{member_id}/explain",
    summary="Why a member has their value, role and tier; what the next tier needs",
)
def member_explain(
    request: Request,
    slug: str,
    member_id: ObjectId,
    lang: str = LANG,
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    with get_store(request).read_engine.connect() as conn:
        try:
            profile = member_profile(conn, access.community.id, member_id, lang)
        except UnknownMember:
            profile = None
    if profile is None or not profile.known:
        raise ApiError(404, "unknown_member", f"no member {member_id} here", field="member_id")
    data = profile.document
    for m in data["top_messages"]:
        m["text"] = _masked(access, m["text"])
    return data


@router.get("/communities/{slug}/alerts", summary="Groups that crossed a line")
def alerts(
    request: Request,
    slug: str,
    limit: int = Query(50, ge=1, le=500),
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    with get_store(request).read_engine.connect() as conn:
        return {"community": slug, "alerts": views.alerts(conn, access.community.id, limit)}


@router.get("/communities/{slug}/funnel", summary="Joins by source, retention, paid")
def funnel(
    request: Request,
    slug: str,
    weeks: int = Query(12, ge=1, le=104),
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    with get_store(request).read_engine.connect() as conn:
        day = (
            views.latest_day(conn, access.community.id)
            or datetime.now(get_settings(request).tz).date()
        )
        return views.funnel_data(conn, access.community.id, day, weeks, get_settings(request).tz)


@router.get("/communities/{slug}/reports/weekly", summary="The weekly report's numbers")
def weekly(
    request: Request,
    slug: str,
    day: Day | None = None,
    lang: str = LANG,
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    with get_store(request).read_engine.connect() as conn:
        try:
            data = weekly_data(conn, access.community.id, day, lang, get_settings(request).tz)
        except LookupError as exc:
            raise ApiError(409, "not_computed", str(exc)) from None
    for q in data["unanswered"]:
        q["text"] = _masked(access, q["text"])
    for g in data["groups"]:
        g.pop("reason_detail")
    for g in data["at_risk"]:
        g.pop("reason_detail", None)
    return data


@router.post("/communities/{slug}/recompute", summary="Score new messages; recompute all")
def recompute(
    request: Request,
    slug: str,
    day: Day | None = None,
    access: CommunityAccess = Depends(require("manage")),
) -> dict[str, Any]:
    store = get_store(request)
    tz = get_settings(request).tz
    with store.engine.connect() as conn, conn.begin():
        at = day or views.latest_data_day(conn, access.community.id) or datetime.now(tz).date()
        result = recompute_community(conn, access.community.id, at, tz)
    return result.as_dict()


@router.put(
    "/communities/{slug}/members/{member_id}/tier-lock",
    summary="Put a member in a tier by hand and keep them there",
)
def tier_lock(
    request: Request,
    slug: str,
    member_id: ObjectId,
    body: TierLockIn,
    access: CommunityAccess = Depends(require("manage")),
) -> dict[str, Any]:
    now = datetime.now(get_settings(request).tz)
    with get_store(request).unit_of_work() as session:
        try:
            result = lock_tier(
                session.connection(), access.community.id, member_id, body.tier, body.reason, now
            )
        except TierLockError as exc:
            raise ApiError(422, "tier_lock", str(exc), field="tier") from None
        record(
            session,
            "member.tier_lock",
            source="api",
            operator_id=getattr(access.caller, "operator_id", None),
            community_id=access.community.id,
            target=str(member_id),
            detail={"tier": body.tier, "reason": body.reason},
        )
    return result


@router.delete(
    "/communities/{slug}/members/{member_id}/tier-lock",
    summary="Let the rules move the member's tier again",
)
def tier_unlock(
    request: Request,
    slug: str,
    member_id: ObjectId,
    access: CommunityAccess = Depends(require("manage")),
) -> dict[str, Any]:
    now = datetime.now(get_settings(request).tz)
    with get_store(request).unit_of_work() as session:
        try:
            result = unlock_tier(session.connection(), access.community.id, member_id, now)
        except TierLockError as exc:
            raise ApiError(404, "not_locked", str(exc), field="member_id") from None
        record(
            session,
            "member.tier_unlock",
            source="api",
            operator_id=getattr(access.caller, "operator_id", None),
            community_id=access.community.id,
            target=str(member_id),
        )
    return result
