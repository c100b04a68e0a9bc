"""Dashboard pages: login, logout, the language switch, the start page, the API reference.

Later pages declare what they need the same way the API does, and the error handler turns a
missing session into a redirect to ``/login?next=…``::

    @router.get("/c/{slug}/review")
    def review(request: Request, access: CommunityAccess = Depends(require("moderate"))):
        return render(request, "review.html", {...}, caller=access.caller)
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from qunzhu.auth.credentials import password_fingerprint
from qunzhu.auth.operator_sessions import revoke_session, start_session
from qunzhu.auth.operators import caller_for, check_password_login, record_login
from qunzhu.auth.permissions import Caller
from qunzhu.auth.ratelimit import (
    LoginLimiter,
    need_to_limit_login,
    record_login_failure,
    reset_login,
)
from qunzhu.auth.sessions import csrf_matches, login_session, pending_session, safe_next
from qunzhu.auth.twofactor import (
    ENABLE_COMMAND,
    accept_login_code,
    blocked_without_2fa,
    has_2fa,
)
from qunzhu.http.browser import (
    current_session_id,
    read_session,
    set_language_cookie,
    set_session_cookie,
)
from qunzhu.http.deps import current_caller, get_settings, get_store, optional_caller
from qunzhu.http.errors import csrf_failed
from qunzhu.http.i18n import translator
from qunzhu.http.templating import render, request_language
from qunzhu.http.web.pages import build_router
from qunzhu.readmodels.communities import CommunityRow, communities_for
from qunzhu.store.models import Operator

log = logging.getLogger(__name__)

GROUPS_ON_START_PAGE = 20  # per community; the community page lists them all

router = APIRouter(include_in_schema=False)


def _redirect(target: str) -> RedirectResponse:
    # 303: the browser follows a POST with a GET, so a reload does not post again
    return RedirectResponse(target, status_code=303)


def _check_form_csrf(request: Request, presented: str) -> None:
    """For forms posted without a login (login, language): bind to the anonymous session."""
    data = read_session(request)
    if data is None or not csrf_matches(data.csrf, presented):
        raise csrf_failed()


def _login_form(
    request: Request,
    *,
    next_path: str,
    username: str = "",
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "login.html",
        {"next": next_path, "username": username, "error": error},
        status=status,
        headers=headers,
    )


@router.get("/login")
def login_page(
    request: Request, next: str = "/", caller: Caller | None = Depends(optional_caller)
) -> Response:
    if caller is not None:
        return _redirect(safe_next(next))
    return _login_form(request, next_path=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form("/"),
) -> Response:
    _check_form_csrf(request, csrf_token)
    next_path = safe_next(next)
    t = translator(request_language(request))
    limiter: LoginLimiter = request.app.state.login_limiter
    # the peer, or what a trusted proxy said it is (QUNZHU_TRUSTED_PROXIES, see serve)
    address = request.client.host if request.client else None
    limited, retry_after = need_to_limit_login(limiter, username, address)
    if limited:
        log.warning("login rate limit hit for %r from %s", username[:64], address)
        minutes = max(1, (retry_after + 59) // 60)
        return _login_form(
            request,
            next_path=next_path,
            username=username,
            error=t("login.rate_limited", minutes=minutes),
            status=429,
            headers={"Retry-After": str(retry_after)},
        )
    store = get_store(request)
    with store.reading() as session:
        operator = check_password_login(session, username, password)
        operator_id = operator.id if operator is not None else None
        if operator is not None:
            second_factor = has_2fa(operator)
            caller = caller_for(session, operator, via="session")
            fingerprint = password_fingerprint(operator.password_hash)
    if operator_id is None:
        record_login_failure(limiter, username, address)
        return _login_form(
            request, next_path=next_path, username=username, error=t("login.failed"), status=401
        )
    if blocked_without_2fa(
        get_settings(request),
        has_second_factor=second_factor,
        is_superuser=caller.is_superuser,
        roles=caller.roles,
    ):
        log.info("sign-in of %r refused: QUNZHU_REQUIRE_2FA and no 2FA", caller.username)
        error = t("login.2fa_required", command=f"{ENABLE_COMMAND} {caller.username}")
        return _login_form(request, next_path=next_path, username=username, error=error, status=403)
    if second_factor:
        set_session_cookie(request, pending_session(operator_id, fingerprint))
        return _redirect(f"/login/code?next={quote(next_path, safe='')}")
    with store.unit_of_work() as session:
        fingerprint = record_login(session, operator_id, password, source="web")
        key = _start(request, session, operator_id)
    reset_login(limiter, username)
    set_session_cookie(request, login_session(operator_id, fingerprint, key=key))
    return _redirect(next_path)


def _start(request: Request, session: Session, operator_id: int) -> str:
    """The server-side session of a sign-in (its key goes into the cookie)."""
    return start_session(
        session,
        operator_id,
        user_agent=request.headers.get("user-agent", ""),
        address=request.client.host if request.client else None,
    )


def _code_form(
    request: Request, *, next_path: str, error: str | None = None, status: int = 200
) -> HTMLResponse:
    return render(request, "login_code.html", {"next": next_path, "error": error}, status=status)


@router.get("/login/code")
def login_code_page(request: Request, next: str = "/") -> Response:
    data = read_session(request)
    if data is None or data.pending_id is None:
        return _redirect(f"/login?next={quote(safe_next(next), safe='')}")
    return _code_form(request, next_path=safe_next(next))


@router.post("/login/code")
def login_code(
    request: Request, code: str = Form(""), csrf_token: str = Form(""), next: str = Form("/")
) -> Response:
    """The second step: the six digits from the authenticator app. Wrong codes count toward
    the same limit as wrong passwords, per account and per address."""
    _check_form_csrf(request, csrf_token)
    next_path = safe_next(next)
    data = read_session(request)
    if data is None or data.pending_id is None:  # none, or the five minutes ran out
        return _redirect(f"/login?next={quote(next_path, safe='')}")
    t = translator(request_language(request))
    store = get_store(request)
    with store.reading() as session:
        operator = session.get(Operator, data.pending_id)
        username = operator.username if operator is not None else ""
        fresh = (
            operator is not None
            and operator.active
            and password_fingerprint(operator.password_hash) == data.fingerprint
        )
    if not fresh:  # deactivated or password changed since the first step
        set_session_cookie(request, None)
        return _redirect("/login")
    limiter: LoginLimiter = request.app.state.login_limiter
    address = request.client.host if request.client else None
    limited, retry_after = need_to_limit_login(limiter, username, address)
    if limited:
        log.warning("two-factor rate limit hit for %r from %s", username, address)
        minutes = max(1, (retry_after + 59) // 60)
        return _code_form(
            request,
            next_path=next_path,
            error=t("login.rate_limited", minutes=minutes),
            status=429,
        )
    settings = get_settings(request)
    with store.unit_of_work() as session:
        accepted = accept_login_code(session, settings, data.pending_id, code)
        if accepted:
            fingerprint = record_login(session, data.pending_id, None, source="web")
            key = _start(request, session, data.pending_id)
    if not accepted:
        record_login_failure(limiter, username, address)
        return _code_form(request, next_path=next_path, error=t("login.code_failed"), status=401)
    reset_login(limiter, username)
    set_session_cookie(request, login_session(data.pending_id, fingerprint, key=key))
    return _redirect(next_path)


@router.post("/logout")
def logout(request: Request, caller: Caller = Depends(current_caller)) -> Response:
    session_id = current_session_id(request)
    if session_id is not None:  # None: signed in with a token, there is no session to end
        with get_store(request).unit_of_work() as session:
            revoke_session(
                session,
                caller.operator_id,
                session_id,
                reason="signed out",
                actor_id=caller.operator_id,
                source="web",
            )
    set_session_cookie(request, None)
    return _redirect("/login")


@router.post("/lang")
def switch_language(
    request: Request, lang: str = Form(...), csrf_token: str = Form(""), next: str = Form("/")
) -> Response:
    _check_form_csrf(request, csrf_token)
    set_language_cookie(request, lang)
    return _redirect(safe_next(next))


def _start_page_rows(rows: list[CommunityRow]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        busiest = sorted(row.groups, key=lambda g: (-g.messages_7d, -g.members, g.name))
        out.append(
            {
                "community": row,
                "groups": busiest[:GROUPS_ON_START_PAGE],
                "more": max(0, len(busiest) - GROUPS_ON_START_PAGE),
            }
        )
    return out


@router.get("/")
def start_page(request: Request, caller: Caller = Depends(current_caller)) -> Response:
    today = datetime.now(get_settings(request).tz).date()
    with get_store(request).reading() as session:
        rows = communities_for(session, caller, today)
    return render(request, "index.html", {"rows": _start_page_rows(rows)}, caller=caller)


@router.get("/api/docs")
def api_reference(request: Request, caller: Caller | None = Depends(optional_caller)) -> Response:
    """The API reference, rendered from the OpenAPI document on the server (no CDN)."""
    spec = request.app.openapi()
    operations = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "tags": op.get("tags", []),
                    "parameters": [p["name"] for p in op.get("parameters", [])],
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return render(
        request,
        "api_docs.html",
        {"operations": operations, "openapi_url": request.app.openapi_url},
        caller=caller,
    )


router.include_router(build_router())  # the community pages (qunzhu.http.web.pages)
