"""Send (群发): compose a message once, preview what each target would get, then queue it —
the same ``qunzhu.messaging.broadcast`` as ``qunzhu send`` and the API; then each
delivery's status and what the message caused on the broadcast's page.

Moderators send to groups they pick and to members one by one; a whole segment or every
group takes an admin; analysts see the broadcasts. The send button posts the fields the
preview was made from with their digest: text changed after the preview is previewed
again, never sent unseen.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from qunzhu.auth.audit import record
from qunzhu.growth.common import spec_of
from qunzhu.http.deps import CommunityAccess, get_settings, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId, rows_of
from qunzhu.http.web.pages.common import back, page
from qunzhu.messaging.broadcast import NotAssigned, SendRequest, community_zone, send
from qunzhu.messaging.compose import GROUP_VARIABLES, MEMBER_VARIABLES, ComposeError
from qunzhu.messaging.preview import preview
from qunzhu.readmodels.assigned import assigned_groups
from qunzhu.readmodels.message_effects import effects_of
from qunzhu.readmodels.message_effects import summary as effect_summary
from qunzhu.store import broadcasts
from qunzhu.store.broadcasts import AudienceError, group_targets
from qunzhu.store.messaging import Broadcast
from qunzhu.store.send_options import chat_names, segments_in_use

router = APIRouter()
AUDIENCES = ("groups", "segment", "all", "members")
ADMIN_AUDIENCES = frozenset({"segment", "all"})
MAX_FIELD = 8000
_SPLIT = re.compile(r"[\s,，、;；]+")


class FormError(ValueError):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class SendForm:
    text_zh: str = ""
    text_en: str = ""
    lang: str = "zh-CN"
    to: str = "groups"
    groups: list[str] = field(default_factory=list)
    segment: str = ""
    members: str = ""
    send_at: str = ""

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:24]

    def request(self, created_by: str) -> SendRequest:
        if self.to not in AUDIENCES:
            raise FormError("choose who the message goes to", field="to")
        when = None
        if self.send_at.strip():
            try:
                when = datetime.fromisoformat(self.send_at.strip())
            except ValueError:
                raise FormError("a date and time, e.g. 2026-12-24T09:00", field="send_at") from None
        members = [m for m in _SPLIT.split(self.members) if m] if self.to == "members" else []
        return SendRequest(
            texts={"zh-CN": self.text_zh, "en": self.text_en},
            groups=self.groups if self.to == "groups" else (),
            segment=(self.segment or None) if self.to == "segment" else None,
            every_group=self.to == "all",
            members=members,
            lang="en" if self.lang == "en" else "zh-CN",
            send_at=when,
            created_by=created_by,
        )


async def _form(request: Request) -> tuple[SendForm, str]:
    data = await request.form()

    def one(name: str) -> str:
        value = data.get(name)
        if not isinstance(value, str):
            return ""
        if len(value) > MAX_FIELD:
            raise ApiError(422, "invalid", f"{name} is longer than {MAX_FIELD}", field=name)
        return value.replace("\r\n", "\n")

    groups = [g for g in data.getlist("group") if isinstance(g, str) and g][:5000]
    form = SendForm(
        text_zh=one("text_zh"),
        text_en=one("text_en"),
        lang=one("lang") or "zh-CN",
        to=one("to") or "groups",
        groups=groups,
        segment=one("segment"),
        members=one("members"),
        send_at=one("send_at"),
    )
    return form, one("digest")


def _options(request: Request, access: CommunityAccess) -> dict[str, Any]:
    cid = access.community.id
    with get_store(request).reading() as session:
        mine = assigned_groups(session, cid, access.caller)
        groups = group_targets(session, cid, every_group=True)
        return {
            # a moderator is offered the groups assigned to them, where they may send
            "groups": [g for g in groups if mine is None or g.group_id in mine],
            "segments": segments_in_use(session, cid),
            "recent": broadcasts.recent(session, cid, 20),
            "group_variables": sorted(GROUP_VARIABLES),
            "member_variables": sorted(MEMBER_VARIABLES),
        }


def _shown(
    request: Request,
    access: CommunityAccess,
    form: SendForm,
    *,
    preview: dict[str, Any] | None = None,
    error: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {
        **_options(request, access),
        "form": form,
        "digest": form.digest(),
        "preview": preview,
        "error": error,
    }
    return page(request, access, "send.html", "send", context, status=status)


@router.get("/c/{slug}/send")
def send_page(request: Request, access: CommunityAccess = Depends(require("read"))) -> Response:
    return _shown(request, access, SendForm())


def _check_audience(access: CommunityAccess, form: SendForm) -> None:
    if form.to in ADMIN_AUDIENCES and not access.can("manage"):
        raise ApiError(
            403,
            "forbidden",
            "a whole segment or every group takes an admin: pick groups",
            field="to",
        )


def _prepared(
    request: Request, access: CommunityAccess, form: SendForm, *, queue: bool
) -> tuple[int | None, dict[str, Any]]:
    """The preview's summary, and with ``queue`` the queued broadcast's id."""
    ask = form.request(access.caller.username)
    now = datetime.now(UTC)
    cid = access.community.id
    with get_store(request).unit_of_work() as session:
        mine = assigned_groups(session, cid, access.caller)
        ask = replace(ask, allowed_groups=None if mine is None else frozenset(mine))
        spec = spec_of(session.connection(), cid)
        tz = community_zone(spec, get_settings(request).tz)
        if ask.send_at is not None and ask.send_at.tzinfo is None:
            ask = replace(ask, send_at=ask.send_at.replace(tzinfo=tz))
        _, summary = preview(session, cid, spec, tz, ask, now)
        if not queue:
            return None, summary
        broadcast_id, queued = send(session, cid, access.community.slug, spec, tz, ask, now)
        record(
            session,
            "broadcast.send",
            source="web",
            operator_id=access.caller.operator_id,
            community_id=cid,
            target=f"broadcast:{broadcast_id}",
            detail={"targets": len(queued.deliveries), "outcomes": summary["outcomes"]},
        )
    return broadcast_id, summary


PROBLEMS = (ComposeError, AudienceError, FormError)


@router.post("/c/{slug}/send/preview")
async def send_preview(
    request: Request, access: CommunityAccess = Depends(require("moderate"))
) -> Response:
    form, _ = await _form(request)
    _check_audience(access, form)
    try:
        _, summary = _prepared(request, access, form, queue=False)
    except PROBLEMS as exc:
        error = {"field": exc.field, "message": str(exc)}
        status = 403 if isinstance(exc, NotAssigned) else 422
        return _shown(request, access, form, error=error, status=status)
    return _shown(request, access, form, preview=summary)


@router.post("/c/{slug}/send")
async def send_now(
    request: Request, access: CommunityAccess = Depends(require("moderate"))
) -> Response:
    form, digest = await _form(request)
    _check_audience(access, form)
    try:
        if digest != form.digest():  # changed since the preview, or never previewed
            _, summary = _prepared(request, access, form, queue=False)
            return _shown(request, access, form, preview=summary | {"changed": True}, status=409)
        broadcast_id, _ = _prepared(request, access, form, queue=True)
    except PROBLEMS as exc:
        error = {"field": exc.field, "message": str(exc)}
        status = 403 if isinstance(exc, NotAssigned) else 422
        return _shown(request, access, form, error=error, status=status)
    return back(f"/c/{access.community.slug}/broadcasts/{broadcast_id}", done="broadcast_queued")


@router.get("/c/{slug}/broadcasts/{broadcast_id}")
def broadcast_page(
    request: Request,
    broadcast_id: ObjectId,
    access: CommunityAccess = Depends(require("read", ids={"broadcast_id": rows_of(Broadcast)})),
) -> Response:
    cid = access.community.id
    with get_store(request).reading() as session:
        found = broadcasts.summary(session, cid, broadcast_id)
        if found is None:
            raise ApiError(404, "not_found", f"no broadcast {broadcast_id}", field="broadcast_id")
        found["effect"] = effect_summary(effects_of(session, cid, broadcast_id))
        names = chat_names(
            session,
            cid,
            [(d["platform"], str(d["chat"]), d["private"]) for d in found["deliveries"]],
        )
    for d in found["deliveries"]:
        d["name"] = names.get((d["platform"], str(d["chat"])), str(d["chat"]))
    return page(request, access, "broadcast.html", "send", {"b": found})
