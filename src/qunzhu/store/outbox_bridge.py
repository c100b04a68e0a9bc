"""An external bridge carries out the outbox's actions for a platform qunzhu has no connector
for: it claims them (``POST /api/v1/communities/{slug}/outbox/claim``), acts on its platform,
and reports each outcome (``POST .../outbox/{id}/outcome``).

A claim is a conditional UPDATE, as the drainer's is (:func:`qunzhu.store.outbox.claim`): of
two bridges polling at once, each row goes to one. A row stays claimed by the bridge that took
it; only that bridge's operator may report its outcome, and a claim left without an outcome
for :data:`~qunzhu.store.outbox.STALE_CLAIM` is taken again (by a bridge, or by ``qunzhu
serve``, which then makes it an alert). The outcome is written by the executor's own writer
(:func:`~qunzhu.store.outbox.write_outcomes`), so it reaches the moderation decision and the
invite code as a connector's would.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from qunzhu.store.base import table_of
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.outbox import action_from_json, claimable, outcome_of, plain, write_outcomes

Reported = Literal["sent", "failed"]


def bridge_claimer(username: str) -> str:
    """The prefix of every claim an operator's bridge makes (``claimed_by``)."""
    return f"bridge:{username[:40]}:"


def claim_for_bridge(
    db: Session | Connection,
    community_id: int,
    platform: str,
    username: str,
    *,
    after: int = 0,
    limit: int = 100,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Claim up to ``limit`` of the community's rows for ``platform`` after id ``after``,
    oldest first, for the bridge of ``username``; the rows claimed, as the bridge needs them."""
    conn = db.connection() if isinstance(db, Session) else db
    now = now or datetime.now(UTC)
    t = table_of(OutboxAction)
    token = f"{bridge_claimer(username)}{uuid.uuid4().hex[:12]}"
    mine = (
        (t.c.community_id == community_id)
        & (t.c.platform == platform)
        & (t.c.id > after)
        & claimable(now)
    )
    ids = list(conn.scalars(select(t.c.id).where(mine).order_by(t.c.id).limit(limit)))
    if not ids:
        return []
    # the condition again in the update: of two bridges, one gets each row
    conn.execute(
        update(t)
        .where(t.c.id.in_(ids), mine)
        .values(status="sending", claimed_by=token, claimed_at=now)
    )
    taken = conn.execute(
        select(t.c.id, t.c.origin, t.c.action, t.c.created_at)
        .where(t.c.community_id == community_id, t.c.claimed_by == token)
        .order_by(t.c.id)
    ).all()
    # the action as decided (kind, group, member, message_id, text, reason, detail, key)
    return [
        {**dict(r.action or {}), "id": int(r.id), "origin": r.origin, "created_at": r.created_at}
        for r in taken
    ]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an outcome was not recorded: ``missing`` (no such row in the community) or
    ``not_claimed`` (not claimed by this operator's bridge, or reported already)."""

    code: Literal["missing", "not_claimed"]
    message: str


def report_outcome(
    db: Session | Connection,
    community_id: int,
    item_id: int,
    username: str,
    status: Reported,
    *,
    reason: str | None = None,
    result: dict[str, Any] | None = None,
) -> Refusal | None:
    """Record what the bridge did with row ``item_id``; None when recorded."""
    conn = db.connection() if isinstance(db, Session) else db
    t = table_of(OutboxAction)
    row = conn.execute(
        select(t.c.action, t.c.status, t.c.claimed_by).where(
            t.c.id == item_id, t.c.community_id == community_id
        )
    ).first()
    if row is None:
        return Refusal("missing", f"no outbox item {item_id} in this community")
    claimer = bridge_claimer(username)
    if row.status != "sending" or not str(row.claimed_by or "").startswith(claimer):
        return Refusal(
            "not_claimed",
            f"outbox item {item_id} is {row.status} and not claimed by your bridge "
            "(claim it first; an outcome is reported once)",
        )
    error = (reason or "")[:2000] or None
    kept = plain(result or {})
    # the condition again: a second report of the same claim, at the same moment, loses
    done = conn.execute(
        update(t)
        .where(t.c.id == item_id, t.c.status == "sending", t.c.claimed_by == row.claimed_by)
        .values(
            status=status,
            attempts=t.c.attempts + 1,
            error=error,
            result=kept,
            done_at=datetime.now(UTC),
        )
    )
    if not done.rowcount:
        return Refusal("not_claimed", f"outbox item {item_id} was reported already")
    outcome = outcome_of(action_from_json(row.action, outbox=item_id), status, 1, error, kept)
    if outcome is not None:  # the row is written; the decision and invite code follow
        write_outcomes(conn, [{**outcome, "outbox": None}])
    return None
