"""Operators of a community with their roles, API tokens and sessions, and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from qunzhu.auth.operator_sessions import SessionRow, live_sessions
from qunzhu.auth.permissions import mask_text
from qunzhu.http.web.queries.common import Page, page_of
from qunzhu.store.models import ApiToken, AuditEntry, Operator, OperatorRole, Quarantine

AUDIT_PER_PAGE = 50


@dataclass(frozen=True, slots=True)
class OperatorRow:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    last_login_at: datetime | None
    tokens: list[ApiToken]
    sessions: list[SessionRow]


def community_operators(
    session: Session, community_id: int, *, superusers: bool = False
) -> list[OperatorRow]:
    """The operators with a role in the community; with ``superusers``, also the active
    superusers who have none there (they run every community: the first owner, `admin`,
    is one, and a team list without them read "no operators yet" to them)."""
    rows: list[tuple[Operator, str]] = list(
        session.execute(
            select(Operator, OperatorRole.role)
            .join(OperatorRole, OperatorRole.operator_id == Operator.id)
            .where(OperatorRole.community_id == community_id)
        ).tuples()
    )
    if superusers:
        listed = {o.id for o, _ in rows}
        rows += [
            (o, "superuser")
            for o in session.scalars(
                select(Operator).where(Operator.is_superuser.is_(True), Operator.active.is_(True))
            )
            if o.id not in listed
        ]
    rows.sort(key=lambda row: row[0].username)
    ids = [o.id for o, _ in rows]
    tokens: dict[int, list[ApiToken]] = {}
    if ids:
        for t in session.scalars(
            select(ApiToken)
            .where(ApiToken.operator_id.in_(ids), ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at)
        ):
            tokens.setdefault(t.operator_id, []).append(t)
    sessions: dict[int, list[SessionRow]] = {}
    for row in live_sessions(session, ids):
        sessions.setdefault(row.operator_id, []).append(row)
    return [
        OperatorRow(
            id=o.id,
            username=o.username,
            display_name=o.display_name,
            role=role,
            active=o.active,
            last_login_at=o.last_login_at,
            tokens=tokens.get(o.id, []),
            sessions=sessions.get(o.id, []),
        )
        for o, role in rows
    ]


def own_tokens(session: Session, operator_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.operator_id == operator_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at)
        )
    )


def token_of_community(
    session: Session, community_id: int, token_id: int, operator_id: int
) -> ApiToken | None:
    """The token if it is the caller's own or belongs to an operator of this community."""
    token = session.get(ApiToken, token_id)
    if token is None:
        return None
    if token.operator_id == operator_id:
        return token
    role = session.get(OperatorRole, (token.operator_id, community_id))
    return token if role is not None else None


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    operator: str
    action: str
    target: str
    source: str
    detail: dict[str, Any]  # personal data masked unless the caller may see it


def audit_entries(
    session: Session, community_id: int, *, action: str, page: int, unmasked: bool
) -> tuple[list[AuditRow], Page]:
    where: list[Any] = [AuditEntry.community_id == community_id]
    if action:
        where.append(
            or_(AuditEntry.action == action, AuditEntry.action.startswith(action.rstrip(".") + "."))
        )
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*where)) or 0
    shown = page_of(page, AUDIT_PER_PAGE, int(total))
    rows = (
        session.execute(
            select(AuditEntry, Operator.username)
            .outerjoin(Operator, Operator.id == AuditEntry.operator_id)
            .where(*where)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(shown.size)
            .offset(shown.offset)
        )
        .tuples()
        .all()
    )
    out = []
    for e, username in rows:
        detail = {
            k: mask_text(v) if isinstance(v, str) and not unmasked else v
            for k, v in (e.detail or {}).items()
        }
        out.append(
            AuditRow(
                id=e.id,
                at=e.created_at,
                operator=username or "",
                action=e.action,
                target=e.target,
                source=e.source,
                detail=detail,
            )
        )
    return out, shown


def audit_actions(session: Session, community_id: int) -> list[str]:
    return sorted(
        set(
            session.scalars(
                select(AuditEntry.action).where(AuditEntry.community_id == community_id).distinct()
            )
        )
    )


def quarantined(
    session: Session, community_id: int, *, page: int, unmasked: bool
) -> tuple[list[dict[str, Any]], Page]:
    where = (Quarantine.community_id == community_id, Quarantine.resolved.is_(False))
    total = session.scalar(select(func.count()).select_from(Quarantine).where(*where)) or 0
    shown = page_of(page, AUDIT_PER_PAGE, int(total))
    rows = list(
        session.scalars(
            select(Quarantine)
            .where(*where)
            .order_by(Quarantine.created_at.desc(), Quarantine.id.desc())
            .limit(shown.size)
            .offset(shown.offset)
        )
    )
    return [
        {
            "id": q.id,
            "at": q.created_at,
            "source": q.source,
            "location": q.location,
            "reason": q.reason,
            "payload": (q.payload if unmasked else mask_text(q.payload))[:500],
        }
        for q in rows
    ], shown
