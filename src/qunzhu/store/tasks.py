"""The operator's day in the store: tasks (待办), which operator looks after which group, and
the daily digest's sent-markers.

A task comes from a generator (a playbook's ``task`` step, a welcome or a calendar post that
the platform cannot send, the review and application queues, a group at risk) or is written
by hand, and carries a ``source_key`` unique per community: generating again never makes a
second task. Every change of state is one conditional UPDATE (``WHERE state <> 'done'``), so
two operators pressing "done" at once record one of them, and the other is told.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    delete,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from qunzhu.store.base import Base, BigId, table_of, utcnow
from qunzhu.store.bulk import insert_ignoring_conflicts

Kind = Literal[
    "playbook", "welcome", "calendar", "broadcast", "review", "applications", "health", "manual"
]
KINDS: tuple[str, ...] = get_args(Kind)
STATES = ("open", "snoozed", "done")


class OperatorTask(Base):
    __tablename__ = "operator_tasks"
    __table_args__ = (
        UniqueConstraint("community_id", "source_key"),
        Index("ix_operator_tasks_open", "community_id", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    source_key: Mapped[str] = mapped_column(String(160))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime]
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | snoozed | done
    snoozed_until: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OperatorGroup(Base):
    """An operator looks after a group: its tasks are theirs unless reassigned."""

    __tablename__ = "operator_groups"
    __table_args__ = (UniqueConstraint("group_id", "operator_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskDigest(Base):
    """One operator's digest of one community on one local day: written before it is sent,
    and only by the process whose insert won, so a digest goes out at most once a day."""

    __tablename__ = "task_digests"
    __table_args__ = (UniqueConstraint("community_id", "operator_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    channels: Mapped[str] = mapped_column(String(64), default="")
    tasks: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)


def default_owners(conn: Connection, community_id: int) -> dict[int, int]:
    """group id → the operator who looks after it (the first assigned, if several)."""
    a = OperatorGroup
    rows = conn.execute(
        select(a.group_id, a.operator_id)
        .where(a.community_id == community_id)
        .order_by(a.created_at, a.id)
    )
    owners: dict[int, int] = {}
    for group_id, operator_id in rows:
        owners.setdefault(int(group_id), int(operator_id))
    return owners


def add(
    conn: Connection, community_id: int, tasks: Iterable[Mapping[str, Any]], now: datetime
) -> int:
    """Write the new tasks (``kind``, ``source_key``, ``text``, ``due_at``, optional
    ``group_id``, ``member_id``, ``detail``, ``owner_id``); those whose key is known are left
    as they are. How many were new."""
    owners: dict[int, int] | None = None
    rows: list[dict[str, Any]] = []
    for task in tasks:
        if task["kind"] not in KINDS:
            raise ValueError(f"task kind {task['kind']!r} is not one of {', '.join(KINDS)}")
        owner = task.get("owner_id")
        if owner is None and task.get("group_id") is not None:
            owners = default_owners(conn, community_id) if owners is None else owners
            owner = owners.get(int(task["group_id"]))
        rows.append(
            {
                "community_id": community_id,
                "kind": task["kind"],
                "source_key": str(task["source_key"])[:160],
                "group_id": task.get("group_id"),
                "member_id": task.get("member_id"),
                "text": str(task["text"])[:2000],
                "detail": dict(task.get("detail") or {}),
                "due_at": task["due_at"],
                "owner_id": owner,
                "state": "open",
                "snoozed_until": None,
                "done_by": None,
                "done_at": None,
                "created_at": now,
                "updated_at": now,
            }
        )
    t = table_of(OperatorTask)
    return len(insert_ignoring_conflicts(conn, t, rows, t.c.id))


def done(conn: Connection, community_id: int, task_id: int, by: str, now: datetime) -> bool:
    """Mark the task done; False when it was done already (by someone else, a moment ago)."""
    t = table_of(OperatorTask)
    changed = conn.execute(
        update(t)
        .where(t.c.community_id == community_id, t.c.id == task_id, t.c.state != "done")
        .values(state="done", done_by=by[:64], done_at=now, snoozed_until=None, updated_at=now)
    )
    return bool(changed.rowcount)


def snooze(
    conn: Connection, community_id: int, task_id: int, until: datetime, now: datetime
) -> bool:
    t = table_of(OperatorTask)
    changed = conn.execute(
        update(t)
        .where(t.c.community_id == community_id, t.c.id == task_id, t.c.state != "done")
        .values(state="snoozed", snoozed_until=until, updated_at=now)
    )
    return bool(changed.rowcount)


def reassign(
    conn: Connection, community_id: int, task_id: int, operator_id: int, now: datetime
) -> bool:
    t = table_of(OperatorTask)
    changed = conn.execute(
        update(t)
        .where(t.c.community_id == community_id, t.c.id == task_id, t.c.state != "done")
        .values(owner_id=operator_id, updated_at=now)
    )
    return bool(changed.rowcount)


def close_where(
    conn: Connection, community_id: int, keys: Iterable[str], by: str, now: datetime
) -> int:
    """Close the open tasks of these source keys (their queue emptied on its own)."""
    wanted = list(keys)
    if not wanted:
        return 0
    t = table_of(OperatorTask)
    changed = conn.execute(
        update(t)
        .where(
            t.c.community_id == community_id,
            t.c.source_key.in_(wanted),
            t.c.state != "done",
        )
        .values(state="done", done_by=by, done_at=now, snoozed_until=None, updated_at=now)
    )
    return int(changed.rowcount or 0)


def assign(
    conn: Connection, community_id: int, operator_id: int, group_ids: Iterable[int], now: datetime
) -> int:
    """The operator looks after these groups from now on; how many were new to them. Open
    tasks of those groups that had no owner become theirs."""
    ids = sorted(set(group_ids))
    rows = [
        {"community_id": community_id, "operator_id": operator_id, "group_id": g, "created_at": now}
        for g in ids
    ]
    a = table_of(OperatorGroup)
    new = len(insert_ignoring_conflicts(conn, a, rows, a.c.id))
    t = table_of(OperatorTask)
    if ids:
        conn.execute(
            update(t)
            .where(
                t.c.community_id == community_id,
                t.c.group_id.in_(ids),
                t.c.owner_id.is_(None),
                t.c.state != "done",
            )
            .values(owner_id=operator_id, updated_at=now)
        )
    return new


def unassign(
    conn: Connection, community_id: int, operator_id: int, group_ids: Iterable[int]
) -> int:
    a = table_of(OperatorGroup)
    gone = conn.execute(
        delete(a).where(
            a.c.community_id == community_id,
            a.c.operator_id == operator_id,
            a.c.group_id.in_(sorted(set(group_ids))),
        )
    )
    return int(gone.rowcount or 0)


def assignments(conn: Connection, community_id: int) -> dict[int, list[int]]:
    """operator id → the ids of the groups they look after."""
    a = OperatorGroup
    out: dict[int, list[int]] = {}
    for operator_id, group_id in conn.execute(
        select(a.operator_id, a.group_id)
        .where(a.community_id == community_id)
        .order_by(a.operator_id, a.group_id)
    ):
        out.setdefault(int(operator_id), []).append(int(group_id))
    return out
