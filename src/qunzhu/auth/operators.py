"""Operators, their roles and API tokens: the changes the CLI and the dashboard make.

Each function works inside the caller's unit of work and adds its audit entry there; none
commits on its own. ``actor_id`` is the operator making the change (None from the CLI).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunzhu.auth.audit import Source, record
from qunzhu.auth.credentials import (
    CredentialError,
    check_username,
    hash_password,
    new_token,
    parse_token,
    password_fingerprint,
    password_needs_rehash,
    verify_password,
)
from qunzhu.auth.operator_sessions import revoke_sessions
from qunzhu.auth.permissions import Caller, Conflict, NotFound
from qunzhu.store.models import ROLES, ApiToken, Community, Operator, OperatorRole, utcnow

# A token's last_used_at is only written when it is older than this, so reading the API
# does not turn every request into a write.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def find_operator(session: Session, username: str) -> Operator:
    found = session.scalar(select(Operator).where(Operator.username == username.strip().lower()))
    if found is None:
        raise NotFound(f"no operator named {username!r}", field="username")
    return found


def _community(session: Session, slug: str) -> Community:
    found = session.scalar(select(Community).where(Community.slug == slug))
    if found is None:
        raise NotFound(f"community {slug!r} not found", field="community")
    return found


def create_operator(
    session: Session,
    username: str,
    password: str,
    *,
    superuser: bool = False,
    display_name: str = "",
    actor_id: int | None = None,
    source: Source,
) -> Operator:
    name = check_username(username)
    if session.scalar(select(Operator.id).where(Operator.username == name)) is not None:
        raise Conflict(f"an operator named {name!r} exists already", field="username")
    operator = Operator(
        username=name,
        display_name=display_name or name,
        password_hash=hash_password(password),
        is_superuser=superuser,
        active=True,
    )
    session.add(operator)
    session.flush()
    record(
        session,
        "operator.create",
        source=source,
        operator_id=actor_id,
        target=name,
        detail={"superuser": superuser},
    )
    return operator


def set_password(
    session: Session,
    username: str,
    password: str,
    *,
    actor_id: int | None = None,
    keep_session: int | None = None,
    source: Source,
) -> None:
    """Set the password and end the operator's sessions (but ``keep_session``, the one
    making the change): whoever knew the old password may be signed in somewhere."""
    operator = find_operator(session, username)
    operator.password_hash = hash_password(password)
    record(
        session, "operator.password", source=source, operator_id=actor_id, target=operator.username
    )
    revoke_sessions(
        session,
        operator.id,
        reason="password changed",
        keep=keep_session,
        actor_id=actor_id,
        source=source,
    )


def set_active(
    session: Session, username: str, active: bool, *, actor_id: int | None = None, source: Source
) -> bool:
    """Let ``username`` sign in again, or not; disabling ends their sessions at once (API
    tokens stay, refused while inactive). Returns whether anything changed."""
    operator = find_operator(session, username)
    if operator.active == active:
        return False
    operator.active = active
    record(
        session,
        "operator.enable" if active else "operator.disable",
        source=source,
        operator_id=actor_id,
        target=operator.username,
    )
    if not active:
        revoke_sessions(
            session, operator.id, reason="operator disabled", actor_id=actor_id, source=source
        )
    return True


def grant(
    session: Session,
    username: str,
    slug: str,
    role: str,
    *,
    actor_id: int | None = None,
    source: Source,
) -> str | None:
    """Give ``username`` ``role`` in community ``slug``; returns the role it had before."""
    if role not in ROLES:
        raise CredentialError(f"unknown role {role!r} (one of: {', '.join(ROLES)})", field="role")
    operator = find_operator(session, username)
    community = _community(session, slug)
    existing = session.get(OperatorRole, (operator.id, community.id))
    previous = existing.role if existing else None
    if existing is None:
        session.add(OperatorRole(operator_id=operator.id, community_id=community.id, role=role))
    else:
        existing.role = role
    record(
        session,
        "role.grant",
        source=source,
        operator_id=actor_id,
        community_id=community.id,
        target=operator.username,
        detail={"role": role, "previous": previous},
    )
    return previous


def revoke(
    session: Session, username: str, slug: str, *, actor_id: int | None = None, source: Source
) -> str:
    """Take away ``username``'s role in ``slug``; returns the role that was removed."""
    operator = find_operator(session, username)
    community = _community(session, slug)
    existing = session.get(OperatorRole, (operator.id, community.id))
    if existing is None:
        raise NotFound(f"{operator.username!r} has no role in {slug!r}", field="community")
    role = existing.role
    session.delete(existing)
    record(
        session,
        "role.revoke",
        source=source,
        operator_id=actor_id,
        community_id=community.id,
        target=operator.username,
        detail={"role": role},
    )
    return role


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: int
    name: str
    prefix: str
    token: str  # shown once; never stored
    expires_at: datetime | None


def create_token(
    session: Session,
    username: str,
    name: str,
    *,
    expires_at: datetime | None = None,
    actor_id: int | None = None,
    source: Source,
) -> IssuedToken:
    operator = find_operator(session, username)
    if not name.strip():
        raise CredentialError("a token needs a name (what uses it)", field="name")
    made = new_token()
    row = ApiToken(
        operator_id=operator.id,
        name=name.strip()[:100],
        prefix=made.prefix,
        token_hash=made.token_hash,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    record(
        session,
        "token.create",
        source=source,
        operator_id=actor_id,
        target=operator.username,
        detail={"token_id": row.id, "name": row.name, "prefix": made.prefix},
    )
    return IssuedToken(
        id=row.id, name=row.name, prefix=made.prefix, token=made.token, expires_at=expires_at
    )


def revoke_token(
    session: Session, token_id: int, *, actor_id: int | None = None, source: Source
) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token with id {token_id}", field="id")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record(
            session,
            "token.revoke",
            source=source,
            operator_id=actor_id,
            target=str(token_id),
            detail={"name": row.name, "prefix": row.prefix},
        )
    return row


def list_operators(session: Session) -> list[dict[str, Any]]:
    slugs = dict(session.execute(select(Community.id, Community.slug)).tuples().all())
    roles: dict[int, list[dict[str, str]]] = {}
    for r in session.scalars(select(OperatorRole)):
        roles.setdefault(r.operator_id, []).append(
            {"community": slugs.get(r.community_id, "?"), "role": r.role}
        )
    tokens = dict(
        session.execute(
            select(ApiToken.operator_id, func.count())
            .where(ApiToken.revoked_at.is_(None))
            .group_by(ApiToken.operator_id)
        )
        .tuples()
        .all()
    )
    return [
        {
            "id": o.id,
            "username": o.username,
            "display_name": o.display_name,
            "superuser": o.is_superuser,
            "active": o.active,
            "roles": sorted(roles.get(o.id, []), key=lambda r: r["community"]),
            "tokens": int(tokens.get(o.id, 0)),
            "last_login_at": o.last_login_at,
        }
        for o in session.scalars(select(Operator).order_by(Operator.username))
    ]


def check_password_login(session: Session, username: str, password: str) -> Operator | None:
    """The active operator with this username and password, or None (same time either way).

    Only reads, so the slow hash check runs outside any write transaction."""
    operator = session.scalar(select(Operator).where(Operator.username == username.strip().lower()))
    stored = operator.password_hash if operator is not None else None
    if not verify_password(stored, password) or operator is None or not operator.active:
        return None
    return operator


def record_login(
    session: Session, operator_id: int, password: str | None, *, source: Source
) -> str:
    """Note a successful login; upgrade the stored hash if the hashing parameters were raised
    since it was made (when the password is at hand: not after a two-factor step). Returns
    the password fingerprint for the new session."""
    operator = session.get_one(Operator, operator_id)
    if (
        password is not None
        and operator.password_hash
        and password_needs_rehash(operator.password_hash)
    ):
        with suppress(CredentialError):  # a password from before a stricter rule: keep it
            operator.password_hash = hash_password(password)
    operator.last_login_at = utcnow()
    record(
        session, "operator.login", source=source, operator_id=operator_id, target=operator.username
    )
    return password_fingerprint(operator.password_hash)


def caller_for(
    session: Session, operator: Operator, *, via: Literal["session", "token"], csrf: str = ""
) -> Caller:
    roles = dict(
        session.execute(
            select(OperatorRole.community_id, OperatorRole.role).where(
                OperatorRole.operator_id == operator.id
            )
        )
        .tuples()
        .all()
    )
    return Caller(
        operator_id=operator.id,
        username=operator.username,
        is_superuser=operator.is_superuser,
        roles=roles,
        via=via,
        csrf=csrf,
        language=operator.language,
    )


def operator_for_token(session: Session, token: str) -> tuple[Operator, ApiToken] | None:
    """The operator a bearer token belongs to, if it is ours, live and not revoked."""
    try:
        prefix, token_hash = parse_token(token)
    except CredentialError:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
    now = utcnow()
    if (
        row is None
        or row.prefix != prefix
        or row.revoked_at is not None
        or (row.expires_at is not None and row.expires_at <= now)
    ):
        return None
    operator = session.get(Operator, row.operator_id)
    if operator is None or not operator.active:
        return None
    return operator, row


def token_needs_touch(row: ApiToken) -> bool:
    return row.last_used_at is None or utcnow() - row.last_used_at > TOKEN_TOUCH_INTERVAL
