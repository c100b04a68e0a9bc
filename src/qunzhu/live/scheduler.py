"""The time-driven work of ``qunzhu serve``: referral settle (stay windows that ended,
clawbacks), the membership sweep (renewal reminders, expiries), the daily recompute
(roles, value, tiers, group health) and the welcome of people who just joined, per
community, each at its own interval (``QUNZHU_SCHEDULE_SETTLE_MINUTES``, ``…_SWEEP_MINUTES``,
``…_RECOMPUTE_MINUTES``, ``QUNZHU_SCHEDULE_WELCOME_SECONDS``, ``…_CALENDAR_SECONDS``; 0
turns a job off). The calendar job sends the content calendar's posts that have come due;
the playbooks job (as often) walks members through the spec's SOP playbooks. The tasks job
(``QUNZHU_SCHEDULE_TASKS_MINUTES``) turns the queues, the health alerts and the deliveries
that need a hand into operators' tasks; the digest job (with ``QUNZHU_DIGEST_HOUR``) sends
each operator their tasks once a day.

Each (community, job) has a row in ``scheduled_jobs``. A process runs a job only after it
took the row's lease — one conditional UPDATE, atomic on SQLite and PostgreSQL — so two
serving processes never run the same job at once; a lease whose holder died ends after
``LEASE``. The row keeps the last run (start, end, status, error, result): ``qunzhu schedule
status`` and ``GET /api/v1/communities/{slug}/schedule`` show it.

The actions a job decides (a reminder, a removal on expiry) go to the outbox in the job's
transaction, like every decision made outside the live pipeline.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select, update

from qunzhu.store import outbox
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.connectors import ScheduledJob
from qunzhu.store.models import Community
from qunzhu.store.session import Store

log = logging.getLogger(__name__)

LEASE = timedelta(hours=2)
"""Longer than any job runs: a lease still held after it belonged to a process that died."""

JobWork = Callable[[Connection, int, datetime, Store], dict[str, Any]]


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    work: JobWork


def _settle(conn: Connection, cid: int, now: datetime, store: Store) -> dict[str, Any]:
    from qunzhu.growth.referral_settle import settle

    return settle(conn, cid, now=now).as_dict()


def _sweep(conn: Connection, cid: int, now: datetime, store: Store) -> dict[str, Any]:
    from qunzhu.growth.payments import sweep

    out = sweep(conn, cid, now)
    actions = out.pop("actions")
    queued = outbox.enqueue(conn, cid, actions, f"sweep:{int(now.timestamp())}")
    return {**out, "queued": len(queued)}


def _recompute(conn: Connection, cid: int, now: datetime, store: Store) -> dict[str, Any]:
    from qunzhu.engines.recompute import recompute_community
    from qunzhu.engines.views import latest_data_day

    tz = store.settings.tz
    today = now.astimezone(tz).date()
    day = latest_data_day(conn, cid, today) or today
    report = recompute_community(conn, cid, day, tz).as_dict()
    report.pop("alerts", None)  # kept in their own table; the run's summary stays small
    return report


def _welcome(conn: Connection, cid: int, now: datetime, store: Store) -> dict[str, Any]:
    from qunzhu.growth.common import spec_of
    from qunzhu.messaging.welcome import welcome

    return welcome(conn, cid, spec_of(conn, cid), now, store.settings.language)


def _calendar(conn: Connection, cid: int, now: datetime, store: Store) -> dict[str, Any]:
    from qunzhu.growth.common import spec_of
    from qunzhu.messaging.calendar import due

    # the posts, their broadcasts and their next occurrences in one transaction of its own
    with store.unit_of_work() as session:
        slug = session.scalar(select(Community.slug).where(Community.id == cid)) or ""
        return due(session, cid, slug, spec_of(session.connection(), cid), now)


def _playbooks(conn: Connection, cid: int, now: datetime, store: Store) -> dict[str, Any]:
    from qunzhu.growth.common import spec_of
    from qunzhu.messaging.playbooks import run

    return run(conn, cid, spec_of(conn, cid), now, store.settings.language)


def _tasks(conn: Connection, cid: int, now: datetime, store: Store) -> dict[str, Any]:
    from qunzhu.growth.common import spec_of
    from qunzhu.messaging.broadcast import community_zone
    from qunzhu.tasks.generate import run as generate

    # the queues' tasks are per local day of the community: its zone, else the server's
    return generate(conn, cid, now, community_zone(spec_of(conn, cid), store.settings.tz))


def _digest(conn: Connection, cid: int, now: datetime, store: Store) -> dict[str, Any]:
    from qunzhu.tasks.digest import run as digest

    # its own short transactions: the day's marker is committed before an e-mail goes out
    return digest(store, cid, now)


WORK: dict[str, JobWork] = {
    "settle": _settle,
    "sweep": _sweep,
    "recompute": _recompute,
    "welcome": _welcome,
    "calendar": _calendar,
    "playbooks": _playbooks,
    "tasks": _tasks,
    "digest": _digest,
}


def jobs_from_settings(store: Store) -> list[Job]:
    s = store.settings
    minutes = {
        "settle": s.schedule_settle_minutes,
        "sweep": s.schedule_sweep_minutes,
        "recompute": s.schedule_recompute_minutes,
    }
    jobs = [Job(n, timedelta(minutes=m), WORK[n]) for n, m in minutes.items() if m > 0]
    if s.schedule_welcome_seconds > 0:
        jobs.append(Job("welcome", timedelta(seconds=s.schedule_welcome_seconds), _welcome))
    if s.schedule_calendar_seconds > 0:
        jobs.append(Job("calendar", timedelta(seconds=s.schedule_calendar_seconds), _calendar))
        # the playbooks' steps are days apart: the calendar's minute is fine enough for them
        jobs.append(Job("playbooks", timedelta(seconds=s.schedule_calendar_seconds), _playbooks))
    if s.schedule_tasks_minutes > 0:
        jobs.append(Job("tasks", timedelta(minutes=s.schedule_tasks_minutes), _tasks))
    if s.digest_hour is not None:  # looks every few minutes; sends once a day per operator
        jobs.append(Job("digest", timedelta(minutes=5), _digest))
    return jobs


class Scheduler:
    def __init__(self, store: Store, jobs: list[Job] | None = None, *, tick: float = 30.0) -> None:
        self.store = store
        self.jobs = jobs if jobs is not None else jobs_from_settings(store)
        # a job every 15 seconds (the welcome) is not left waiting for a 30-second tick
        self.tick = min([tick, *(j.every.total_seconds() for j in self.jobs)])
        self.holder = f"{socket.gethostname()}:{os.getpid()}"[:64]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(
        self, now: datetime | None = None, *, force: bool = False, only: str | None = None
    ) -> list[dict[str, Any]]:
        """Run every job whose interval has passed (all of them with ``force``) and whose
        lease this process takes; what ran, with its result or error."""
        now = now or datetime.now(UTC)
        with self.store.read_engine.connect() as conn:
            communities = list(conn.scalars(select(Community.id).order_by(Community.id)))
        done: list[dict[str, Any]] = []
        for job in self.jobs:
            if only is not None and job.name != only:
                continue
            for cid in communities:
                if self._stop.is_set():
                    return done
                if self._take(cid, job, now, force):
                    done.append(self._run(cid, job, now))
        return done

    def _take(self, cid: int, job: Job, now: datetime, force: bool) -> bool:
        t = table_of(ScheduledJob)
        with self.store.engine.begin() as conn:
            insert_ignoring_conflicts(
                conn,
                t,
                [{"community_id": cid, "name": job.name, "last_result": {}, "runs": 0}],
            )
            free = or_(t.c.locked_until.is_(None), t.c.locked_until < now)
            due = or_(t.c.last_started_at.is_(None), t.c.last_started_at <= now - job.every)
            taken = conn.execute(
                update(t)
                .where(
                    t.c.community_id == cid, t.c.name == job.name, free, *(() if force else (due,))
                )
                .values(locked_by=self.holder, locked_until=now + LEASE, last_started_at=now)
            )
        return bool(taken.rowcount)

    def _run(self, cid: int, job: Job, now: datetime) -> dict[str, Any]:
        status, error, result = "ok", None, {}
        try:
            with self.store.engine.begin() as conn:
                result = job.work(conn, cid, now, self.store)
        except Exception as exc:  # one community's failure must not stop the others
            log.exception("scheduled %s for community %s failed", job.name, cid)
            status, error = "error", f"{type(exc).__name__}: {exc}"[:2000]
        t = table_of(ScheduledJob)
        with self.store.engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.c.community_id == cid, t.c.name == job.name, t.c.locked_by == self.holder)
                .values(
                    locked_by=None,
                    locked_until=None,
                    last_finished_at=datetime.now(UTC),
                    last_status=status,
                    last_error=error,
                    last_result=outbox.plain(result),
                    runs=t.c.runs + 1,
                )
            )
        return {"community_id": cid, "job": job.name, "status": status, "error": error, **result}

    def start(self) -> None:
        if self._thread is not None or not self.jobs:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="qunzhu-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:  # the database away for a moment: the next tick tries again
                log.exception("the scheduler's round failed")
            self._stop.wait(self.tick)


def status(conn: Connection, community_id: int | None = None) -> list[dict[str, Any]]:
    """The last run of every job (of one community, or all), for operators."""
    t = table_of(ScheduledJob)
    q = (
        select(t, Community.slug)
        .join(Community, Community.id == t.c.community_id)
        .order_by(Community.slug, t.c.name)
    )
    if community_id is not None:
        q = q.where(t.c.community_id == community_id)
    return [
        {
            "community": r.slug,
            "job": r.name,
            "runs": r.runs,
            "last_started_at": r.last_started_at,
            "last_finished_at": r.last_finished_at,
            "last_status": r.last_status,
            "last_error": r.last_error,
            "last_result": r.last_result,
            "running": r.locked_by,
        }
        for r in conn.execute(q)
    ]
