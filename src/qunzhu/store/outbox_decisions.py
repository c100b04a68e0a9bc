"""The pipeline's decisions into the outbox, in the transaction of the events that caused them.

Whatever the entry point (``qunzhu ingest``, ``POST /api/v1/events``, ``qunzhu worker``, the
connectors of ``qunzhu serve``), what moderation and growth decide for a chunk of new events
(a delete, a warning, a declined application, a welcome) is written to ``action_outbox`` in
the chunk's own transaction: the events and what must be done about them commit together or
not at all. :class:`OutboxDecisions` is the stage :mod:`qunzhu.wiring` gives the live pipeline.

Two ways to write them:

- ``queued`` (ingest, the API, the Redis worker): ``qunzhu serve``'s drainer carries them out
  where a connector exists, an external bridge claims those of its platform
  (:mod:`qunzhu.store.outbox_bridge`), and what nobody can do becomes an operator's alert;
- ``claimed`` (the connectors of ``qunzhu serve``): written already claimed by the serving
  process, which hands the actions straight to its executor — no wait for the drainer, and
  the drainer does not take them again unless the claim goes stale (the process died before
  it acted, :data:`~qunzhu.store.outbox.STALE_CLAIM`).

Each returned action carries its row id in ``detail['outbox']``, so the executor writes its
outcome on that row (:func:`~qunzhu.store.outbox.record_outcomes`).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from qunzhu.events import Action, make_key
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.models import Community
from qunzhu.store.outbox import LIVE, WAKE, action_to_json

log = logging.getLogger(__name__)


class OutboxDecisions:
    """``decisions(conn, actions, source)``: write ``actions`` to the outbox in ``conn``'s
    transaction; the actions as written, each with its row id in ``detail['outbox']``."""

    def __init__(self, claimed_by: str | None = None) -> None:
        self.claimed_by = claimed_by[:64] if claimed_by else None

    def __call__(self, conn: Connection, actions: Sequence[Action], source: str) -> list[Action]:
        if not actions:
            return []
        slugs = {a.community for a in actions}
        ids = dict(
            conn.execute(select(Community.slug, Community.id).where(Community.slug.in_(slugs)))
            .tuples()
            .all()
        )
        now = datetime.now(UTC)
        origin = f"pipeline:{source}"[:64]
        status = "queued" if self.claimed_by is None else "sending"
        rows: list[dict[str, Any]] = []
        keyed: dict[str, Action] = {}
        for a in actions:
            community_id = ids.get(a.community)
            if community_id is None:  # the pipeline resolved it: only a bug gets here
                log.error("decision for unknown community %r not recorded", a.community)
                continue
            # a moderation decision is made once per stored message (stable key); a reactor's
            # action names no event, and two equal ones (a welcome on two joins) are two rows
            cause = a.detail.get("event") or uuid.uuid4().hex
            key = make_key("outbox", "pipeline", cause, a.key)
            keyed[key] = a
            rows.append(
                {
                    "community_id": community_id,
                    "origin": origin,
                    "key": key,
                    "kind": a.kind,
                    "platform": a.platform,
                    "action": action_to_json(a),
                    "status": status,
                    "attempts": 0,
                    "error": None,
                    "result": {},
                    "claimed_by": self.claimed_by,
                    "claimed_at": now if self.claimed_by else None,
                    "created_at": now,
                    "done_at": None,
                }
            )
        t = table_of(OutboxAction)
        inserted = insert_ignoring_conflicts(conn, t, rows, t.c.id, t.c.key)
        if status == "queued" and inserted:
            WAKE.set()  # a drainer in this process looks now (and again at its next poll)
        mark: dict[str, Any] = {LIVE: True} if self.claimed_by else {}
        row_ids = {str(r.key): int(r.id) for r in inserted}
        if len(row_ids) < len(rows):  # the same decision for the same event: it exists
            log.warning("%d decisions were recorded already", len(rows) - len(row_ids))
        # in the order decided: a delete before the warning that explains it
        return [
            dataclasses.replace(a, detail={**a.detail, "outbox": row_ids[key], **mark})
            for key, a in keyed.items()
            if key in row_ids
        ]


def decided(actions: Sequence[Action]) -> list[dict[str, Any]]:
    """The decided actions as ``qunzhu ingest --json`` and ``POST /api/v1/events`` show them:
    what is to be done, where, and the outbox row that carries it (``outbox_id``)."""
    return [
        {
            "outbox_id": a.detail.get("outbox"),
            "kind": a.kind,
            "platform": a.platform,
            "community": a.community,
            "group": a.group,
            "member": a.member,
            "message_id": a.message_id,
            "text": a.text,
            "duration_seconds": a.duration_seconds,
            "reason": a.reason,
        }
        for a in actions
    ]
