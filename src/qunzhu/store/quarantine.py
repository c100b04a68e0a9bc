"""Quarantine: input that could not be accepted is kept with where it was and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from qunzhu.events import make_key
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.models import Quarantine, utcnow


@dataclass(frozen=True, slots=True)
class RejectedRecord:
    source: str
    line: int
    reason: str
    text: str


def quarantine_rows(
    conn: Connection, records: Sequence[Any], community_id: int | None = None
) -> None:
    """Store rejects once each: the same bad line seen again on a re-run is not added twice."""
    now = utcnow()
    rows = [
        {
            "community_id": community_id,
            "key": make_key("quarantine", r.source, r.line, r.reason, r.text),
            "source": str(r.source)[:500],
            "location": f"line {r.line}" if r.line else "",
            "reason": str(r.reason),
            "payload": str(r.text)[:20000],
            "created_at": now,
            "resolved": False,
        }
        for r in records
    ]
    insert_ignoring_conflicts(conn, table_of(Quarantine), rows)
