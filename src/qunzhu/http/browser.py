"""The browser's side of a request: its session cookie, language cookie, and cookies to set.

Dependencies run before a route builds its response, and many routes return a response of
their own (a page, a redirect), so cookies decided early are queued in the request scope and
added to whatever response goes out by :class:`qunzhu.http.app.ResponseHeaders`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from qunzhu.auth.permissions import Caller
from qunzhu.auth.sessions import (
    COOKIE,
    LANG_COOKIE,
    SessionCodec,
    SessionData,
    anonymous_session,
    cookie_options,
)
from qunzhu.http.i18n import LANGUAGES

PENDING_COOKIES = "qunzhu.pending_cookies"
SCOPE_SESSION = "qunzhu.session"
SCOPE_CALLER = "qunzhu.caller"
SCOPE_SESSION_ID = "qunzhu.session_id"
LANG_MAX_AGE = 365 * 24 * 3600


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def codec_of(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.session_codec
    return codec


def _queue(request: Request, set_cookie: Any) -> None:
    probe = Response()  # borrow Starlette's cookie formatting
    set_cookie(probe)
    request.scope.setdefault(PENDING_COOKIES, []).extend(
        value.decode("latin-1") for key, value in probe.raw_headers if key == b"set-cookie"
    )


def set_session_cookie(request: Request, data: SessionData | None) -> None:
    """Have the response carry ``data`` as the session cookie (None: delete it)."""
    secure = is_https(request)
    if data is None:
        _queue(
            request,
            lambda r: r.delete_cookie(
                COOKIE, path="/", httponly=True, samesite="lax", secure=secure
            ),
        )
    else:
        value = codec_of(request).dumps(data)
        _queue(request, lambda r: r.set_cookie(COOKIE, value, **cookie_options(secure)))
    request.scope[SCOPE_SESSION] = data


def set_language_cookie(request: Request, language: str) -> None:
    if language in LANGUAGES:
        _queue(
            request,
            lambda r: r.set_cookie(
                LANG_COOKIE, language, **cookie_options(is_https(request), LANG_MAX_AGE)
            ),
        )


def read_session(request: Request) -> SessionData | None:
    """The valid session this browser presents, if any (read once per request)."""
    if SCOPE_SESSION not in request.scope:
        request.scope[SCOPE_SESSION] = codec_of(request).loads(request.cookies.get(COOKIE))
    found: SessionData | None = request.scope[SCOPE_SESSION]
    return found


def browser_session(request: Request) -> SessionData:
    """The browser's session, starting an anonymous one (for a CSRF token) when there is none."""
    data = read_session(request)
    if data is None:
        data = anonymous_session()
        set_session_cookie(request, data)
    return data


def remember_caller(request: Request, caller: Caller | None) -> None:
    request.scope[SCOPE_CALLER] = caller


def known_caller(request: Request) -> Caller | None:
    caller: Caller | None = request.scope.get(SCOPE_CALLER)
    return caller


def remember_session_id(request: Request, session_id: int) -> None:
    """The server-side session (row id) this request was signed in by."""
    request.scope[SCOPE_SESSION_ID] = session_id


def current_session_id(request: Request) -> int | None:
    found: int | None = request.scope.get(SCOPE_SESSION_ID)
    return found
