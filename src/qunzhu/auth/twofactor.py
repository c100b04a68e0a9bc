"""Optional two-factor sign-in with TOTP (RFC 6238: six digits, 30-second steps).

The shared secret is stored sealed with ``QUNZHU_SECRET_KEY`` (the same sealing as connector
credentials), never in the clear. A code is accepted for the current step and one step either
side (clocks drift; people type slowly), and only for a step later than the last one accepted:
the check-and-record is one conditional UPDATE, so a code seen over someone's shoulder, or
sent twice at once, signs in at most once.

``QUNZHU_REQUIRE_2FA`` makes it mandatory for owners and superusers on the dashboard only:
API tokens are long random secrets made for programs, which cannot type a code; they are
revocable and scoped to their operator already (see security.md).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping

import pyotp
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from qunzhu.auth.audit import Source, record
from qunzhu.auth.credentials import CredentialError
from qunzhu.auth.operator_sessions import revoke_sessions
from qunzhu.auth.operators import find_operator
from qunzhu.auth.permissions import Conflict
from qunzhu.settings import Settings
from qunzhu.store.credentials import CredentialsError, seal, unseal
from qunzhu.store.models import Operator

ISSUER = "qunzhu"
WINDOW_STEPS = 1  # accept the step before and after the current one
ENABLE_COMMAND = "qunzhu operator 2fa enable"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads (usually from a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step ``code`` is right for, within the window, or None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // totp.interval)
    for step in range(current - WINDOW_STEPS, current + WINDOW_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def has_2fa(operator: Operator) -> bool:
    return bool(operator.totp_secret)


def blocked_without_2fa(
    settings: Settings, *, has_second_factor: bool, is_superuser: bool, roles: Mapping[int, str]
) -> bool:
    """Whether QUNZHU_REQUIRE_2FA keeps this operator off the dashboard until they enable it."""
    if not settings.require_2fa or has_second_factor:
        return False
    return is_superuser or "owner" in roles.values()


def _secret_of(settings: Settings, operator: Operator) -> str:
    try:
        return unseal(settings, operator.totp_secret or "").get("totp", "")
    except CredentialsError:
        raise CredentialError(
            f"the two-factor secret of {operator.username!r} cannot be decrypted "
            f"(QUNZHU_SECRET_KEY changed?): run `qunzhu operator 2fa disable` and enable it again",
            field="totp",
        ) from None


def enable_2fa(
    session: Session,
    settings: Settings,
    username: str,
    secret: str,
    code: str,
    *,
    now: float | None = None,
    actor_id: int | None = None,
    keep_session: int | None = None,
    source: Source,
) -> Operator:
    """Store ``secret`` for ``username`` once ``code`` shows their authenticator has it."""
    operator = find_operator(session, username)
    if has_2fa(operator):
        raise Conflict(
            f"{operator.username!r} has two-factor sign-in already (disable it first to re-key)",
            field="username",
        )
    step = matching_step(secret, code, now)
    if step is None:
        raise CredentialError("that code does not match: check the phone's clock", field="code")
    try:
        operator.totp_secret = seal(settings, {"totp": secret})
    except CredentialsError as exc:
        raise CredentialError(str(exc), field="totp") from None
    operator.totp_last_step = step  # the confirming code cannot be used to sign in
    record(session, "operator.2fa.enable", source=source, operator_id=actor_id, target=username)
    # sessions begun with the password alone end (but the one turning it on, if any)
    revoke_sessions(
        session,
        operator.id,
        reason="two-factor enabled",
        keep=keep_session,
        actor_id=actor_id,
        source=source,
    )
    return operator


def disable_2fa(
    session: Session, username: str, *, actor_id: int | None = None, source: Source
) -> Operator:
    operator = find_operator(session, username)
    if not has_2fa(operator):
        raise Conflict(f"{operator.username!r} has no two-factor sign-in", field="username")
    operator.totp_secret = None
    operator.totp_last_step = None
    record(
        session,
        "operator.2fa.disable",
        source=source,
        operator_id=actor_id,
        target=operator.username,
    )
    return operator


def accept_login_code(
    session: Session, settings: Settings, operator_id: int, code: str, now: float | None = None
) -> bool:
    """Whether ``code`` is right and not used before; if so its step is recorded as used."""
    operator = session.get(Operator, operator_id)
    if operator is None or not has_2fa(operator):
        return False
    step = matching_step(_secret_of(settings, operator), code, now)
    if step is None:
        return False
    used = session.execute(
        update(Operator)
        .where(
            Operator.id == operator_id,
            or_(Operator.totp_last_step.is_(None), Operator.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(used, "rowcount", 0) == 1)
