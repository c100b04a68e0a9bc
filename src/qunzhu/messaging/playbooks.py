"""The playbooks (群SOP) of a community, run by a job of ``qunzhu serve``: members are enrolled
when their trigger happens, and each member's next step is carried out when its day comes —
a message (to the member privately where the platform allows, else in the group naming them)
or a task for an operator (a row of ``operator_tasks``, due when the step is; a message on
a platform the bot cannot write to is such a task too). ``unless: spoke`` skips a step for a
member who has spoken in the group since the trigger. A step's action and the member's moved
progress commit together, under a key per member and step: nothing is sent or made twice.

Enrolment: ``member_joined`` takes joins read since the playbook's cursor that happened
within ``FRESH`` (an imported history enrols nobody); ``before_expiry`` takes active paid
memberships ending within the playbook's first step's days.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, exists, select, update

from qunzhu import events as ev
from qunzhu.spec.playbooks import Playbook, Step
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store import message_cursors as cursors
from qunzhu.store import outbox
from qunzhu.store import tasks as operator_tasks
from qunzhu.store.activity import Message
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.community import Community, Group, Identity, Member, Membership, MembershipEvent
from qunzhu.store.growth import Subscription
from qunzhu.store.intelligence import TierState
from qunzhu.store.messaging import PlaybookProgress
from qunzhu.store.uncounted import uncounted_ids

FRESH = timedelta(hours=1)
PRIVATE = frozenset({"telegram", "qq"})  # platforms where the bot may write to a member
SENDS = frozenset({"telegram", "qq", "wecom", "discord"})


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _enrol_joins(conn: Connection, community_id: int, book: Playbook, now: datetime) -> int:
    name = f"playbook:{book.name}"
    position = cursors.position(conn, community_id, name, now)
    e = MembershipEvent
    rows = conn.execute(
        select(e.id, e.group_id, e.member_id, e.occurred_at)
        .where(e.community_id == community_id, e.kind == "join", e.id > position)
        .order_by(e.id)
        .limit(5000)
    ).all()
    if not rows:
        return 0
    skip = uncounted_ids(conn, community_id)  # bots and staff are not walked through an SOP
    fresh = [r for r in rows if _aware(r.occurred_at) >= now - FRESH and r.member_id not in skip]
    enrolled = _enrol(
        conn, community_id, book, [(r.member_id, r.group_id, r.occurred_at) for r in fresh], now
    )
    cursors.move(conn, community_id, name, rows[-1].id, now)
    return enrolled


def _enrol_expiries(conn: Connection, community_id: int, book: Playbook, now: datetime) -> int:
    horizon = now + timedelta(days=max(s.day for s in book.steps))
    rows = conn.execute(
        select(Subscription.member_id, Subscription.expires_at).where(
            Subscription.community_id == community_id,
            Subscription.status == "active",
            Subscription.expires_at > now,
            Subscription.expires_at <= horizon,
        )
    ).all()
    found: list[tuple[int, int, datetime]] = []
    for member_id, expires_at in rows:
        group_id = conn.scalar(
            select(Membership.group_id)
            .where(
                Membership.community_id == community_id,
                Membership.member_id == member_id,
                Membership.status == "active",
            )
            .order_by(Membership.group_id)
            .limit(1)
        )
        if group_id is not None:
            found.append((member_id, int(group_id), expires_at))
    return _enrol(conn, community_id, book, found, now)


def _enrol(
    conn: Connection,
    community_id: int,
    book: Playbook,
    who: list[tuple[int, int, datetime]],
    now: datetime,
) -> int:
    if not who:
        return 0
    rows = [
        {
            "community_id": community_id,
            "playbook": book.name[:64],
            "member_id": member_id,
            "group_id": group_id,
            "trigger_at": _aware(at),
            "next_step": 0,
            "done": False,
            "history": [],
            "updated_at": now,
        }
        for member_id, group_id, at in who
    ]
    t = table_of(PlaybookProgress)
    return len(insert_ignoring_conflicts(conn, t, rows, t.c.id))


def due_at(book: Playbook, step: Step, trigger_at: datetime) -> datetime:
    offset = timedelta(days=step.day)
    return trigger_at - offset if book.trigger == "before_expiry" else trigger_at + offset


def _spoke(conn: Connection, row: Any) -> bool:
    return bool(
        conn.scalar(
            select(
                exists().where(
                    Message.community_id == row.community_id,
                    Message.group_id == row.group_id,
                    Message.member_id == row.member_id,
                    Message.occurred_at >= row.trigger_at,
                )
            )
        )
    )


def _action(
    conn: Connection,
    row: Any,
    book: Playbook,
    step: Step,
    index: int,
    spec: CommunitySpec,
    lang: str,
    now: datetime,
) -> ev.Action | dict[str, Any]:
    """The step's message (an Action), or the operator's task (a row for operator_tasks)."""
    group = conn.execute(
        select(Group.platform, Group.platform_group_id, Group.name, Community.slug)
        .join(Community, Community.id == Group.community_id)
        .where(Group.id == row.group_id)
    ).one()
    user = conn.scalar(
        select(Identity.platform_user_id)
        .where(Identity.member_id == row.member_id, Identity.platform == group.platform)
        .limit(1)
    )
    name = conn.scalar(select(Member.display_name).where(Member.id == row.member_id)) or ""
    tier = conn.scalar(select(TierState.tier).where(TierState.member_id == row.member_id))
    tier_names = {
        t.id: t.name_zh if lang.startswith("zh") else (t.name_en or t.name_zh) for t in spec.tiers
    }
    days_left = ""
    if book.trigger == "before_expiry":
        left = (_aware(row.trigger_at) - now).total_seconds()
        days_left = str(max(0, int(-(-left // 86400))))  # 6.9 days left reads "7 days"
    template = step.text.en if lang == "en" and step.text.en else step.text.zh_cn
    text = template.format(
        name=name,
        group=group.name,
        community=spec.name,
        tier=tier_names.get(tier or "", tier or ""),
        days_left=days_left,
    )
    key = f"playbook:{book.name}:{row.id}:{index}"
    detail = {"playbook": book.name, "step": index, "progress": row.id}
    if step.kind == "task" or group.platform not in SENDS:
        # a message the bot cannot send here is one for the operator to send by hand
        what = "do" if step.kind == "task" else "send"
        return {
            "kind": "playbook",
            "source_key": key,
            "group_id": row.group_id,
            "member_id": row.member_id,
            "text": text,
            "due_at": due_at(book, step, _aware(row.trigger_at)),
            "detail": {**detail, "what": what, "member": name},
        }
    private = step.to == "member" and group.platform in PRIVATE and user is not None
    return ev.Action(
        kind="send_message",
        platform=group.platform,
        community=group.slug,
        group=user if private and user else group.platform_group_id,
        member=user,
        text=text,
        reason="playbook",
        key=key,
        detail={**detail, "private": private},
    )


def run(
    conn: Connection, community_id: int, spec: CommunitySpec, now: datetime, lang: str
) -> dict[str, Any]:
    """Enrol and advance every playbook of the community, in the caller's transaction."""
    enrolled = acted = skipped = 0
    books = {b.name: b for b in spec.playbooks}
    for each in books.values():
        if each.trigger == "member_joined":
            enrolled += _enrol_joins(conn, community_id, each, now)
        else:
            enrolled += _enrol_expiries(conn, community_id, each, now)
    p = PlaybookProgress
    rows = conn.execute(
        select(
            p.id,
            p.community_id,
            p.playbook,
            p.member_id,
            p.group_id,
            p.trigger_at,
            p.next_step,
            p.history,
        )
        .where(p.community_id == community_id, p.done.is_(False))
        .order_by(p.id)
    ).all()
    actions: list[ev.Action] = []
    tasks: list[dict[str, Any]] = []
    for row in rows:
        book = books.get(row.playbook)
        if book is None:  # the playbook was taken out of the spec: nothing more is sent
            conn.execute(update(p).where(p.id == row.id).values(done=True, updated_at=now))
            continue
        step_no, history = row.next_step, list(row.history or [])
        trigger = _aware(row.trigger_at)
        while step_no < len(book.steps) and due_at(book, book.steps[step_no], trigger) <= now:
            step = book.steps[step_no]
            if step.unless == "spoke" and _spoke(conn, row):
                history.append({"step": step_no, "at": now.isoformat(), "outcome": "skipped"})
                skipped += 1
            else:
                made = _action(conn, row, book, step, step_no, spec, lang, now)
                if isinstance(made, ev.Action):
                    actions.append(made)
                else:
                    tasks.append(made)
                history.append({"step": step_no, "at": now.isoformat(), "outcome": step.kind})
                acted += 1
            step_no += 1
        finished = step_no >= len(book.steps) or now >= trigger + timedelta(
            days=book.ends_after_days
        )
        if step_no != row.next_step or finished:
            conn.execute(
                update(p)
                .where(p.id == row.id)
                .values(next_step=step_no, history=history, done=finished, updated_at=now)
            )
    outbox.enqueue(conn, community_id, actions, "playbook")
    operator_tasks.add(conn, community_id, tasks, now)
    return {"enrolled": enrolled, "acted": acted, "skipped": skipped}


def progress_of(conn: Connection, community_id: int, member_id: int) -> list[dict[str, Any]]:
    """A member's playbooks: where they stand and what each step did (the member page)."""
    p = PlaybookProgress
    rows = conn.execute(
        select(p.playbook, p.group_id, p.trigger_at, p.next_step, p.done, p.history, Group.name)
        .join(Group, Group.id == p.group_id)
        .where(p.community_id == community_id, p.member_id == member_id)
        .order_by(p.trigger_at.desc())
    ).all()
    return [
        {
            "playbook": r.playbook,
            "group": r.name,
            "trigger_at": _aware(r.trigger_at),
            "next_step": r.next_step,
            "done": r.done,
            "history": r.history or [],
        }
        for r in rows
    ]
