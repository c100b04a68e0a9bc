"""Tasks from what waits for an operator, made by a job of ``qunzhu serve`` (and by ``qunzhu
task generate``); each kind has a source key, so a run repeated any number of times makes
each task once.

``review``        moderation items pending review: one task per group per local day, its
                  count kept current while it is open, closed by qunzhu when the queue of that
                  group is empty;
``applications`` applications pending: the same, per group per day;
``health``        a group at high death risk (死群预警, qunzhu.engines.risk): one per group
                  per day;
``calendar`` /    a calendar post's or a broadcast's delivery the platform could not send
``broadcast``     (no connector, unsupported: post it by hand), or a WeCom group message,
                  which the group owner confirms in the WeCom app: one per delivery.

The playbooks' ``task`` steps and the welcomes of groups qunzhu cannot write to are written
by those jobs themselves (qunzhu.messaging), in the transaction that moves their progress.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select, update

from qunzhu.readmodels.health import group_health
from qunzhu.store import tasks
from qunzhu.store.community import Group
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.messaging import Broadcast
from qunzhu.store.models import Application, ModerationAction
from qunzhu.store.tasks import OperatorTask

LOOK_BACK = timedelta(days=3)  # deliveries older than this were dealt with, or never will be
BY = "qunzhu"  # done_by of a task qunzhu closed itself


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The last moment of a local day: a queue's task is due today, not at once."""
    return datetime.combine(day + timedelta(days=1), time(0), tz) - timedelta(seconds=1)


def _queue(
    conn: Connection,
    community_id: int,
    kind: str,
    counts: dict[int, int],
    day: date,
    tz: ZoneInfo,
    now: datetime,
) -> dict[str, int]:
    """One open task per group with items waiting: yesterday's, still open, stays (overdue)
    rather than a second one beside it; counts brought up to date; the open tasks of groups
    whose queue is empty now are closed. A task done today is not made again until
    tomorrow, even if more items come."""
    t = OperatorTask
    open_rows = conn.execute(
        select(t.id, t.group_id, t.detail).where(
            t.community_id == community_id, t.kind == kind, t.state != "done"
        )
    ).all()
    stale = []
    for row in open_rows:
        n = counts.get(row.group_id or 0, 0)
        if n == 0:
            stale.append(row.id)
        elif (row.detail or {}).get("count") != n:
            conn.execute(
                update(t)
                .where(t.id == row.id, t.community_id == community_id)
                .values(detail={**(row.detail or {}), "count": n}, text=f"{kind}: {n}")
            )
    if stale:
        conn.execute(
            update(t)
            .where(t.community_id == community_id, t.id.in_(stale), t.state != "done")
            .values(state="done", done_by=BY, done_at=now, snoozed_until=None, updated_at=now)
        )
    covered = {row.group_id for row in open_rows}
    made = tasks.add(
        conn,
        community_id,
        [
            {
                "kind": kind,
                "source_key": f"{kind}:{group_id}:{day.isoformat()}",
                "group_id": group_id,
                "text": f"{kind}: {n}",
                "detail": {"count": n},
                "due_at": end_of_day(day, tz),
            }
            for group_id, n in counts.items()
            if group_id not in covered
        ],
        now,
    )
    return {"made": made, "closed": len(stale)}


def _counts_by_group(
    conn: Connection, model: Any, status: str, community_id: int
) -> dict[int, int]:
    rows = conn.execute(
        select(model.group_id, func.count())
        .where(
            model.community_id == community_id,
            model.status == status,
            model.group_id.is_not(None),
        )
        .group_by(model.group_id)
    )
    return {int(g): int(n) for g, n in rows}


def from_health(conn: Connection, community_id: int, day: date, tz: ZoneInfo, now: datetime) -> int:
    t = OperatorTask
    covered = set(
        conn.scalars(
            select(t.group_id).where(
                t.community_id == community_id, t.kind == "health", t.state != "done"
            )
        )
    )
    rows = [
        r
        for r in group_health(conn, community_id)
        if r.risk == "high" and r.group_id not in covered
    ]
    return tasks.add(
        conn,
        community_id,
        [
            {
                "kind": "health",
                "source_key": f"health:{r.group_id}:{day.isoformat()}",
                "group_id": r.group_id,
                "text": "; ".join(r.reason_codes) or "death_risk",
                "detail": {"death_risk": round(r.death_risk), "reasons": list(r.reason_codes)},
                "due_at": end_of_day(day, tz),
            }
            for r in rows
        ],
        now,
    )


def from_outbox(conn: Connection, community_id: int, now: datetime) -> int:
    o = OutboxAction
    rows = conn.execute(
        select(o.id, o.origin, o.platform, o.status, o.action, o.not_before, o.created_at)
        .where(
            o.community_id == community_id,
            o.origin.like("broadcast:%"),
            o.kind == "send_message",
            (o.status == "alerted") | ((o.status == "sent") & (o.platform == "wecom")),
            o.done_at >= now - LOOK_BACK,
        )
        .order_by(o.id)
    ).all()
    if not rows:
        return 0
    ids = {int(r.origin.split(":", 1)[1]) for r in rows}
    authors = {
        int(i): str(by)
        for i, by in conn.execute(
            select(Broadcast.id, Broadcast.created_by).where(
                Broadcast.community_id == community_id, Broadcast.id.in_(ids)
            )
        )
    }
    chats = {(r.platform, str(r.action.get("group"))) for r in rows}
    groups = {
        (p, g): i
        for i, p, g in conn.execute(
            select(Group.id, Group.platform, Group.platform_group_id).where(
                Group.community_id == community_id,
                Group.platform_group_id.in_({g for _, g in chats}),
            )
        )
    }
    made = []
    for r in rows:
        broadcast = int(r.origin.split(":", 1)[1])
        author = str(authors.get(broadcast, ""))
        made.append(
            {
                "kind": "calendar" if author.startswith("calendar:") else "broadcast",
                "source_key": f"outbox:{r.id}",
                "group_id": groups.get((r.platform, str(r.action.get("group")))),
                "text": str(r.action.get("text") or ""),
                "detail": {
                    "what": "confirm" if r.status == "sent" else "send",
                    "broadcast": broadcast,
                    "post": int(author.split(":", 1)[1])
                    if author.startswith("calendar:")
                    else None,
                    "platform": r.platform,
                },
                "due_at": r.not_before or r.created_at,
            }
        )
    return tasks.add(conn, community_id, made, now)


def run(conn: Connection, community_id: int, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """Every generator for one community, in the caller's transaction."""
    day = now.astimezone(tz).date()
    review = _queue(
        conn,
        community_id,
        "review",
        _counts_by_group(conn, ModerationAction, "pending_review", community_id),
        day,
        tz,
        now,
    )
    applications = _queue(
        conn,
        community_id,
        "applications",
        _counts_by_group(conn, Application, "pending", community_id),
        day,
        tz,
        now,
    )
    return {
        "review": review["made"],
        "applications": applications["made"],
        "closed": review["closed"] + applications["closed"],
        "health": from_health(conn, community_id, day, tz, now),
        "deliveries": from_outbox(conn, community_id, now),
    }
