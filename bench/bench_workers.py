"""Several `qunzhu worker` processes on one PostgreSQL and one Redis, one of them killed.

The run under failure: 500 Telegram updates/s for 60 s (``--quick``: 20 s, ``--seconds N``)
across 200 chats (one in ten an ad, one post in a hundred a redelivery) are offered to three
`qunzhu worker` processes, which store them in PostgreSQL and carry out the actions against
a fake Bot API (bench_webhooks.py's, a process of its own that counts each deleteMessage).
One worker is killed with SIGKILL at a third of the run and started again at two thirds.
``--via queue`` (default) puts each update straight onto the queue, parsed as the webhook
parses it, in one transaction as the web process does: on the 2-core machine a web process
beside three workers and PostgreSQL answered only ~130 updates/s, so it, not the workers,
was the bottleneck. ``--via web`` posts them to the webhook of a web process as `qunzhu
serve` runs it (on 40 keep-alive connections; it deletes ads at receipt). Reported: lost
updates (answered, not stored), duplicates, ads not deleted or deleted twice, and whether
each chat's offences — which message got which moderation action — equal those of a run
by a single worker.

The capacity runs: the same updates are put straight onto the queue, as fast as Redis takes
them, for 1, 2 and 3 workers, and the time until all are stored gives each one's
throughput. The single-worker run is the reference for the offences.

Each run has a PostgreSQL schema of its own in a database made for the benchmark and
dropped after it (QUNZHU_TEST_DATABASE_URL names the server), a community of its own, and
a Redis stream of its own (QUNZHU_TEST_REDIS_URL, default redis://127.0.0.1:6379/15),
removed after it.

`python bench/bench_workers.py --out bench/results/workers.json [--quick | --seconds N]
[--via queue|web]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_webhooks as hooks
import machine

RATE = 500
CHATS = 200
SHARDS = 16
KEY = "w" * 40
SPEC = """\
name: bench
purpose: load test
rules:
  contact_solicitation: {action: delete_warn, severity: 2}
  classifier: {action: allow, threshold_flag: 1.0, threshold_act: 1.0}
escalation:
  points_expire_days: 30
  ladder:
    - {points: 1, action: warn}
    - {points: 6, action: mute, duration_minutes: 60}
    - {points: 12, action: remove}
"""
PG = os.environ.get("QUNZHU_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("QUNZHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


# --- the input: updates of 200 chats, ads by a few members of each --------------------------


def make_posts(count: int) -> tuple[list[bytes], dict[int, int], set[int]]:
    """Bodies to post; which post carries which update id; which update ids are ads. Each
    chat's ads come from three members of its own, so their offences climb the ladder in
    that chat's order alone (a member in several chats would be judged in an order that
    depends on how the chats' batches interleave)."""
    now = int(time.time()) - 600
    bodies: list[bytes] = []
    carries: dict[int, int] = {}
    ads: set[int] = set()
    unique: list[bytes] = []
    for i in range(count):
        if i % 100 == 99 and len(unique) > 50:  # a redelivery of an earlier update
            bodies.append(unique[-50])
            carries[i] = len(unique) - 49
            continue
        n = len(unique) + 1
        chat = n % CHATS
        ad = n % 10 == 3
        member = 900_000 + chat * 3 + n % 3 if ad else 10_000 + n % 5000
        text = f"加 薇 信 qz{n:06d} 了解赚钱项目" if ad else f"今天读到第 {n} 页，做了笔记"
        update = {
            "update_id": n,
            "message": {
                "message_id": n,
                "date": now + n // RATE,
                "text": text,
                "from": {"id": member, "is_bot": False, "first_name": f"u{member}"},
                "chat": {"id": -1001_000_000_000 - chat, "type": "supergroup", "title": "b"},
            },
        }
        if ad:
            ads.add(n)
        unique.append(json.dumps(update).encode())
        bodies.append(unique[-1])
        carries[i] = n
    return bodies, carries, ads


# --- a run's place: a PostgreSQL schema, a Redis stream, the processes ----------------------


class Run:
    def __init__(self, name: str, database: str, tmp: Path) -> None:
        from qunzhu.store import make_engine
        from qunzhu.store.migrate import upgrade
        from qunzhu.store.models import Base

        self.name = name
        self.tmp = tmp
        self.schema = f"run_{name}"
        base = PG.rsplit("/", 1)[0] + f"/{database}"
        with make_engine(base).begin() as conn:
            from sqlalchemy import text

            conn.execute(text(f"CREATE SCHEMA {self.schema}"))
        self.db = f"{base}?options=-csearch_path%3D{self.schema}"
        self.engine = make_engine(self.db)
        upgrade(self.engine)
        Base.metadata.create_all(self.engine)  # tables whose migration is not written yet
        self.stream = f"qunzhu:bench-workers:{os.getpid()}:{name}"
        # a community of its own: moderation's shared windows in Redis (flooding, the same
        # text across groups) are keyed by community, and the runs post the same messages
        self.slug = f"bench-{name}-{os.getpid()}"
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.started: dict[int, int] = {}

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "QUNZHU_DATABASE_URL": self.db,
            "QUNZHU_REDIS_URL": REDIS,
            "QUNZHU_LIVE_STREAM": self.stream,
            "QUNZHU_LIVE_SHARDS": str(SHARDS),
            "QUNZHU_SECRET_KEY": KEY,
            "QUNZHU_SAMPLE_DATA": "false",
            "QUNZHU_LOG_LEVEL": "WARNING",
            # the machine is shared: at nice 10 the workers would yield to other tenants'
            # processes, not only to this benchmark's web process
            "QUNZHU_LIVE_NICE": "0",
        }

    def set_up(self, api_base: str) -> None:
        """The community and its Telegram connector, before any process loads them."""
        from qunzhu.adapters.manage import save_connector
        from qunzhu.settings import load_settings
        from qunzhu.store.models import Community
        from qunzhu.store.session import Store

        store = Store(load_settings(database_url=self.db, secret_key=KEY, sample_data=False))
        with store.unit_of_work() as session:
            session.add(Community(slug=self.slug, name="bench", spec_yaml=SPEC))
        save_connector(
            store,
            community=self.slug,
            platform="telegram",
            name="tgbench",
            config={"mode": "webhook", "api_base": api_base},
            credentials={"token": hooks.TOKEN, "webhook_secret": hooks.SECRET},
        )
        store.dispose()

    def start_worker(self, n: int) -> None:
        log = open(self.tmp / f"{self.name}-worker{n}.log", "ab")  # noqa: SIM115
        self.workers[n] = subprocess.Popen(
            [sys.executable, "-m", "qunzhu", "worker", "--name", f"w{n}"],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.started[n] = self.started.get(n, 0) + 1

    def kill_worker(self, n: int) -> None:
        self.workers[n].send_signal(signal.SIGKILL)
        self.workers[n].wait(10)

    def wait_for_workers(self, count: int, timeout: float = 120) -> None:
        """Until ``count`` workers share every shard: the runs start from the steady state."""
        import redis

        client = redis.Redis.from_url(REDIS)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            holders = client.mget([f"{self.stream}:lease:{n}" for n in range(SHARDS)])
            if None not in holders and len(set(holders)) == count:
                return
            for proc in self.workers.values():
                if proc.poll() is not None:
                    raise RuntimeError(f"a worker exited: see {self.tmp}")
            time.sleep(0.2)
        raise RuntimeError(f"{count} workers did not share the shards within {timeout:.0f} s")

    def stored(self) -> int:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM messages")).scalar_one())

    def wait_stored(self, expected: int, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.stored() < expected:
            time.sleep(0.2)
        return time.monotonic()

    def counts(self) -> dict[str, int]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            one = conn.execute(
                text(
                    "SELECT COUNT(*), COUNT(DISTINCT key), "
                    "(SELECT COUNT(*) FROM quarantine), (SELECT COUNT(*) FROM moderation_actions)"
                    " FROM messages"
                )
            ).one()
        return {"stored": one[0], "distinct": one[1], "quarantined": one[2], "offences": one[3]}

    def offences(self) -> dict[str, list[tuple[int, str, float]]]:
        """Per chat, which message got which moderation action with how many points."""
        from sqlalchemy import text

        out: dict[str, list[tuple[int, str, float]]] = {}
        with self.engine.connect() as conn:
            for chat, message, action, points in conn.execute(
                text(
                    "SELECT g.platform_group_id, m.platform_message_id, a.action, a.points "
                    "FROM moderation_actions a JOIN messages m ON m.id = a.message_id "
                    "JOIN groups g ON g.id = a.group_id"
                )
            ):
                out.setdefault(chat, []).append((int(message), action, float(points)))
        return {chat: sorted(rows) for chat, rows in out.items()}

    def stop(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers.values():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.engine.dispose()
        import redis

        client = redis.Redis.from_url(REDIS)
        keys = client.keys(f"{self.stream}*") + client.keys(f"qunzhu:*:{self.stream}:*")
        if keys:
            client.delete(*keys)


def role_web(db: str, stream: str, port_file: str) -> None:
    """The web process of `qunzhu serve` with Redis and QUNZHU_LIVE_WORKERS=0: it answers
    the webhooks into the shards and sends the early deletes; the workers do the rest."""
    from qunzhu.http.app import create_app, served
    from qunzhu.live.hub import ConnectorHub
    from qunzhu.live.process import freeze_startup_heap
    from qunzhu.settings import load_settings
    from qunzhu.store.session import Store

    settings = load_settings(
        database_url=db,
        redis_url=REDIS,
        live_stream=stream,
        live_shards=SHARDS,
        live_workers=0,
        secret_key=KEY,
        sample_data=False,
        log_level="WARNING",
    )
    store = Store(settings)
    hub = ConnectorHub.load(store, role="web")
    app = create_app(settings, store, webhooks=hub.routes())
    app.state.connector_hub = hub
    hub.start()
    freeze_startup_heap()
    try:
        hooks._serve(served(app), port_file)
    finally:
        hub.stop()
        store.dispose()


def _spawn_web(run: Run) -> tuple[subprocess.Popen[bytes], int]:
    port_file = run.tmp / f"port-web-{run.name}"
    proc = subprocess.Popen(
        [sys.executable, __file__, "--role", "web", run.db, run.stream, str(port_file)]
    )
    deadline = time.monotonic() + 120
    while not port_file.exists() or not port_file.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the web process did not start")
        time.sleep(0.05)
    return proc, int(port_file.read_text())


def _botapi(tmp: Path, name: str) -> tuple[subprocess.Popen[bytes], Path, str]:
    record = tmp / f"botapi-{name}.json"
    proc, port = hooks._spawn(["botapi", str(record)], tmp)
    return proc, record, f"http://127.0.0.1:{port}"


def _calls(record: Path) -> dict[int, int]:
    return {int(k): len(v) for k, v in json.loads(record.read_text())["deletes"].items()}


# --- the runs --------------------------------------------------------------------------------


def _none(_link: str) -> tuple[None, None]:
    return None, None


def parse(run: Run, body: bytes) -> list[Any]:
    """The events of one update, as the webhook of the run's connector makes them."""
    from qunzhu.adapters.telegram.parse import parse_update

    return list(parse_update(json.loads(body), run.slug, _none).events)


def capacity(database: str, tmp: Path, workers: int, unique: list[bytes], ads: set[int]) -> Any:
    """``workers`` workers store the updates put straight onto the queue: how fast."""
    from qunzhu.live.queue import RedisQueue

    run = Run(f"w{workers}", database, tmp)
    api, record, api_base = _botapi(tmp, run.name)
    try:
        run.set_up(api_base)
        for n in range(workers):
            run.start_worker(n)
        run.wait_for_workers(workers)
        events = [e for body in unique for e in parse(run, body)]
        web = RedisQueue(REDIS, stream=run.stream, shards=SHARDS)
        ticks = cpu_ticks()
        began = time.monotonic()
        for at in range(0, len(events), 500):  # as fast as Redis takes them
            web.put_claiming(events[at : at + 500], ())
        queued = time.monotonic() - began
        web.close()
        done = run.wait_stored(len(events), 900)
        busy = busy_since(ticks)
        time.sleep(3.0)  # the last actions go out
        counts = run.counts()
        offences = run.offences()
    finally:
        run.stop()
        hooks._stop(api)
    deletes = _calls(record)
    seconds = done - began
    return {
        "workers": workers,
        "events": len(events),
        "queued_in_s": round(queued, 2),
        "stored_in_s": round(seconds, 2),
        "stored_per_s": round(counts["stored"] / seconds, 1),
        "machine_cpu_busy": busy,
        **counts,
        "ads_not_deleted": len(ads - set(deletes)),
        "ads_deleted_twice": sum(1 for n in ads if deletes.get(n, 0) > 1),
    }, offences


def offer(run: Run, bodies: list[bytes], rate: int) -> list[tuple[float, float, int]]:
    """Put the updates straight onto the queue at ``rate`` a second, as the web process
    does: the updates due at once go in one transaction (the web process gathers those of
    concurrent webhooks the same way); (sent, queued, 200) per update, like ``run_load``."""
    from qunzhu.live.queue import RedisQueue

    web = RedisQueue(REDIS, stream=run.stream, shards=SHARDS)
    parsed = [parse(run, body) for body in bodies]
    out: list[tuple[float, float, int]] = []
    start = time.monotonic()
    try:
        while len(out) < len(parsed):
            due = min(len(parsed), int((time.monotonic() - start) * rate) + 1)
            if due <= len(out):
                time.sleep(max(0.0, (len(out) + 1) / rate - (time.monotonic() - start)))
                continue
            sent = time.time()
            web.put_claiming([e for events in parsed[len(out) : due] for e in events], ())
            queued = time.time()
            out.extend((sent, queued, 200) for _ in range(due - len(out)))
    finally:
        web.close()
    return out


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot (Linux)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def busy_since(ticks: tuple[int, int]) -> float:
    """The share of the machine's CPUs busy (with anything) since ``ticks``."""
    busy, total = cpu_ticks()
    return round((busy - ticks[0]) / max(1, total - ticks[1]), 2)


def under_failure(
    database: str, tmp: Path, seconds: float, rate: int, posts: Any, via: str
) -> tuple[dict[str, Any], dict[str, list[tuple[int, str, float]]]]:
    bodies, carries, ads = posts
    unique = len(set(carries.values()))
    run = Run("kill", database, tmp)
    api, record, api_base = _botapi(tmp, run.name)
    events: list[tuple[float, str]] = []
    web: subprocess.Popen[bytes] | None = None
    try:
        run.set_up(api_base)
        for n in range(3):
            run.start_worker(n)
        run.wait_for_workers(3)
        if via == "web":
            web, port = _spawn_web(run)
        ticks = cpu_ticks()
        began = time.monotonic()

        def kill() -> None:
            run.kill_worker(0)
            events.append((round(time.monotonic() - began, 1), "worker 0 killed (SIGKILL)"))

        def restart() -> None:
            run.start_worker(0)
            events.append((round(time.monotonic() - began, 1), "worker 0 started again"))

        timers = [threading.Timer(seconds / 3, kill), threading.Timer(seconds * 2 / 3, restart)]
        for t in timers:
            t.start()
        if web is not None:
            results = asyncio.run(hooks.run_load(port, bodies, rate))
        else:
            results = offer(run, bodies, rate)
        for t in timers:
            t.join()
        load_done = time.monotonic()
        done = run.wait_stored(unique, 900)
        busy = busy_since(ticks)
        time.sleep(3.0)  # the last actions go out
        counts = run.counts()
        offences = run.offences()
    finally:
        if web is not None:
            hooks._stop(web)
        run.stop()
        hooks._stop(api)
    deletes = _calls(record)
    answered = {carries[i] for i, (_s, _d, status) in enumerate(results) if status == 200}
    offered = hooks.summary(results, seconds)
    if web is None:
        offered = {k: v for k, v in offered.items() if not k.startswith("http_")}
    return {
        **offered,
        "answered_when": (
            "queued in the group's shard by the web process (HTTP)"
            if web is not None
            else "put straight onto the queue, one transaction per update (no web process)"
        ),
        "workers": 3,
        "happened": events,
        "unique_updates": unique,
        "redeliveries": len(bodies) - unique,
        "answered_unique": len(answered),
        **counts,
        "lost": len(answered) - counts["distinct"],
        "duplicates": counts["stored"] - counts["distinct"],
        "stored_after_load_s": round(done - load_done, 1),
        "stored_per_s_overall": round(counts["stored"] / (done - began), 1),
        "machine_cpu_busy": busy,
        "ads": len(ads),
        "ads_deleted_early_by_web": via == "web",
        "ads_not_deleted": len(ads - set(deletes)),
        "ads_deleted_twice": sum(1 for n in ads if deletes.get(n, 0) > 1),
    }, offences


def make_database() -> str:
    from sqlalchemy import text

    from qunzhu.store import make_engine

    name = f"qunzhu_bench_workers_{os.getpid()}"
    admin = make_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return name


def drop_database(name: str) -> None:
    from sqlalchemy import text

    from qunzhu.store import make_engine

    admin = make_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/workers.json"))
    parser.add_argument("--quick", action="store_true", help="20 s instead of 60 s")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--rate", type=int, default=RATE)
    parser.add_argument(
        "--via",
        choices=["queue", "web"],
        default="queue",
        help="how the run under failure offers its updates: straight onto the queue "
        "(default: on a 2-core machine the web process, beside three workers, posts only "
        "~130/s) or as webhooks through a web process",
    )
    parser.add_argument("--role", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        role_web(*args.role[1:])
        return

    from qunzhu.settings import Settings

    seconds = args.seconds or (20.0 if args.quick else 60.0)
    speed_at_start = machine.speed()
    posts = make_posts(int(seconds * args.rate))
    bodies, carries, ads = posts
    by_id: dict[int, bytes] = {}
    for i, body in enumerate(bodies):
        by_id.setdefault(carries[i], body)
    unique = [by_id[n] for n in sorted(by_id)]
    tmp = Path(tempfile.mkdtemp(prefix="qunzhu-bench-workers-"))
    database = make_database()
    try:
        failure, offences = under_failure(database, tmp, seconds, args.rate, posts, args.via)
        runs = []
        reference: dict[str, list[tuple[int, str, float]]] = {}
        for workers in (1, 2, 3):
            result, seen = capacity(database, tmp, workers, unique, ads)
            if workers == 1:
                reference = seen
            result["offences_as_one_worker"] = seen == reference
            runs.append(result)
    finally:
        drop_database(database)
    differ = sorted(
        c for c in set(offences) | set(reference) if offences.get(c) != reference.get(c)
    )
    failure["offences_as_one_worker"] = not differ
    failure["chats_whose_offences_differ"] = differ[:10]
    report = {
        "benchmark": "workers",
        "rate_per_s": args.rate,
        "seconds": seconds,
        "chats": CHATS,
        "shards": SHARDS,
        "lease_s": Settings.model_fields["live_lease_seconds"].default,
        "cpus": os.cpu_count(),
        "machine_speed_at_start": speed_at_start,
        "machine_speed_at_end": machine.speed(),
        "under_failure": failure,
        "capacity": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    print("\nworkers  stored/s  stored in s  machine CPU busy  offences as one worker")
    for r in runs:
        print(
            f"{r['workers']:>7}  {r['stored_per_s']:>8}  {r['stored_in_s']:>11}  "
            f"{r['machine_cpu_busy']:>16}  {r['offences_as_one_worker']}"
        )


if __name__ == "__main__":
    main()
