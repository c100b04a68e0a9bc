"""The outbox: platform actions decided outside the live pipeline, carried out by the
connectors of ``qunzhu serve``.

A moderator's review in the dashboard, the API or the CLI, an upheld appeal, an invite link
asked for, the actions of the membership sweep: each is decided in its own transaction, often
in a process that has no connector (the CLI). ``enqueue`` writes the actions into
``action_outbox`` in the caller's transaction, so a decision and what carries it out commit
together or not at all; a double click enqueues once (the key is unique per community).

The live runtime's drainer (:mod:`qunzhu.live.drainer`) claims queued rows (every
``interval`` seconds, and at once when this process enqueued) and hands them to the
executor; the executor reports each outcome here (:func:`record_outcomes`), which

- marks the outbox row ``sent`` / ``failed`` / ``alerted`` / ``skipped``;
- records on the moderation decision it carries out (``moderation_actions.outcome``,
  ``carried_out_at``) what the platform did — for the live path too;
- binds a created invite link to the member's invite code.

Several serving processes may drain one database: a claim is an atomic update of the row,
and a row claimed by a process that died is claimed again after ``STALE_CLAIM``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    case,
    event,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from qunzhu.events import Action, make_key
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.growth import InviteCode
from qunzhu.store.models import Community, ModerationAction
from qunzhu.store.session import Store

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)
LIVE = "outbox_live"
"""Marks, on an action handed to the executor (never in the stored row), a decision a live
pipeline made: the executor treats it as the live decision it is (a delete sent early at
receipt is not sent again), not as an operator's outbox action."""
RELEASED = "released: "
"""How :func:`release_orphans` marks a row's ``error``: claimed again, it is a live decision."""
LIVE_OWNER = "live/"
"""Prefix of the claim a live worker writes its own decisions with (its registry token)."""
"""A row still ``sending`` this long after its claim belonged to a process that died."""
BRIDGE_WAIT = timedelta(minutes=2)
"""How long ``qunzhu serve`` leaves an action on a platform it has no connector for to an
external bridge, before it makes the action an alert for an operator."""

DONE = ("sent", "failed", "alerted", "skipped")
_FIELDS = (
    "kind",
    "platform",
    "community",
    "group",
    "member",
    "message_id",
    "text",
    "duration_seconds",
    "reason",
    "key",
)
WAKE = threading.Event()  # this process enqueued: the drainer need not wait for its poll


def action_to_json(a: Action) -> dict[str, Any]:
    out: dict[str, Any] = {f: getattr(a, f) for f in _FIELDS}
    out["detail"] = plain(a.detail)
    return out


def action_from_json(data: Mapping[str, Any], **extra_detail: Any) -> Action:
    fields: dict[str, Any] = {f: data[f] for f in _FIELDS if data.get(f) is not None}
    return Action(**fields, detail={**dict(data.get("detail") or {}), **extra_detail})


def enqueue(
    db: Session | Connection,
    community_id: int,
    actions: Sequence[Action],
    origin: str,
    *,
    not_before: Sequence[datetime | None] | None = None,
) -> list[int]:
    """Queue ``actions`` in the caller's transaction; the ids of the rows written (an action
    already queued under the same origin is not queued again). ``not_before``, one per
    action, holds a planned send back until its time."""
    if not actions:
        return []
    if not_before is not None and len(not_before) != len(actions):
        raise ValueError("not_before needs one time (or None) per action")
    planned = list(not_before) if not_before is not None else [None] * len(actions)
    origin = origin[:64]
    now = datetime.now(UTC)
    rows = [
        {
            "community_id": community_id,
            "origin": origin,
            "key": make_key("outbox", origin, a.key),
            "kind": a.kind,
            "platform": a.platform,
            "action": action_to_json(a),
            "status": "queued",
            "attempts": 0,
            "error": None,
            "result": {},
            "claimed_by": None,
            "claimed_at": None,
            "created_at": now,
            "done_at": None,
            "not_before": when,
        }
        for a, when in zip(actions, planned, strict=True)
    ]
    t = table_of(OutboxAction)
    if isinstance(db, Session):
        conn = db.connection()
        # woken only once the decision is committed: earlier, the drainer would not see it
        if not db.info.get("qunzhu_outbox_wakes"):
            db.info["qunzhu_outbox_wakes"] = True
            event.listen(db, "after_commit", _woken)
    else:
        conn = db
        WAKE.set()
    inserted = insert_ignoring_conflicts(conn, t, rows, t.c.id)
    return sorted(int(r.id) for r in inserted)


def _woken(session: Session) -> None:
    WAKE.set()


def requeue(db: Session | Connection, community_id: int, ids: Sequence[int]) -> int:
    """Queue failed or alerted rows again (an operator fixed the connector); how many."""
    conn = db.connection() if isinstance(db, Session) else db
    t = table_of(OutboxAction)
    done = conn.execute(
        update(t)
        .where(
            t.c.community_id == community_id,
            t.c.id.in_(list(ids)),
            t.c.status.in_(("failed", "alerted", "skipped")),
        )
        .values(status="queued", error=None, claimed_by=None, claimed_at=None, done_at=None)
    )
    WAKE.set()
    return int(done.rowcount or 0)


def claimable(now: datetime) -> ColumnElement[bool]:
    """A row nobody carries out: queued, or claimed by a process (or bridge) that died."""
    t = table_of(OutboxAction)
    due = or_(t.c.not_before.is_(None), t.c.not_before <= now)
    return due & or_(
        t.c.status == "queued",
        (t.c.status == "sending") & (t.c.claimed_at < now - STALE_CLAIM),
    )


def claim(
    store: Store,
    worker: str,
    *,
    limit: int = 200,
    now: datetime | None = None,
    served: Collection[str] | None = None,
    bridge_wait: timedelta = BRIDGE_WAIT,
) -> list[Action]:
    """Take up to ``limit`` queued rows (oldest first) for this worker, as Actions that carry
    their row id in ``detail['outbox']``.

    With ``served`` (the platforms qunzhu has connectors for), a row of another platform is
    left ``bridge_wait`` for an external bridge to claim (:mod:`qunzhu.store.outbox_bridge`);
    after that it is taken, and the executor, with no connector for it, makes it an alert.
    """
    now = now or datetime.now(UTC)
    t = table_of(OutboxAction)
    token = f"{worker}:{uuid.uuid4().hex[:12]}"[:64]
    ready = claimable(now)
    if served is not None:
        ready = ready & or_(
            t.c.kind == "alert",  # nothing for a bridge to do: the operator is told at once
            t.c.platform.in_(sorted(served)),
            t.c.created_at < now - bridge_wait,
            t.c.status == "sending",  # a claim gone stale: a bridge had its chance
        )
    with store.engine.begin() as conn:
        ids = list(conn.scalars(select(t.c.id).where(ready).order_by(t.c.id).limit(limit)))
        if not ids:
            return []
        # the condition again in the update: of two processes, one gets each row
        conn.execute(
            update(t)
            .where(t.c.id.in_(ids), ready)
            .values(status="sending", claimed_by=token, claimed_at=now)
        )
        claimed = conn.execute(
            select(t.c.id, t.c.action, t.c.error)
            .where(t.c.claimed_by == token, t.c.status == "sending")
            .order_by(t.c.id)
        ).all()
    out: list[Action] = []
    bad: list[tuple[int, str]] = []
    for row_id, data, error in claimed:
        live = {LIVE: True} if (error or "").startswith(RELEASED) else {}
        try:
            out.append(action_from_json(data, outbox=int(row_id), **live))
        except Exception as exc:  # a row no Action can be made of: failed, with the reason
            bad.append((int(row_id), f"not an action: {exc}"))
    if bad:
        with store.engine.begin() as conn:
            for row_id, reason in bad:
                conn.execute(
                    update(t)
                    .where(t.c.id == row_id)
                    .values(status="failed", error=reason, done_at=now)
                )
    return out


def release_orphans(store: Store, alive: Collection[str], *, grace: timedelta) -> int:
    """Queue again the decisions live workers claimed as they wrote them and did not carry
    out before they stopped: rows ``sending`` under a live worker's token that is not among
    ``alive`` (the workers whose heartbeat is fresh), claimed more than ``grace`` ago.

    A worker killed between its batch's commit and its platform calls otherwise leaves them
    for :data:`STALE_CLAIM`; the entries it held are stored again by the next holder of its
    shard as duplicates, which decide nothing new. Released rows stay live decisions (a
    delete is still sent once with its early twin)."""
    t = table_of(OutboxAction)
    now = datetime.now(UTC)
    orphan = (
        (t.c.status == "sending")
        & t.c.claimed_by.startswith(LIVE_OWNER, autoescape=True)
        & (t.c.claimed_at < now - grace)
    )
    if alive:
        orphan = orphan & t.c.claimed_by.not_in(sorted(alive))
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t)
            .where(orphan)
            .values(
                status="queued",
                claimed_by=None,
                claimed_at=None,
                error=literal(RELEASED) + func.coalesce(t.c.claimed_by, ""),
            )
        )
    released = int(done.rowcount or 0)
    if released:
        log.warning("released %d decisions of live workers that stopped", released)
    return released


def outcome_of(
    action: Action,
    status: str,
    attempts: int,
    error: str | None,
    result: Mapping[str, Any] | None,
) -> dict[str, Any] | None:
    """What :func:`record_outcomes` needs to know of one executed action, or None when the
    action is neither from the outbox nor a moderation decision's."""
    d = action.detail
    outbox_id = d.get("outbox")
    decision = d.get("moderation_action")
    live_event = d.get("event") if "decision" in d else None
    if outbox_id is None and decision is None and live_event is None:
        return None
    return {
        "outbox": outbox_id,
        "moderation_action": decision,
        "event": live_event,
        "community": action.community,
        "kind": action.kind,
        "code": d.get("code"),
        "status": status,
        "attempts": attempts,
        "error": error,
        "result": plain(result or {}),
    }


def record_outcomes(store: Store, outcomes: Sequence[Mapping[str, Any]]) -> None:
    """Write what the executor did with outbox and moderation actions, in one transaction."""
    if not outcomes:
        return
    with store.engine.begin() as conn:
        write_outcomes(conn, outcomes)


def write_outcomes(conn: Connection, outcomes: Sequence[Mapping[str, Any]]) -> None:
    """:func:`record_outcomes` in the caller's transaction (a bridge's report goes here too)."""
    now = datetime.now(UTC)
    t, m, codes = table_of(OutboxAction), table_of(ModerationAction), table_of(InviteCode)
    slugs = {str(o["community"]) for o in outcomes}
    ids = dict(
        conn.execute(select(Community.slug, Community.id).where(Community.slug.in_(slugs)))
        .tuples()
        .all()
    )
    done, untried = [], []
    for o in outcomes:
        if o["outbox"] is None:
            continue
        row = {"b_id": int(o["outbox"]), "b_error": o["error"]}
        if o["status"] == "failed" and not o["attempts"]:
            untried.append(row)
        else:
            row.update(b_status=o["status"], b_attempts=int(o["attempts"]), b_result=o["result"])
            done.append(row)
    if done:  # one statement for the batch: a bulk review is thousands of rows
        conn.execute(
            update(t)
            .where(t.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                attempts=t.c.attempts + bindparam("b_attempts"),
                error=bindparam("b_error"),
                result=bindparam("b_result", type_=t.c.result.type),
                done_at=now,
            ),
            done,
        )
    if untried:  # the server stopped before trying them: queued for the next drainer
        conn.execute(
            update(t)
            .where(t.c.id == bindparam("b_id"), t.c.status == "sending")
            .values(status="queued", error=bindparam("b_error"), claimed_by=None, claimed_at=None),
            untried,
        )
    for o in outcomes:
        status = str(o["status"])
        if status == "failed" and not o["attempts"]:
            continue  # not tried: the decision is not carried out, nor failed
        community_id = ids.get(str(o["community"]))
        link = o["result"].get("invite_link")
        if o["kind"] == "create_invite_link" and status == "sent" and link and o["code"]:
            conn.execute(
                update(codes)
                .where(codes.c.community_id == community_id, codes.c.code == str(o["code"]))
                .values(link=str(link)[:500])
            )
        if o["moderation_action"] is not None:
            target = m.c.id == int(o["moderation_action"])
        elif o["event"] is not None and community_id is not None:
            target = (m.c.community_id == community_id) & (m.c.key == str(o["event"]))
        else:
            continue
        # one decision, several actions (delete, then warn): the first that did not go
        # through is what the decision's outcome says
        conn.execute(
            update(m)
            .where(target)
            .values(
                outcome=case(
                    (or_(m.c.outcome.is_(None), m.c.outcome == "sent"), status),
                    else_=m.c.outcome,
                ),
                carried_out_at=now if status == "sent" else m.c.carried_out_at,
            )
        )


def rows(
    db: Session | Connection,
    community_id: int,
    *,
    status: str | None = None,
    origin: str | None = None,
    platform: str | None = None,
    after: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The community's outbox, newest first (``origin`` matches a prefix: ``review:``); with
    ``after``, the rows after that id, oldest first (a cursor for a reader that follows)."""
    conn = db.connection() if isinstance(db, Session) else db
    t = table_of(OutboxAction)
    q = select(t).where(t.c.community_id == community_id)
    if status:
        q = q.where(t.c.status == status)
    if origin:
        q = q.where(t.c.origin.startswith(origin, autoescape=True))
    if platform:
        q = q.where(t.c.platform == platform)
    order = t.c.id.desc()
    if after is not None:
        q, order = q.where(t.c.id > after), t.c.id.asc()
    return [
        {
            "id": r.id,
            "origin": r.origin,
            "kind": r.kind,
            "platform": r.platform,
            "group": (r.action or {}).get("group"),
            "member": (r.action or {}).get("member"),
            "status": r.status,
            "attempts": r.attempts,
            "error": r.error,
            "result": r.result,
            "created_at": r.created_at,
            "done_at": r.done_at,
        }
        for r in conn.execute(q.order_by(order).limit(limit))
    ]


def counts(db: Session | Connection, community_id: int) -> dict[str, int]:
    conn = db.connection() if isinstance(db, Session) else db
    t = table_of(OutboxAction)
    return {
        str(s): int(n)
        for s, n in conn.execute(
            select(t.c.status, func.count())
            .where(t.c.community_id == community_id)
            .group_by(t.c.status)
        )
    }


def plain(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` as JSON holds it (datetimes as text): what a JSON column can store."""
    import json

    return dict(json.loads(json.dumps(dict(value), default=str, ensure_ascii=False)))
