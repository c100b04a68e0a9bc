"""Member (成员档案): timeline, value explained, tier progress, moderation history,
referrals with the member's invite code and personal invite link (asked for here by admins,
made by the bot of ``qunzhu serve``), orders; whether the member is a bot (admins); and the
member's personal data exported or erased (admins, owners)."""

from __future__ import annotations

import json
from datetime import date, datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from qunzhu.auth.audit import record
from qunzhu.growth.common import GrowthError
from qunzhu.growth.referrals import request_invite_link
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId
from qunzhu.http.templating import request_language
from qunzhu.http.web.pages.common import back, community_spec, local_today, page, unmasked
from qunzhu.http.web.queries import member as q
from qunzhu.http.web.queries.problems import moderation_history
from qunzhu.messaging.playbooks import progress_of
from qunzhu.readmodels.members import member_profile
from qunzhu.store.growth import InviteCode
from qunzhu.store.privacy import PrivacyError, erase_member, export_member
from qunzhu.store.scoped import MAX_ID
from qunzhu.store.uncounted import UnknownMember, set_bot

router = APIRouter()


@router.get("/c/{slug}/members/{member_id}")
def member_page(
    request: Request, member_id: ObjectId, access: CommunityAccess = Depends(require("read"))
) -> Response:
    open_ = unmasked(access)
    today = local_today(request)
    lang = request_language(request, access.caller)
    cid = access.community.id
    with get_store(request).reading() as session:
        member = q.find_member(session, cid, member_id)
        groups = q.group_names(session, cid)
        values = q.value_explained(session, cid, member.id, groups, today)
        orders, payments = q.orders_and_payments(session, member.id)
        # the figures and reasons of `qunzhu members explain` and GET …/members/{id}/explain
        explained = member_profile(session.connection(), cid, member.id, lang).document
        context = {
            "explained": explained,
            "who": q.who(session, member, open_),
            "memberships": q.memberships(session, member.id),
            "timeline": q.timeline(session, member.id, groups, open_),
            "values": values,
            "tier": q.tier_progress(
                session, cid, member.id, community_spec(session, cid), lang, today
            ),
            "moderation": moderation_history(session, cid, member.id, groups, open_),
            "referrals": q.referrals(session, member.id),
            "invite": session.execute(
                select(InviteCode.code, InviteCode.link).where(
                    InviteCode.community_id == cid, InviteCode.member_id == member.id
                )
            ).first(),
            "orders": orders,
            "payments": payments,
            "playbooks": progress_of(session.connection(), cid, member.id),
        }
    return page(request, access, "member.html", "community", context)


@router.post("/c/{slug}/members/{member_id}/invite-link")
def invite_link(
    request: Request,
    member_id: ObjectId,
    group_id: int = Form(..., ge=1, le=MAX_ID),
    member_limit: str = Form(""),
    access: CommunityAccess = Depends(require("manage")),
) -> Response:
    """Ask for the member's personal invite link into one of their groups (audited); the
    outbox carries it to the bot, which stores the link on the member's invite code."""
    limit_text = member_limit.strip()
    if limit_text and not limit_text.isdigit():
        raise ApiError(422, "invalid", "member limit must be a whole number", field="member_limit")
    try:
        with get_store(request).unit_of_work() as session:
            asked = request_invite_link(
                session.connection(),
                access.community.id,
                member_id,
                group_id,
                int(limit_text) if limit_text else None,
            )
            record(
                session,
                "referral.invite_link",
                source="web",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=str(member_id),
                detail={"group_id": group_id, "member_limit": asked["member_limit"]},
            )
    except GrowthError as exc:
        status = 404 if exc.reason.startswith("unknown_") else 422
        raise ApiError(status, exc.reason, str(exc)) from None
    return back(
        f"/c/{access.community.slug}/members/{member_id}",
        done="invite_link_queued",
    )


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


@router.post("/c/{slug}/members/{member_id}/export")
def export(
    request: Request,
    member_id: ObjectId,
    access: CommunityAccess = Depends(require("personal_data")),
) -> Response:
    """Everything stored about the member, as a JSON download (audited)."""
    try:
        with get_store(request).unit_of_work() as session:
            data = export_member(session, access.community.id, member_id)
            record(
                session,
                "member.export",
                source="web",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=str(member_id),
            )
    except PrivacyError as exc:
        raise ApiError(404, "not_found", str(exc), field="member_id") from None
    body = json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)
    name = f"{access.community.slug}-member-{member_id}.json"
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/c/{slug}/members/{member_id}/erase")
def erase(
    request: Request,
    member_id: ObjectId,
    confirm: str = Form(""),
    access: CommunityAccess = Depends(require("personal_data")),
) -> Response:
    """Erase names, account ids and message texts; counts stay. The operator types the
    member's number to confirm, so a stray tap cannot erase anyone."""
    path = f"/c/{access.community.slug}/members/{member_id}"
    if confirm.strip() != str(member_id):
        return back(path, done="erase_unconfirmed")
    try:
        with get_store(request).unit_of_work() as session:
            counts = erase_member(session, access.community.id, member_id)
            record(
                session,
                "member.erase",
                source="web",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=str(member_id),
                detail=counts,
            )
    except PrivacyError as exc:
        raise ApiError(404, "not_found", str(exc), field="member_id") from None
    return back(path, done="erased")


@router.post("/c/{slug}/members/{member_id}/bot")
def mark_bot(
    request: Request,
    member_id: ObjectId,
    is_bot: str = Form(""),
    access: CommunityAccess = Depends(require("manage")),
) -> Response:
    """Mark the member as a bot, or not: an operator's word stands over the platform's."""
    marked = is_bot == "1"
    try:
        with get_store(request).unit_of_work() as session:
            set_bot(session, access.community.id, member_id, marked)
            record(
                session,
                "member.mark_bot" if marked else "member.unmark_bot",
                source="web",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=str(member_id),
            )
    except UnknownMember as exc:
        raise ApiError(404, "not_found", str(exc), field="member_id") from None
    path = f"/c/{access.community.slug}/members/{member_id}"
    return back(path, done="marked_bot" if marked else "unmarked_bot")
