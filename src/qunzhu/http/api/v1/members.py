"""A member's personal data through the API: export it whole, or erase it (admins, owners);
and whether a member is a bot (admins, owners)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from qunzhu.auth.audit import record
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId
from qunzhu.store.privacy import PrivacyError, erase_member, export_member
from qunzhu.store.uncounted import UnknownMember, set_bot

router = APIRouter(tags=["members"])


def _operator(access: CommunityAccess) -> int | None:
    return getattr(access.caller, "operator_id", None)


@router.get(
    "/communities/{slug}/members/{member_id}/personal-data",
    summary="Everything stored about a member (personal-data capability)",
)
def export(
    slug: str,
    member_id: ObjectId,
    request: Request,
    access: CommunityAccess = Depends(require("personal_data")),
) -> dict[str, Any]:
    try:
        with get_store(request).unit_of_work() as session:
            data = export_member(session, access.community.id, member_id)
            record(
                session,
                "member.export",
                source="api",
                operator_id=_operator(access),
                community_id=access.community.id,
                target=str(member_id),
            )
    except PrivacyError as exc:
        raise ApiError(404, "unknown_member", str(exc), field="member_id") from None
    return data


@router.delete(
    "/communities/{slug}/members/{member_id}/personal-data",
    summary="Erase a member's names, account ids and message texts; counts stay",
)
def erase(
    slug: str,
    member_id: ObjectId,
    request: Request,
    access: CommunityAccess = Depends(require("personal_data")),
) -> dict[str, Any]:
    try:
        with get_store(request).unit_of_work() as session:
            counts = erase_member(session, access.community.id, member_id)
            record(
                session,
                "member.erase",
                source="api",
                operator_id=_operator(access),
                community_id=access.community.id,
                target=str(member_id),
                detail=counts,
            )
    except PrivacyError as exc:
        raise ApiError(404, "unknown_member", str(exc), field="member_id") from None
    return {"member": member_id, "erased": counts}


class BotMark(BaseModel):
    """Whether the member is a bot (an operator's word stands over the platform's data)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    is_bot: bool


@router.put(
    "/communities/{slug}/members/{member_id}/bot",
    summary="Mark a member as a bot, or not (admins): bots are kept out of rankings",
)
def mark_bot(
    slug: str,
    member_id: ObjectId,
    body: BotMark,
    request: Request,
    access: CommunityAccess = Depends(require("manage")),
) -> dict[str, Any]:
    try:
        with get_store(request).unit_of_work() as session:
            detail = set_bot(session, access.community.id, member_id, body.is_bot)
            record(
                session,
                "member.mark_bot" if body.is_bot else "member.unmark_bot",
                source="api",
                operator_id=_operator(access),
                community_id=access.community.id,
                target=str(member_id),
            )
    except UnknownMember as exc:
        raise ApiError(404, "unknown_member", str(exc), field="member_id") from None
    return detail
