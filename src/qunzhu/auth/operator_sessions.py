"""Dashboard sessions kept on the server, so they can be listed and revoked.

Signing in makes a row and a random key; the signed cookie (:mod:`.sessions`) carries the
key and the store keeps only its SHA-256. A request is signed in only while its row exists,
is not revoked and is within :data:`IDLE_SECONDS` of its last use and :data:`MAX_AGE_SECONDS`
of its start, so a revoked session stays dead even if someone replays the old cookie.

Revoked: by signing out (that session), by the operator or an owner of one of their
communities (one or all), and, except the one making the change, when the password changes
or two-factor sign-in is turned on. Every revocation is in the audit log.

Like :mod:`.operators`, each function works inside the caller's unit of work.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from qunzhu.auth.audit import Source, record
from qunzhu.auth.permissions import NotFound
from qunzhu.auth.sessions import IDLE_SECONDS, MAX_AGE_SECONDS
from qunzhu.store.models import Operator, OperatorSession, utcnow

# last_seen_at is written when it is older than this: not one write per request
TOUCH_INTERVAL = timedelta(minutes=1)
USER_AGENT_CHARS = 200
ADDRESS_CHARS = 64


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _alive_since(now: datetime) -> tuple[datetime, datetime]:
    """(started after, last seen after) for a session to be live at ``now``."""
    return now - timedelta(seconds=MAX_AGE_SECONDS), now - timedelta(seconds=IDLE_SECONDS)


def start_session(
    session: Session, operator_id: int, *, user_agent: str, address: str | None
) -> str:
    """A new session for ``operator_id``; returns the key for the cookie (never stored).

    Rows past the longest session life are deleted here, so the table stays the size of
    the sessions that could still be live (the audit log keeps the history)."""
    now = utcnow()
    started_after, _ = _alive_since(now)
    session.execute(
        delete(OperatorSession).where(
            OperatorSession.operator_id == operator_id,
            OperatorSession.created_at < started_after,
        )
    )
    key = secrets.token_urlsafe(32)
    session.add(
        OperatorSession(
            operator_id=operator_id,
            key_hash=_hash(key),
            created_at=now,
            last_seen_at=now,
            user_agent=user_agent[:USER_AGENT_CHARS],
            address=(address or "")[:ADDRESS_CHARS],
        )
    )
    return key


def live_session(session: Session, key: str, operator_id: int) -> OperatorSession | None:
    """The live session this key opens for ``operator_id``, or None."""
    if not key:
        return None
    row = session.scalar(select(OperatorSession).where(OperatorSession.key_hash == _hash(key)))
    if row is None or row.operator_id != operator_id or not is_live(row):
        return None
    return row


def is_live(row: OperatorSession, now: datetime | None = None) -> bool:
    started_after, seen_after = _alive_since(now or utcnow())
    return (
        row.revoked_at is None and row.created_at > started_after and row.last_seen_at > seen_after
    )


def needs_touch(row: OperatorSession) -> bool:
    return utcnow() - row.last_seen_at > TOUCH_INTERVAL


def mark_seen(session: Session, session_id: int) -> None:
    session.execute(
        update(OperatorSession)
        .where(OperatorSession.id == session_id)
        .values(last_seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def session_id_of(session: Session, key: str) -> int | None:
    """The row id of the session with this key (live or not)."""
    if not key:
        return None
    found = session.scalar(select(OperatorSession.id).where(OperatorSession.key_hash == _hash(key)))
    return None if found is None else int(found)


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A live session as lists show it (no key, no hash)."""

    id: int
    operator_id: int
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    address: str


def live_sessions(session: Session, operator_ids: list[int]) -> list[SessionRow]:
    """The live sessions of these operators, newest use first."""
    if not operator_ids:
        return []
    now = utcnow()
    started_after, seen_after = _alive_since(now)
    rows = session.scalars(
        select(OperatorSession)
        .where(
            OperatorSession.operator_id.in_(operator_ids),
            OperatorSession.revoked_at.is_(None),
            OperatorSession.created_at > started_after,
            OperatorSession.last_seen_at > seen_after,
        )
        .order_by(OperatorSession.last_seen_at.desc(), OperatorSession.id.desc())
    )
    return [
        SessionRow(
            id=r.id,
            operator_id=r.operator_id,
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            user_agent=r.user_agent,
            address=r.address,
        )
        for r in rows
    ]


def revoke_session(
    session: Session,
    operator_id: int,
    session_id: int,
    *,
    reason: str,
    actor_id: int | None = None,
    community_id: int | None = None,
    source: Source,
) -> bool:
    """End one session of ``operator_id``; False when it had ended already. NotFound when
    the operator has no session with this id (another operator's id is not found either)."""
    row = session.get(OperatorSession, session_id)
    if row is None or row.operator_id != operator_id:
        raise NotFound(f"no session {session_id} of this operator", field="session")
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    _audit(session, operator_id, [session_id], reason, actor_id, community_id, source)
    return True


def revoke_sessions(
    session: Session,
    operator_id: int,
    *,
    reason: str,
    keep: int | None = None,
    actor_id: int | None = None,
    community_id: int | None = None,
    source: Source,
) -> int:
    """End every open session of ``operator_id`` but ``keep``; returns how many ended."""
    where = [OperatorSession.operator_id == operator_id, OperatorSession.revoked_at.is_(None)]
    if keep is not None:
        where.append(OperatorSession.id != keep)
    ids = [int(i) for i in session.scalars(select(OperatorSession.id).where(*where))]
    if not ids:
        return 0
    session.execute(
        update(OperatorSession)
        .where(OperatorSession.id.in_(ids))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    _audit(session, operator_id, ids, reason, actor_id, community_id, source)
    return len(ids)


def _audit(
    session: Session,
    operator_id: int,
    ids: list[int],
    reason: str,
    actor_id: int | None,
    community_id: int | None,
    source: Source,
) -> None:
    username = session.scalar(select(Operator.username).where(Operator.id == operator_id))
    record(
        session,
        "session.revoke",
        source=source,
        operator_id=actor_id,
        community_id=community_id,
        target=username or str(operator_id),
        detail={"sessions": sorted(ids), "reason": reason},
    )


def masked_address(address: str) -> str:
    """Enough of a client address to tell sessions apart, not to locate a person."""
    if not address:
        return ""
    if "." in address and ":" not in address:
        parts = address.split(".")
        return ".".join(parts[:2] + ["*"] * max(0, len(parts) - 2))
    if ":" in address:
        groups = address.split(":")
        return ":".join(groups[:2]) + ":*"
    return address[:3] + "*"
