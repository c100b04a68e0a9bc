"""Quarantine: input that could not be accepted is kept with where it was and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from qunzhu.bounds import clean_text
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
    location: str = ""  # where, when not a line of a file (e.g. "item 3" of a run)


def quarantine_rows(
    conn: Connection, records: Sequence[Any], community_id: int | None = None
) -> None:
    """Store rejects once each: the same bad line seen again on a re-run is not added twice.

    What is stored is cleaned as text is everywhere (NUL removed, lone surrogates replaced,
    cut to a length): the record is here *because* it may hold what the database refuses,
    and its quarantine row must not fail the same way."""
    now = utcnow()
    rows = [
        {
            "community_id": community_id,
            "key": make_key("quarantine", r.source, r.line, r.reason, r.text),
            "source": clean_text(str(r.source)[:500]),
            "location": f"line {r.line}" if r.line else getattr(r, "location", ""),
            "reason": clean_text(str(r.reason)[:4000]),
            "payload": clean_text(str(r.text)[:20000]),
            "created_at": now,
            "resolved": False,
        }
        for r in records
    ]
    insert_ignoring_conflicts(conn, table_of(Quarantine), rows)
