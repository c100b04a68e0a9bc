"""Operators' tasks on both databases: the queues make one task per group per day (kept
current, closed when the queue empties, never twice), a WeCom delivery is a task for the
owner to confirm, the plan orders overdue first, and done / snooze / reassign are checked
and carried out once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from qunzhu.auth.operators import create_operator, grant
from qunzhu.auth.permissions import Conflict, Forbidden, NotFound
from qunzhu.store import Store
from qunzhu.store import tasks as store_tasks
from qunzhu.store.admin import Operator
from qunzhu.store.community import Community, Group, Member
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.messaging import Broadcast
from qunzhu.store.models import ModerationAction
from qunzhu.store.tasks import OperatorTask
from qunzhu.tasks import actions
from qunzhu.tasks.generate import run
from qunzhu.tasks.plan import Actor, plan

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _setup(store: Store) -> dict[str, int]:
    with store.unit_of_work() as session:
        c = Community(slug="acme", name="读书会")
        session.add(c)
        session.flush()
        groups = [
            Group(community_id=c.id, platform="telegram", platform_group_id="-1001", name="一群"),
            Group(community_id=c.id, platform="wecom", platform_group_id="wrA", name="企微群"),
        ]
        session.add_all(groups)
        m = Member(community_id=c.id, display_name="ann")
        session.add(m)
        for name, role in (("mo", "moderator"), ("ad", "admin"), ("an", "analyst")):
            create_operator(session, name, "pw-" + "x" * 12, source="cli")
            session.flush()
            grant(session, name, "acme", role, source="cli")
        session.flush()
        ids = {"c": c.id, "g1": groups[0].id, "g2": groups[1].id, "m": m.id}
        for op in session.scalars(select(Operator)):
            ids[op.username] = op.id
    return ids


def _flag(store: Store, ids: dict[str, int], group: str, n: int) -> None:
    with store.unit_of_work() as session:
        for i in range(n):
            session.add(
                ModerationAction(
                    community_id=ids["c"],
                    group_id=ids[group],
                    member_id=ids["m"],
                    key=f"{group}-{i}-{n}",
                    action="delete",
                    rule="spam",
                    status="pending_review",
                    evidence={},
                )
            )


def _generate(store: Store, ids: dict[str, int], now: datetime = NOW) -> dict:
    with store.engine.begin() as conn:
        return run(conn, ids["c"], now, TZ)


def _tasks(store: Store) -> list[OperatorTask]:
    with store.reading() as session:
        return list(session.scalars(select(OperatorTask).order_by(OperatorTask.id)))


def test_queues_make_one_task_per_group_per_day_kept_current(store):
    ids = _setup(store)
    with store.engine.begin() as conn:  # mo looks after the first group
        store_tasks.assign(conn, ids["c"], ids["mo"], [ids["g1"]], NOW)
    _flag(store, ids, "g1", 3)
    _flag(store, ids, "g2", 1)
    assert _generate(store, ids)["review"] == 2
    assert _generate(store, ids)["review"] == 0  # again: nothing new
    first = _tasks(store)
    assert sorted((t.group_id, t.detail["count"]) for t in first) == [
        (ids["g1"], 3),
        (ids["g2"], 1),
    ]
    owners = {t.group_id: t.owner_id for t in first}
    assert owners == {ids["g1"]: ids["mo"], ids["g2"]: None}  # the group's operator, by default
    assert all(t.due_at == datetime(2026, 12, 7, 23, 59, 59, tzinfo=TZ) for t in first)

    _flag(store, ids, "g1", 2)  # more come: the open task's count follows
    # the second group's items are decided: its task closes itself
    with store.engine.begin() as conn:
        conn.execute(
            update(ModerationAction)
            .where(ModerationAction.group_id == ids["g2"])
            .values(status="approved")
        )
    report = _generate(store, ids, NOW + timedelta(hours=1))
    assert report["closed"] == 1 and report["review"] == 0
    by_group = {t.group_id: t for t in _tasks(store)}
    assert by_group[ids["g1"]].detail["count"] == 5 and by_group[ids["g1"]].state == "open"
    assert by_group[ids["g2"]].state == "done" and by_group[ids["g2"]].done_by == "qunzhu"

    # the next day, yesterday's open task stays (overdue) instead of a second one
    _generate(store, ids, NOW + timedelta(days=1))
    assert len([t for t in _tasks(store) if t.group_id == ids["g1"]]) == 1
    day2 = plan_of(store, ids, Actor(ids["ad"], "ad", True, True), NOW + timedelta(days=1))
    assert [i.group for i in day2.overdue] == ["一群"] and not day2.today


def plan_of(store: Store, ids: dict[str, int], actor: Actor, now: datetime, scope: str = "all"):
    with store.engine.connect() as conn:
        return plan(conn, ids["c"], actor, now=now, tz=TZ, scope=scope)


def test_a_wecom_delivery_is_a_task_for_the_owner_to_confirm(store):
    ids = _setup(store)
    with store.unit_of_work() as session:
        b = Broadcast(community_id=ids["c"], created_by="calendar:7", texts={}, audience={})
        session.add(b)
        session.flush()
        for n, (platform, chat, status) in enumerate(
            [("wecom", "wrA", "sent"), ("telegram", "-1001", "sent"), ("wechat", "wx", "alerted")]
        ):
            session.add(
                OutboxAction(
                    community_id=ids["c"],
                    origin=f"broadcast:{b.id}",
                    key=f"k{n}",
                    kind="send_message",
                    platform=platform,
                    action={"group": chat, "text": "本周话题：读书"},
                    status=status,
                    done_at=NOW,
                )
            )
    assert _generate(store, ids)["deliveries"] == 2
    assert _generate(store, ids)["deliveries"] == 0
    made = _tasks(store)
    assert [(t.kind, t.detail["what"], t.group_id) for t in made] == [
        ("calendar", "confirm", ids["g2"]),
        ("calendar", "send", None),  # a WeChat chat qunzhu does not know as a group
    ]
    assert made[0].detail["post"] == 7 and made[0].text == "本周话题：读书"


def test_done_snooze_reassign_are_checked_and_happen_once(store):
    ids = _setup(store)
    with store.engine.begin() as conn:
        store_tasks.assign(conn, ids["c"], ids["mo"], [ids["g1"]], NOW)
    _flag(store, ids, "g1", 1)
    _flag(store, ids, "g2", 1)
    _generate(store, ids)
    mine, other = _tasks(store)
    mo = Actor(ids["mo"], "mo", every_task=False, some_tasks=True)
    an = Actor(ids["an"], "an", every_task=False, some_tasks=False)
    ad = Actor(ids["ad"], "ad", every_task=True, some_tasks=True)
    with store.unit_of_work() as session, pytest.raises(Forbidden):
        actions.done(session, ids["c"], other.id, mo, NOW, "cli")  # not mo's group
    with store.unit_of_work() as session, pytest.raises(Forbidden):
        actions.done(session, ids["c"], mine.id, an, NOW, "cli")  # analysts read
    with store.unit_of_work() as session, pytest.raises(NotFound):
        actions.done(session, ids["c"] + 100, mine.id, ad, NOW, "cli")  # another community
    with store.unit_of_work() as session:
        until = actions.snooze(session, ids["c"], mine.id, "tomorrow", mo, NOW, TZ, "cli")
    assert until == datetime(2026, 12, 8, 9, 0, tzinfo=TZ)
    snoozed = plan_of(store, ids, mo, NOW, "mine")
    assert snoozed.open == 0 and snoozed.snoozed == 1
    assert plan_of(store, ids, mo, until, "mine").open == 1  # awake again in the morning
    with store.unit_of_work() as session, pytest.raises(Conflict):
        actions.reassign(session, ids["c"], mine.id, "an", ad, NOW, "cli")  # a reader
    with store.unit_of_work() as session, pytest.raises(NotFound):
        actions.reassign(session, ids["c"], mine.id, "nobody", ad, NOW, "cli")
    with store.unit_of_work() as session:
        actions.reassign(session, ids["c"], other.id, "mo", ad, NOW, "cli")
    assert [i.id for i in plan_of(store, ids, mo, NOW, "mine").today] == [other.id]
    with store.unit_of_work() as session:
        actions.done(session, ids["c"], other.id, mo, NOW, "cli")
    with store.unit_of_work() as session, pytest.raises(Conflict):
        actions.done(session, ids["c"], other.id, ad, NOW, "cli")  # once
    assert plan_of(store, ids, ad, NOW).done_today == 1
    with pytest.raises(ValueError):
        actions.snooze_until("forever", NOW, TZ)


def test_serve_runs_the_tasks_job_and_the_digest_only_when_asked(store, settings):
    from qunzhu.live.scheduler import Scheduler, jobs_from_settings

    names = [j.name for j in jobs_from_settings(store)]
    assert "tasks" in names and "digest" not in names  # the digest is off by default
    with_digest = Store(settings.model_copy(update={"digest_hour": 9}))
    try:
        assert "digest" in [j.name for j in jobs_from_settings(with_digest)]
    finally:
        with_digest.dispose()
    ids = _setup(store)
    _flag(store, ids, "g1", 2)
    [ran] = Scheduler(store).run_due(force=True, only="tasks")
    assert ran["status"] == "ok" and ran["review"] == 1
    assert [t.kind for t in _tasks(store)] == ["review"]
