"""Browser sessions: a signed cookie that carries the operator and a session-bound CSRF token.

The cookie is ``{"o": operator id or null, "c": csrf token, "p": password fingerprint,
"t": login time, "s": session key}`` signed with ``settings.signing_key()``. The session key
names a row on the server (:mod:`.operator_sessions`) that must still be live: that is what
makes sessions listable and revocable.
A visitor who is not logged in still gets an anonymous session (``o`` null) so the login and
language forms carry a CSRF token too; logging in makes a new session with a new token.

Expiry: a session ends after :data:`IDLE_SECONDS` without a request (the cookie is signed
again as it is used) and in any case :data:`MAX_AGE_SECONDS` after login. Changing the
password ends all sessions, since the fingerprint no longer matches (and their rows are
revoked).

Two-factor sign-in: after a right password an operator with TOTP gets a session that is
still anonymous but names them as *pending* (``"m"``, with the fingerprint and time of the
password step); only the code page accepts it, for :data:`PENDING_SECONDS`.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from qunzhu.auth.credentials import same_secret

COOKIE = "qz_session"
LANG_COOKIE = "qz_lang"
IDLE_SECONDS = 12 * 3600
MAX_AGE_SECONDS = 7 * 24 * 3600
PENDING_SECONDS = 5 * 60  # from a right password to the two-factor code
REFRESH_AFTER = 10 * 60  # re-sign at most this often, not on every request
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


@dataclass(frozen=True, slots=True)
class SessionData:
    operator_id: int | None
    csrf: str
    fingerprint: str = ""
    login_at: float = 0.0
    signed_at: float = 0.0  # when the cookie was signed (not stored: read from the signature)
    pending_id: int | None = None  # passed the password step, owes a two-factor code
    key: str = ""  # the server-side session's key (signed in only)

    @property
    def anonymous(self) -> bool:
        return self.operator_id is None


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def anonymous_session() -> SessionData:
    return SessionData(operator_id=None, csrf=new_csrf())


def login_session(
    operator_id: int, fingerprint: str, now: float | None = None, *, key: str = ""
) -> SessionData:
    """A new session for a login: a new CSRF token, so one planted before login is useless;
    ``key`` is the server-side session's (:func:`.operator_sessions.start_session`)."""
    return SessionData(
        operator_id=operator_id,
        csrf=new_csrf(),
        fingerprint=fingerprint,
        login_at=time.time() if now is None else now,
        key=key,
    )


def pending_session(operator_id: int, fingerprint: str, now: float | None = None) -> SessionData:
    """Still anonymous, but remembers who gave a right password and owes a code."""
    return SessionData(
        operator_id=None,
        csrf=new_csrf(),
        fingerprint=fingerprint,
        login_at=time.time() if now is None else now,
        pending_id=operator_id,
    )


def _signer_on(clock: Callable[[], float]) -> type[TimestampSigner]:
    class ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock())

    return ClockSigner


class SessionCodec:
    """Signs and reads session cookies; ``clock`` is there so tests can make old cookies."""

    def __init__(self, key: str, *, clock: Callable[[], float] = time.time) -> None:
        self._serializer = URLSafeTimedSerializer(
            key, salt="qunzhu.session", signer=_signer_on(clock)
        )
        self._clock = clock

    def dumps(self, data: SessionData) -> str:
        payload: dict[str, Any] = {"o": data.operator_id, "c": data.csrf}
        if data.operator_id is not None:
            payload |= {"p": data.fingerprint, "t": data.login_at, "s": data.key}
        elif data.pending_id is not None:
            payload |= {"m": data.pending_id, "p": data.fingerprint, "t": data.login_at}
        return str(self._serializer.dumps(payload))

    def loads(self, cookie: str | None) -> SessionData | None:
        """The session in ``cookie``, or None when missing, forged, idle too long or too old."""
        if not cookie:
            return None
        try:
            payload, signed = self._serializer.loads(
                cookie, max_age=IDLE_SECONDS, return_timestamp=True
            )
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("c"), str):
            return None
        operator_id = payload.get("o")
        if operator_id is not None and not isinstance(operator_id, int):
            return None
        login_at = float(payload.get("t") or 0.0)
        if operator_id is not None and self._clock() - login_at > MAX_AGE_SECONDS:
            return None
        pending = payload.get("m") if operator_id is None else None
        if not isinstance(pending, int) or self._clock() - login_at > PENDING_SECONDS:
            pending = None
        return SessionData(
            operator_id=operator_id,
            csrf=payload["c"],
            fingerprint=str(payload.get("p") or ""),
            login_at=login_at,
            signed_at=signed.timestamp(),
            pending_id=pending,
            key=str(payload.get("s") or "") if operator_id is not None else "",
        )

    def needs_refresh(self, data: SessionData) -> bool:
        return self._clock() - data.signed_at > REFRESH_AFTER


def cookie_options(secure: bool, max_age: int = IDLE_SECONDS) -> dict[str, Any]:
    """Attributes for every session cookie: unreadable by scripts, not sent cross-site on
    unsafe requests, Secure when the site is served over https."""
    return {"max_age": max_age, "path": "/", "httponly": True, "samesite": "lax", "secure": secure}


def csrf_matches(expected: str, presented: str | None) -> bool:
    return bool(presented) and bool(expected) and same_secret(expected, presented or "")


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 32 or c == "\\" for c in target):
        return default
    return target
