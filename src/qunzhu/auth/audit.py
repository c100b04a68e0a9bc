"""The audit log: one row for every change, saying who did what, where, and through what.

Callers add the entry in the same unit of work as the change itself, so a change and its
record are committed together or not at all.
"""

from __future__ import annotations

import getpass
from typing import Any, Literal

from sqlalchemy.orm import Session

from qunzhu.store.models import AuditEntry

Source = Literal["cli", "api", "web", "pipeline", "system"]


def record(
    session: Session,
    action: str,
    *,
    source: Source,
    operator_id: int | None = None,
    community_id: int | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to ``session`` (committed with the change it describes)."""
    detail = dict(detail or {})
    if source == "cli" and operator_id is None:
        # commands run with direct database access; the OS account is the best "who" we have
        detail.setdefault("os_user", _os_user())
    entry = AuditEntry(
        action=action,
        source=source,
        operator_id=operator_id,
        community_id=community_id,
        target=target[:200],
        detail=detail or None,
    )
    session.add(entry)
    return entry


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"
