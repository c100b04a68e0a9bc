"""Done, snooze, reassign and a task written by hand: checked here once for the API, the
dashboard and the CLI (whose task is it, may this operator act on it, is the new owner an
operator of the community), carried out by one conditional UPDATE, audited in the same
transaction."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.auth import audit
from qunzhu.auth.permissions import Conflict, Forbidden, NotFound
from qunzhu.store import tasks
from qunzhu.store.admin import Operator, OperatorRole
from qunzhu.store.community import Group
from qunzhu.store.tasks import OperatorTask
from qunzhu.tasks.plan import Actor, groups_of, may_act

Snooze = Literal["1h", "tomorrow"]
SNOOZES: tuple[str, ...] = ("1h", "tomorrow")
MORNING = time(9, 0)  # "tomorrow" is tomorrow at nine, local time: the start of a work day
OWNER_ROLES = ("moderator", "admin", "owner")  # an analyst reads; a task is not theirs to do


def _task(session: Session, community_id: int, task_id: int, actor: Actor) -> OperatorTask:
    task = session.scalar(
        select(OperatorTask).where(
            OperatorTask.community_id == community_id, OperatorTask.id == task_id
        )
    )
    if task is None:
        raise NotFound(f"no task {task_id} in this community", field="id")
    mine = groups_of(session.connection(), community_id, actor.operator_id)
    if not may_act(actor, task.owner_id, task.group_id, mine):
        raise Forbidden(f"task {task_id} is not yours nor of a group you look after: ask an admin")
    if task.state == "done":
        raise Conflict(f"task {task_id} was done already by {task.done_by}", field="id")
    return task


def snooze_until(how: str, now: datetime, tz: ZoneInfo) -> datetime:
    if how == "1h":
        return now + timedelta(hours=1)
    if how == "tomorrow":
        return datetime.combine(now.astimezone(tz).date() + timedelta(days=1), MORNING, tz)
    raise ValueError(f"snooze is one of {', '.join(SNOOZES)}, not {how!r}")


def done(
    session: Session,
    community_id: int,
    task_id: int,
    actor: Actor,
    now: datetime,
    source: audit.Source,
) -> None:
    _task(session, community_id, task_id, actor)
    if not tasks.done(session.connection(), community_id, task_id, actor.username, now):
        raise Conflict(f"task {task_id} was done already", field="id")  # a moment ago
    _audit(session, "task.done", community_id, task_id, actor, source, {})


def snooze(
    session: Session,
    community_id: int,
    task_id: int,
    how: str,
    actor: Actor,
    now: datetime,
    tz: ZoneInfo,
    source: audit.Source,
) -> datetime:
    until = snooze_until(how, now, tz)
    _task(session, community_id, task_id, actor)
    if not tasks.snooze(session.connection(), community_id, task_id, until, now):
        raise Conflict(f"task {task_id} was done already", field="id")
    _audit(
        session, "task.snooze", community_id, task_id, actor, source, {"until": until.isoformat()}
    )
    return until


def operator_of(session: Session, community_id: int, who: str) -> int:
    """The operator named (username, or id) if they may own tasks in the community."""
    name = who.strip()
    where = Operator.id == int(name) if name.isdigit() else Operator.username == name
    row = session.execute(
        select(Operator.id, OperatorRole.role)
        .join(OperatorRole, OperatorRole.operator_id == Operator.id)
        .where(where, OperatorRole.community_id == community_id, Operator.active.is_(True))
    ).first()
    if row is None:
        raise NotFound(f"no operator {name!r} in this community", field="operator")
    if row.role not in OWNER_ROLES:
        raise Conflict(
            f"{name!r} is an {row.role} here, who reads but does not act: give the task to a "
            "moderator, admin or owner",
            field="operator",
        )
    return int(row.id)


def reassign(
    session: Session,
    community_id: int,
    task_id: int,
    to: str,
    actor: Actor,
    now: datetime,
    source: audit.Source,
) -> int:
    _task(session, community_id, task_id, actor)
    operator_id = operator_of(session, community_id, to)
    if not tasks.reassign(session.connection(), community_id, task_id, operator_id, now):
        raise Conflict(f"task {task_id} was done already", field="id")
    _audit(session, "task.reassign", community_id, task_id, actor, source, {"to": to.strip()})
    return operator_id


def create(
    session: Session,
    community_id: int,
    *,
    text: str,
    due_at: datetime,
    group: str | None,
    owner: str | None,
    actor: Actor,
    now: datetime,
    source: audit.Source,
) -> int:
    """A task written by hand (kind ``manual``); its id."""
    if not actor.some_tasks and not actor.every_task:
        raise Forbidden("an analyst reads tasks; writing one takes a moderator")
    words = text.strip()
    if not words:
        raise ValueError("text: a task needs a text saying what to do")
    group_id = None
    if group:
        group_id = session.scalar(
            select(Group.id).where(
                Group.community_id == community_id,
                (Group.platform_group_id == group) | (Group.name == group),
            )
        )
        if group_id is None:
            raise NotFound(f"no group {group!r} in this community", field="group")
    owner_id = operator_of(session, community_id, owner) if owner else None
    if owner_id is None and group_id is None:
        owner_id = actor.operator_id
    key = f"manual:{actor.username}:{now.isoformat()}"
    row = {
        "kind": "manual",
        "source_key": key,
        "group_id": group_id,
        "text": words,
        "due_at": due_at,
        "owner_id": owner_id,
        "detail": {"what": "do", "by": actor.username},
    }
    tasks.add(session.connection(), community_id, [row], now)
    task_id = session.scalar(
        select(OperatorTask.id).where(
            OperatorTask.community_id == community_id, OperatorTask.source_key == key
        )
    )
    assert task_id is not None
    _audit(session, "task.create", community_id, int(task_id), actor, source, {})
    return int(task_id)


def _audit(
    session: Session,
    action: str,
    community_id: int,
    task_id: int,
    actor: Actor,
    source: audit.Source,
    detail: dict[str, object],
) -> None:
    audit.record(
        session,
        action,
        source=source,
        operator_id=actor.operator_id,
        community_id=community_id,
        target=f"#{task_id}",  # the action names it a task (audit_event.task.*)
        detail=dict(detail),
    )


def owners(session: Session, community_id: int) -> list[tuple[int, str]]:
    """The operators a task may be given to: (id, username), by name."""
    rows = session.execute(
        select(Operator.id, Operator.username)
        .join(OperatorRole, OperatorRole.operator_id == Operator.id)
        .where(
            OperatorRole.community_id == community_id,
            OperatorRole.role.in_(OWNER_ROLES),
            Operator.active.is_(True),
        )
        .order_by(Operator.username)
    ).all()
    return [(int(i), str(u)) for i, u in rows]
