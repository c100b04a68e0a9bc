"""Rendering dashboard pages: one Jinja2 environment and one ``render`` that every page uses.

``render`` gives each template the same context: ``t`` (messages in the request's
language), ``lang``, ``languages``, ``csrf_token`` (for every form), ``caller`` and
``request``. Pages shown to a logged-in operator are never cached by the browser or a proxy.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from qunzhu.auth.operator_sessions import masked_address
from qunzhu.auth.permissions import Caller
from qunzhu.auth.sessions import CSRF_FIELD, LANG_COOKIE
from qunzhu.http.browser import browser_session, known_caller
from qunzhu.http.i18n import LANGUAGES, choose_language, translator
from qunzhu.spec.zones import SHORT, local_time

HERE = Path(__file__).parent / "web"
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
STATIC_DIR = HERE / "static"


def when(value: datetime | date | None, tz: tzinfo | None = None, fmt: str = SHORT) -> str:
    """A time as the operator reads it: in the community's (or the group's) zone, short;
    the weekly report writes its times with the same function."""
    return local_time(value, tz, fmt)


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def merge_query(params: Mapping[str, Any], **changes: Any) -> str:
    """A query string: ``params`` with ``changes`` applied (empty values left out)."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in ("", None)})


TEMPLATES.env.filters["when"] = when
TEMPLATES.env.filters["merge_query"] = merge_query
TEMPLATES.env.filters["number"] = number
TEMPLATES.env.filters["masked_address"] = masked_address


def request_language(request: Request, caller: Caller | None = None) -> str:
    settings = request.app.state.settings
    operator_language = caller.language if caller is not None else None
    return choose_language(request.cookies.get(LANG_COOKIE), operator_language, settings.language)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    caller: Caller | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    caller = caller if caller is not None else known_caller(request)
    lang = request_language(request, caller)
    full: dict[str, Any] = {
        "t": translator(lang),
        "lang": lang,
        "languages": LANGUAGES,
        "caller": caller,
        "tz": request.app.state.settings.tz,
        # every page may hold a form (the language switch at least), so every page makes
        # sure the browser has a session to bind its CSRF token to
        "csrf_token": browser_session(request).csrf,
        "csrf_field": CSRF_FIELD,
        "current_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    full.update(context or {})
    response = TEMPLATES.TemplateResponse(
        request, template, full, status_code=status, headers=dict(headers or {})
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def render_error(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The dashboard's error page; the message is localized when the code is a known one."""
    t = translator(request_language(request, known_caller(request)))
    key = f"error.{code}"
    shown = t(key) if t(key) != key else message
    # a form's mistake names its field and value (e.g. an unknown variable): kept beside the
    # localized sentence, as the checker wrote it, for 422s only
    detail = message if status == 422 and shown != message else ""
    return render(
        request,
        "error.html",
        {"status": status, "code": code, "message": shown, "detail": detail},
        status=status,
        headers=headers,
    )
