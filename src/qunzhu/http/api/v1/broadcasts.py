"""Messages to groups or to members one by one: preview, send (queued for the connectors),
and what became of each delivery. Moderators send; analysts read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from qunzhu.auth.audit import record
from qunzhu.growth.common import spec_of
from qunzhu.http.deps import CommunityAccess, get_settings, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId, rows_of
from qunzhu.messaging.broadcast import NotAssigned, SendRequest, community_zone, send
from qunzhu.messaging.compose import ComposeError
from qunzhu.messaging.preview import preview
from qunzhu.readmodels.assigned import assigned_groups
from qunzhu.readmodels.message_effects import effects_of
from qunzhu.readmodels.message_effects import summary as effect_summary
from qunzhu.store import broadcasts
from qunzhu.store.broadcasts import AudienceError
from qunzhu.store.messaging import Broadcast

router = APIRouter(tags=["broadcasts"])


class Texts(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    zh_cn: str | None = Field(None, alias="zh-CN", max_length=8000)
    en: str | None = Field(None, max_length=8000)


class BroadcastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Texts = Field(
        description="the message; variables {group} {community}, to members "
        "also {name} {tier} {days_left}"
    )
    groups: list[str] = Field(
        default_factory=list, max_length=5000, description="group ids, platform ids or names"
    )
    segment: str | None = Field(None, max_length=64, description="every group of this segment")
    all_groups: bool = False
    members: list[str] = Field(
        default_factory=list,
        max_length=20000,
        description="member ids or platform user ids: private messages",
    )
    lang: str = Field("zh-CN", pattern="^(zh-CN|en)$")
    send_at: datetime | None = Field(None, description="send at this time (else now)")
    preview: bool = Field(False, description="show what would go where; send nothing")


@router.post("/communities/{slug}/broadcasts", summary="Send (or preview) a message")
def create(
    slug: str,
    body: BroadcastIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    send_at = body.send_at  # without a zone: read in the community's, below
    ask = SendRequest(
        texts={"zh-CN": body.text.zh_cn, "en": body.text.en},
        groups=body.groups,
        segment=body.segment,
        every_group=body.all_groups,
        members=body.members,
        lang=body.lang,
        send_at=send_at,
        created_by=access.caller.username,
    )
    tz = get_settings(request).tz
    now = datetime.now(UTC)
    try:
        with get_store(request).unit_of_work() as session:
            mine = assigned_groups(session, access.community.id, access.caller)
            ask = replace(ask, allowed_groups=None if mine is None else frozenset(mine))
            spec = spec_of(session.connection(), access.community.id)
            tz = community_zone(spec, tz)
            if ask.send_at is not None and ask.send_at.tzinfo is None:
                ask = replace(ask, send_at=ask.send_at.replace(tzinfo=tz))
            if body.preview:  # with what the send page shows: reach, quiet hours, the cap
                planned, summary = preview(session, access.community.id, spec, tz, ask, now)
                return {
                    "id": None,
                    "preview": True,
                    "deliveries": planned.as_rows(),
                    "summary": summary,
                }
            broadcast_id, planned = send(
                session, access.community.id, access.community.slug, spec, tz, ask, now
            )
            record(
                session,
                "broadcast.send",
                source="api",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=f"broadcast:{broadcast_id}",
                detail={"targets": len(planned.deliveries)},
            )
    except NotAssigned as exc:
        raise ApiError(403, "forbidden", str(exc), field=exc.field) from None
    except (ComposeError, AudienceError) as exc:
        raise ApiError(422, "invalid", str(exc), field=exc.field) from None
    return {"id": broadcast_id, "preview": False, "deliveries": planned.as_rows()}


@router.get(
    "/communities/{slug}/broadcasts", summary="Recent broadcasts and their deliveries' counts"
)
def list_broadcasts(
    slug: str,
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    with get_store(request).reading() as session:
        return {"items": broadcasts.recent(session, access.community.id, limit)}


@router.get("/communities/{slug}/broadcasts/{broadcast_id}", summary="One broadcast, each delivery")
def one(
    slug: str,
    broadcast_id: ObjectId,
    request: Request,
    access: CommunityAccess = Depends(require("read", ids={"broadcast_id": rows_of(Broadcast)})),
) -> dict[str, Any]:
    with get_store(request).reading() as session:
        found = broadcasts.summary(session, access.community.id, broadcast_id)
        if found is not None:  # what it caused: the 24 h after it in each group reached
            found["effect"] = effect_summary(effects_of(session, access.community.id, broadcast_id))
    if found is None:
        raise ApiError(404, "not_found", f"no broadcast {broadcast_id}", field="broadcast_id")
    return found
