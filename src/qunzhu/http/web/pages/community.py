"""Community (社群总览): positioning and its lint, groups with health and risk, charts, and
the spec (community.yaml) edited in the browser: validate, see the diff, then save."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from qunzhu.auth.audit import record
from qunzhu.http.deps import CommunityAccess, get_settings, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.i18n import translator
from qunzhu.http.templating import request_language
from qunzhu.http.web import charts
from qunzhu.http.web.pages.common import back, community_spec, local_today, page
from qunzhu.http.web.queries import charts as chart_data
from qunzhu.http.web.queries.common import page_of
from qunzhu.http.web.queries.community import community_totals, group_health
from qunzhu.readmodels.communities import communities_for
from qunzhu.spec import SpecError, lint, load_spec
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.models import Community
from qunzhu.store.uncounted import staff_naming_members

router = APIRouter()
GROUPS_PER_PAGE = 50
MAX_SPEC_BYTES = 200_000


def _positioning(spec: CommunitySpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "purpose": spec.purpose,
        "type": spec.type,
        "member_value": spec.member_value,
        "platforms": spec.platforms,
        "persona": spec.persona,
        "lifecycle": spec.lifecycle,
        "monetization": spec.monetization.model,
        "threshold": spec.threshold.kind,
        "size": spec.size,
        "slogan": spec.culture.slogan,
        "tiers": [(t.id, t.name_zh, t.name_en) for t in spec.tiers],
    }


@router.get("/c/{slug}/community")
def community_page(
    request: Request, p: int = 1, access: CommunityAccess = Depends(require("read"))
) -> Response:
    """Positioning, totals and groups; each chart arrives by its own request (below), so
    the page shows at once and a slow chart does not hold it up."""
    today = local_today(request)
    lang = request_language(request, access.caller)
    cid = access.community.id
    with get_store(request).reading() as session:
        spec = community_spec(session, cid)
        has_text = bool(session.scalar(select(Community.spec_yaml).where(Community.id == cid)))
        groups = group_health(session, cid, today, lang)
        # people and memberships as the home page and GET /communities/{slug} count them
        counted = communities_for(session, access.caller, today, only=cid)[0]
    totals = community_totals(groups) | {
        "people": counted.members,
        "memberships": counted.memberships,
    }
    findings = (
        [
            f.as_dict(lang)
            for f in lint(spec, today=today, names_member=_staff_check(request, cid, spec))
        ]
        if spec is not None
        else []
    )
    shown = page_of(p, GROUPS_PER_PAGE, len(groups))
    return page(
        request,
        access,
        "community.html",
        "community",
        {
            "spec": _positioning(spec) if spec is not None else None,
            "spec_broken": spec is None and has_text,
            "findings": findings,
            "groups": groups[shown.offset : shown.offset + shown.size],
            "groups_page": shown,
            "totals": totals,
            "chart_names": CHARTS,
        },
    )


CHARTS = ("value_trend", "role_mix", "funnel", "retention")


@router.get("/c/{slug}/community/charts/{name}")
def chart(
    request: Request, name: str, access: CommunityAccess = Depends(require("read"))
) -> Response:
    """One chart of the community page as a fragment: its ECharts option, or its empty
    state when there is nothing to draw yet."""
    if name not in CHARTS:
        raise ApiError(404, "not_found", f"no chart {name!r}", field="name")
    today = local_today(request)
    tz = get_settings(request).tz
    t = translator(request_language(request, access.caller))
    cid = access.community.id
    option: dict[str, Any]
    with get_store(request).reading() as session:
        if name == "value_trend":
            trend = chart_data.value_trend(session, cid, today)
            option, has_data = (
                charts.value_trend_option(trend, t),
                any(trend.messages) or any(trend.value),
            )
        elif name == "role_mix":
            mix = chart_data.role_mix(session, cid, today)
            option, has_data = charts.role_mix_option(mix, t), bool(mix)
        elif name == "funnel":
            stages = chart_data.funnel(session, cid, today, tz)
            option, has_data = charts.funnel_option(stages, t), any(v for _, v in stages)
        else:
            cohorts = chart_data.retention(session, cid, today, tz)
            option, has_data = charts.cohorts_option(cohorts, t), any(cohorts.sizes)
    return page(
        request,
        access,
        "chart_card.html",
        "community",
        {"key": name, "option": option, "has_data": has_data},
    )


def spec_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stored_spec_text(request: Request, community_id: int) -> str:
    with get_store(request).reading() as session:
        return session.scalar(select(Community.spec_yaml).where(Community.id == community_id)) or ""


@router.get("/c/{slug}/spec")
def spec_form(request: Request, access: CommunityAccess = Depends(require("manage"))) -> Response:
    text = stored_spec_text(request, access.community.id)
    return page(
        request,
        access,
        "spec.html",
        "community",
        {"text": text, "base": spec_digest(text), "problems": [], "diff": None, "findings": []},
    )


def _staff_check(request: Request, community_id: int, spec: CommunitySpec) -> Callable[[str], bool]:
    """Whether a staff entry names one of the community's members (lint QZ408)."""
    if not spec.staff:
        return lambda _entry: True
    with get_store(request).reading() as session:
        named = staff_naming_members(session.connection(), community_id, spec.staff)
    return named.__contains__


def check_spec_text(
    text: str, lang: str, request: Request, community_id: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(problems that stop saving, lint findings) for ``text``."""
    if len(text.encode()) > MAX_SPEC_BYTES:
        return [
            {
                "path": "",
                "line": 1,
                "column": 1,
                "message": f"the spec is larger than {MAX_SPEC_BYTES} bytes",
            }
        ], []
    try:
        spec = load_spec(text)
    except SpecError as exc:
        return [
            {"path": p.path, "line": p.line, "column": p.column, "message": p.text(lang)}
            for p in exc.problems
        ], []
    names = _staff_check(request, community_id, spec)
    found = lint(spec, today=local_today(request), names_member=names)
    return [], [f.as_dict(lang) for f in found]


@router.post("/c/{slug}/spec/preview")
def spec_preview(
    request: Request,
    text: str = Form(""),
    base: str = Form(""),
    access: CommunityAccess = Depends(require("manage")),
) -> Response:
    """Validate the edited spec and show what would change; nothing is saved yet."""
    lang = request_language(request, access.caller)
    text = text.replace("\r\n", "\n")
    stored = stored_spec_text(request, access.community.id)
    problems, findings = check_spec_text(text, lang, request, access.community.id)
    diff = list(
        difflib.unified_diff(stored.splitlines(), text.splitlines(), "saved", "edited", lineterm="")
    )
    return page(
        request,
        access,
        "spec.html",
        "community",
        {
            "text": text,
            "base": base,
            "problems": problems,
            "findings": findings,
            "diff": diff,
            "stale": base != spec_digest(stored),
            "previewed": True,
        },
        status=422 if problems else 200,
    )


@router.post("/c/{slug}/spec/save")
def spec_save(
    request: Request,
    text: str = Form(""),
    base: str = Form(""),
    access: CommunityAccess = Depends(require("manage")),
) -> Response:
    lang = request_language(request, access.caller)
    text = text.replace("\r\n", "\n")
    problems, findings = check_spec_text(text, lang, request, access.community.id)
    cid = access.community.id
    with get_store(request).unit_of_work() as session:
        community = session.get_one(Community, cid)
        stored = community.spec_yaml or ""
        if problems or base != spec_digest(stored):
            diff = list(
                difflib.unified_diff(
                    stored.splitlines(), text.splitlines(), "saved", "edited", lineterm=""
                )
            )
            return page(
                request,
                access,
                "spec.html",
                "community",
                {
                    "text": text,
                    "base": spec_digest(stored),
                    "problems": problems,
                    "findings": findings,
                    "diff": diff,
                    "stale": not problems,
                    "previewed": True,
                },
                status=422 if problems else 409,
            )
        community.spec_yaml = text
        record(
            session,
            "spec.update",
            source="web",
            operator_id=access.caller.operator_id,
            community_id=cid,
            target=access.community.slug,
            detail={"before": spec_digest(stored), "after": spec_digest(text)},
        )
    return back(f"/c/{access.community.slug}/community", done="spec_saved")
