"""The scheduler of `qunzhu serve`: each job per community at its interval, under a lease so
two processes never run it at once, its last run kept; the sweep's decisions queued."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from qunzhu_tests_growth import T0, rows
from sqlalchemy import Connection, select, update

from qunzhu.cli.main import app as cli_app
from qunzhu.growth import payments
from qunzhu.growth.providers import PaymentNotice
from qunzhu.live.scheduler import WORK, Job, Scheduler
from qunzhu.store import Store
from qunzhu.store.connectors import OutboxAction, ScheduledJob
from qunzhu.store.models import Community

NOW = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
PLANS = """
monetization:
  model: membership_fee
  plans:
    - {id: month, name: 月卡, price_cents: 3000, period_days: 30, on_expiry: remove}
"""


def _counting(calls: list[tuple[str, int]], name: str = "count") -> Job:
    def work(conn: Connection, cid: int, now: datetime, store: Store) -> dict[str, Any]:
        calls.append((name, cid))
        return {"seen": cid}

    return Job(name, timedelta(minutes=60), work)


def _two_communities(store: Store) -> list[int]:
    with store.unit_of_work() as session:
        made = [Community(slug=s, name=s) for s in ("a", "b")]
        session.add_all(made)
        session.flush()
        return [c.id for c in made]


def test_a_job_runs_per_community_once_per_interval(store):
    ids = _two_communities(store)
    calls: list[tuple[str, int]] = []
    scheduler = Scheduler(store, [_counting(calls)])
    assert [r["community_id"] for r in scheduler.run_due(NOW)] == ids
    assert scheduler.run_due(NOW + timedelta(minutes=59)) == []  # not due yet
    assert len(scheduler.run_due(NOW + timedelta(minutes=60))) == 2
    assert calls == [("count", ids[0]), ("count", ids[1])] * 2
    [job] = rows(store, select(ScheduledJob).where(ScheduledJob.community_id == ids[0]))
    assert job.runs == 2 and job.last_status == "ok" and job.last_result == {"seen": ids[0]}
    assert job.locked_by is None and job.last_finished_at is not None


def test_a_held_lease_keeps_another_process_out_until_it_ends(store):
    ids = _two_communities(store)
    calls: list[tuple[str, int]] = []
    first = Scheduler(store, [_counting(calls)])
    first.run_due(NOW)
    with store.engine.begin() as conn:  # process 1 is running the job for community a
        conn.execute(
            update(ScheduledJob)
            .where(ScheduledJob.community_id == ids[0])
            .values(locked_by="other:1", locked_until=NOW + timedelta(hours=3))
        )
    later = NOW + timedelta(hours=2)
    second = Scheduler(store, [_counting(calls)])
    second.holder = "other:2"
    assert [r["community_id"] for r in second.run_due(later, force=True)] == [ids[1]]
    # the holder died: its lease ends and the job is taken again
    assert [r["community_id"] for r in second.run_due(NOW + timedelta(hours=4))] == ids


def test_two_schedulers_racing_run_each_job_once(store):
    _two_communities(store)
    calls: list[tuple[str, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(2)

    def work(conn: Connection, cid: int, now: datetime, s: Store) -> dict[str, Any]:
        with lock:
            calls.append(("race", cid))
        return {}

    def run(n: int) -> None:
        scheduler = Scheduler(store, [Job("race", timedelta(hours=1), work)])
        scheduler.holder = f"proc:{n}"
        start.wait()
        scheduler.run_due(NOW)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 2


def test_a_failing_job_is_recorded_and_the_others_run(store):
    ids = _two_communities(store)
    calls: list[tuple[str, int]] = []

    def broken(conn: Connection, cid: int, now: datetime, s: Store) -> dict[str, Any]:
        if cid == ids[0]:
            raise RuntimeError("spec unreadable")
        return {}

    scheduler = Scheduler(store, [Job("broken", timedelta(hours=1), broken), _counting(calls)])
    ran = scheduler.run_due(NOW)
    assert [(r["job"], r["status"]) for r in ran] == [
        ("broken", "error"),
        ("broken", "ok"),
        ("count", "ok"),
        ("count", "ok"),
    ]
    assert ran[0]["error"] == "RuntimeError: spec unreadable"
    [(status, error)] = rows(
        store,
        select(ScheduledJob.last_status, ScheduledJob.last_error).where(
            ScheduledJob.community_id == ids[0], ScheduledJob.name == "broken"
        ),
    )
    assert status == "error" and "spec unreadable" in error


def test_the_sweep_queues_its_removals_and_settle_runs(store, town):
    t = town(PLANS)
    t.join("buyer", at=T0)
    cid, buyer = t.community_id, t.member_id("buyer")
    with store.engine.begin() as conn:
        order = payments.create_order(conn, cid, buyer, "month")
        paid = payments.record_payment(
            conn,
            "manual",
            PaymentNotice(
                community="acme",
                order_no=order["order_no"],
                payment_id="cash-1",
                amount_cents=order["amount_cents"],
                currency="CNY",
                raw={},
            ),
        )
    after = paid.subscription["expires_at"] + timedelta(hours=1)
    jobs = [Job(name, timedelta(hours=1), WORK[name]) for name in ("settle", "sweep")]
    ran = {r["job"]: r for r in Scheduler(store, jobs).run_due(after)}
    assert ran["sweep"]["status"] == "ok" and ran["sweep"]["queued"] == 1
    assert ran["settle"]["status"] == "ok"
    [(origin, kind, status)] = rows(
        store, select(OutboxAction.origin, OutboxAction.kind, OutboxAction.status)
    )
    assert origin.startswith("sweep:") and (kind, status) == ("remove", "queued")


def test_schedule_commands_run_and_show(store, town, cli, cli_env):
    town()
    ran = cli.invoke(cli_app, ["schedule", "run", "--job", "settle", "--json"])
    assert ran.exit_code == 0, ran.output
    assert [(r["job"], r["status"]) for r in json.loads(ran.output)] == [("settle", "ok")]
    again = cli.invoke(cli_app, ["schedule", "run", "--job", "settle", "--due-only", "--json"])
    assert json.loads(again.output) == []  # ran a moment ago: not due
    shown = cli.invoke(cli_app, ["schedule", "status", "-c", "acme", "--json"])
    [job] = json.loads(shown.output)
    assert (job["community"], job["job"], job["runs"], job["last_status"]) == (
        "acme",
        "settle",
        1,
        "ok",
    )
    unknown = cli.invoke(cli_app, ["schedule", "run", "--job", "teleport", "--json"])
    assert unknown.exit_code == 2 and "unknown job" in json.loads(unknown.output)["error"]
