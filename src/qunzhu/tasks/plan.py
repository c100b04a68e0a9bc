"""The plan of the day: an operator's open tasks, overdue first, then due today, then later;
the one read model behind Today, ``GET …/tasks`` and ``qunzhu today``.

``overdue``  open tasks due before now (a snoozed task counts as open again once its snooze
             has ended), oldest first;
``today``    open tasks due from now to the end of the local day;
``later``    open tasks due after today;
``snoozed``  tasks snoozed until a moment still to come (only counted);
``done_today`` tasks done since the local day began.

``mine`` shows the tasks whose owner is the caller; ``all`` every task of the community.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, or_, select

from qunzhu.growth.common import spec_of
from qunzhu.messaging.broadcast import community_zone
from qunzhu.store.admin import Operator
from qunzhu.store.community import Group, Member
from qunzhu.store.tasks import OperatorGroup, OperatorTask

LIMIT = 200  # tasks per section: a plan longer than this is read in pages of the API


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts on tasks: every task of the community (admins, owners), the tasks of their
    groups and their own (moderators), or none (analysts read)."""

    operator_id: int | None
    username: str
    every_task: bool
    some_tasks: bool


def actor(operator_id: int | None, username: str, *, manage: bool, moderate: bool) -> Actor:
    """The Actor of a caller whose role allows ``manage`` / ``moderate`` in the community."""
    return Actor(operator_id, username, every_task=manage, some_tasks=moderate)


def zone_of(conn: Connection, community_id: int, default: ZoneInfo) -> ZoneInfo:
    """Where a community's day begins and ends: its spec's zone, else the server's."""
    return community_zone(spec_of(conn, community_id), default)


TITLED_BY_WHAT = frozenset({"playbook", "calendar", "broadcast"})


@dataclass(slots=True)
class PlanItem:
    id: int
    kind: str
    what: str  # do | send | confirm | review | applications | health
    text: str
    detail: dict[str, Any]
    group: str
    group_id: int | None
    member: str
    member_id: int | None
    due_at: datetime
    owner: str
    owner_id: int | None
    state: str
    snoozed_until: datetime | None
    overdue: bool
    can_act: bool

    @property
    def title_key(self) -> str:
        """The catalog key of what the task asks (``tasks.title.review``, …)."""
        if self.kind in TITLED_BY_WHAT:
            return f"tasks.title.{self.kind}.{self.what}"
        return f"tasks.title.{self.kind}"

    @property
    def title_values(self) -> dict[str, Any]:
        n = self.detail.get("count", self.detail.get("death_risk", ""))
        return {"n": n, "member": self.member or "", "group": self.group}

    @property
    def shows_text(self) -> bool:
        """Whether the text is something to read (a message to send, a step, a note); a
        queue's or a health alert's text is only its figure, said by the title."""
        return self.kind not in ("review", "applications", "health")


@dataclass(slots=True)
class Plan:
    scope: str
    overdue: list[PlanItem] = field(default_factory=list)
    today: list[PlanItem] = field(default_factory=list)
    later: list[PlanItem] = field(default_factory=list)
    snoozed: int = 0
    done_today: int = 0

    @property
    def open(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.later)

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["open"] = self.open
        return out

    def items(self) -> list[PlanItem]:
        return [*self.overdue, *self.today, *self.later]


def groups_of(conn: Connection, community_id: int, operator_id: int | None) -> set[int]:
    if operator_id is None:
        return set()
    a = OperatorGroup
    return set(
        conn.scalars(
            select(a.group_id).where(a.community_id == community_id, a.operator_id == operator_id)
        )
    )


def may_act(actor: Actor, owner_id: int | None, group_id: int | None, mine: set[int]) -> bool:
    if actor.every_task:
        return True
    if not actor.some_tasks or actor.operator_id is None:
        return False
    return owner_id == actor.operator_id or (group_id is not None and group_id in mine)


def plan(
    conn: Connection,
    community_id: int,
    actor: Actor,
    *,
    now: datetime,
    tz: ZoneInfo,
    scope: str = "all",
) -> Plan:
    t = OperatorTask
    day_end = datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(0), tz)
    day_start = day_end - timedelta(days=1)
    awake = or_(t.state == "open", and_(t.state == "snoozed", t.snoozed_until <= now))
    mine_only = scope == "mine"
    who = (t.owner_id == actor.operator_id,) if mine_only else ()
    rows = conn.execute(
        select(t, Group.name.label("group_name"), Member.display_name, Operator.username)
        .outerjoin(Group, Group.id == t.group_id)
        .outerjoin(Member, Member.id == t.member_id)
        .outerjoin(Operator, Operator.id == t.owner_id)
        .where(t.community_id == community_id, awake, *who)
        .order_by(t.due_at, t.id)
        .limit(LIMIT * 3)
    ).all()
    mine = groups_of(conn, community_id, actor.operator_id)
    out = Plan(scope="mine" if mine_only else "all")
    for r in rows:
        detail = dict(r.detail or {})
        item = PlanItem(
            id=r.id,
            kind=r.kind,
            what=str(detail.get("what") or r.kind),
            text=r.text,
            detail=detail,
            group=r.group_name or "",
            group_id=r.group_id,
            member=r.display_name or str(detail.get("member") or ""),
            member_id=r.member_id,
            due_at=r.due_at,
            owner=r.username or "",
            owner_id=r.owner_id,
            state=r.state,
            snoozed_until=r.snoozed_until,
            overdue=r.due_at < now,
            can_act=may_act(actor, r.owner_id, r.group_id, mine),
        )
        section = out.overdue if item.overdue else out.today if r.due_at < day_end else out.later
        if len(section) < LIMIT:
            section.append(item)
    out.snoozed = _count(conn, community_id, (t.state == "snoozed", t.snoozed_until > now, *who))
    out.done_today = _count(conn, community_id, (t.state == "done", t.done_at >= day_start, *who))
    return out


def _count(conn: Connection, community_id: int, where: tuple[Any, ...]) -> int:
    t = OperatorTask
    return int(conn.scalar(select(func.count()).where(t.community_id == community_id, *where)) or 0)
