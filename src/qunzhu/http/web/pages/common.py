"""What every dashboard page needs: the community's tabs, dates, masking, redirects."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.auth.permissions import Action
from qunzhu.http.deps import CommunityAccess, get_settings, get_store
from qunzhu.http.i18n import catalog, translator
from qunzhu.http.templating import render, request_language
from qunzhu.http.web.names import Names
from qunzhu.spec import SpecError, load_spec
from qunzhu.spec.schema import CommunitySpec
from qunzhu.spec.zones import spec_zone
from qunzhu.store.models import Community, utcnow

# (tab key, path under /c/{slug}, capability needed to see it)
TABS: tuple[tuple[str, str, Action], ...] = (
    ("today", "", "read"),
    ("community", "/community", "read"),
    ("review", "/review", "moderate"),
    ("growth", "/growth", "read"),
    ("calendar", "/calendar", "read"),
    ("send", "/send", "read"),
    ("playbooks", "/playbooks", "read"),
    ("library", "/library", "read"),
    ("connectors", "/connectors", "read"),
    ("operators", "/operators", "operators"),
    ("audit", "/audit", "manage"),
)


def local_today(request: Request) -> date:
    return datetime.now(get_settings(request).tz).date()


def shown_zone(request: Request, community_id: int, group: str | None = None) -> tzinfo:
    """The zone a community's (or one group's, by platform id) times are shown in: the
    spec's, else QUNZHU_TIMEZONE (see qunzhu.spec.zones)."""
    with get_store(request).reading() as session:
        text = session.scalar(select(Community.spec_yaml).where(Community.id == community_id))
    return spec_zone(text, get_settings(request).tz, group)


def now_utc() -> datetime:
    return utcnow()


def unmasked(access: CommunityAccess) -> bool:
    """Whether this caller sees phone numbers, real names and contact details whole."""
    return access.can("personal_data")


def community_spec(session: Session, community_id: int) -> CommunitySpec | None:
    """The stored spec, or None when there is none or it no longer loads."""
    text = session.scalar(select(Community.spec_yaml).where(Community.id == community_id))
    if not text:
        return None
    try:
        return load_spec(text)
    except SpecError:
        return None


def known_done(request: Request) -> str:
    """The notice after a form: only a known message key, never text from the address bar."""
    done = request.query_params.get("done", "")
    return done if f"done.{done}" in catalog("en") else ""


def page(
    request: Request,
    access: CommunityAccess,
    template: str,
    tab: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render a community page with its tab bar and the caller's capabilities."""
    slug = access.community.slug
    tabs = [(key, f"/c/{slug}{path}", key == tab) for key, path, need in TABS if access.can(need)]
    actions: tuple[Action, ...] = ("read", "moderate", "manage", "personal_data", "operators")
    can = {a: access.can(a) for a in actions}
    done = known_done(request)
    with get_store(request).reading() as session:
        spec = community_spec(session, access.community.id)
    lang = request_language(request, access.caller)
    full = {
        "names": Names(translator(lang), lang, spec),
        "community": access.community,
        "tabs": tabs,
        "can": can,
        "role": access.role,
        "done": done,
        **context,
    }
    if "tz" not in context:  # a group's page brings its group's zone
        full["tz"] = shown_zone(request, access.community.id)
    return render(request, template, full, caller=access.caller, status=status)


def back(path: str, **params: str | int) -> RedirectResponse:
    """303 to ``path`` (with ``params``): a reload after a form does not post again."""
    query = urlencode({k: v for k, v in params.items() if v not in ("", None)})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)
