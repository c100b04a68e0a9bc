"""Telegram webhook under load, beside the floor of the bare web framework.

500 updates/s for 60 s (``--quick``: 10 s, ``--seconds N``) are posted over loopback, on 40
keep-alive connections as Telegram uses, to ``/hooks/telegram/<name>`` of a real ``qunzhu``
app in its own process (secret token checked, update parsed, stored through the pipeline
with moderation, value scoring and the growth reactor into SQLite, actions carried out
against a fake Bot API in a third process). ``--queue`` chooses how the webhook answers:
``redis`` (default, as ``qunzhu serve`` with QUNZHU_REDIS_URL: once queued in a Redis stream;
a live worker process stores and acts, the web process deletes ads at receipt),
``redis-one`` (the same in one process, QUNZHU_LIVE_PROCESS=false), ``commit`` (as serve
without a queue: once committed), ``spool`` (once queued in a spool file, stored by a
consumer thread).
One update in ten is an ad (it must be deleted exactly once); one post in a hundred is a
redelivery of an earlier update (it must change nothing).

Reported: lost updates (unique updates answered 200 but not stored), duplicates (stored
more than once, or an ad deleted more than once), ads never deleted, HTTP latency, and the
time from sending an ad to the fake Bot API receiving its ``deleteMessage`` (p50/p99; the
target is p99 ≤ 20 ms). The floor: a bare Starlette app answering the same posts with 200
without any processing, under the same load, in its own process.

`python bench/bench_webhooks.py --out bench/results/webhooks.json [--quick | --seconds N]
[--queue redis|redis-one|commit|spool]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine

TOKEN = "123456:BENCH-token"
SECRET = "bench-secret-token"
CHAT = -1001234567890
RATE = 500
CONNECTIONS = 40
TARGET_P99_MS = 20.0
SPEC = """\
name: bench
purpose: load test
rules:
  contact_solicitation: {action: delete_warn, severity: 2}
  classifier: {action: allow, threshold_flag: 1.0, threshold_act: 1.0}
"""


# --- the processes under test ---------------------------------------------------------------


def _serve(app: Any, port_file: str) -> None:
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    Path(port_file).write_text(str(port))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.should_exit = True
    thread.join(10)


def role_floor(port_file: str) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hook(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"ok": True})

    _serve(Starlette(routes=[Route("/hooks/telegram/{name}", hook, methods=["POST"])]), port_file)


def role_server(db: str, api_base: str, queue: str, port_file: str) -> None:
    from qunzhu.adapters.manage import save_connector
    from qunzhu.http.app import create_app, served
    from qunzhu.live.hub import ConnectorHub
    from qunzhu.live.process import (
        LiveProcess,
        freeze_startup_heap,
        wants_live_process,
    )
    from qunzhu.settings import load_settings
    from qunzhu.store.models import Community
    from qunzhu.store.session import Store

    where: dict[str, Any] = {}
    if queue == "spool":
        where["live_spool"] = str(Path(port_file).with_name("live-spool.db"))
    elif queue.startswith("redis"):
        kind, where["redis_url"] = queue.split(" ", 1)
        where["live_process"] = kind == "redis"  # redis-one: one process, as before
    settings = load_settings(
        database_url=db, secret_key="b" * 40, sample_data=False, log_level="WARNING", **where
    )
    store = Store(settings)
    with store.unit_of_work() as session:
        session.add(Community(slug="bench", name="bench", spec_yaml=SPEC))
    save_connector(
        store,
        community="bench",
        platform="telegram",
        name="tgbench",
        config={"mode": "webhook", "api_base": api_base},
        credentials={"token": TOKEN, "webhook_secret": SECRET},
    )
    # as `qunzhu serve` does it: with Redis, a live worker process stores and acts
    split = wants_live_process(settings)
    hub = ConnectorHub.load(store, role="web" if split else "all")
    app = create_app(settings, store, webhooks=hub.routes())
    app.state.connector_hub = hub
    live = LiveProcess(settings) if split else None
    hub.start()
    if live is not None:
        live.start()
    freeze_startup_heap()
    try:
        _serve(served(app), port_file)
    finally:
        if live is not None:
            live.stop()
        hub.stop()
        store.dispose()


def _spawn(args: list[str], tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    port_file = tmp / f"port-{args[0]}"
    port_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--role", *args, "--port-file", str(port_file)]
    )
    deadline = time.monotonic() + 120
    while not port_file.exists() or not port_file.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the {args[0]} process did not start")
        time.sleep(0.05)
    return proc, int(port_file.read_text())


def _count(db_path: Path, table: str) -> int:
    try:
        with sqlite3.connect(db_path, timeout=1) as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:  # busy: ask again later
        return 0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- the fake Bot API (records when each deleteMessage arrives) -------------------------------


def role_botapi(record: str, port_file: str) -> None:
    """The fake Bot API in a process of its own (as the real one is on another machine):
    the load generator's event loop must not delay its answers. Writes when each
    deleteMessage arrived to ``record`` when stopped."""
    fake = FakeBotApi()
    try:
        _serve(fake.app, port_file)
    finally:
        Path(record).write_text(json.dumps({"deletes": fake.deletes, "calls": fake.calls}))


class FakeBotApi:
    def __init__(self) -> None:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        self.deletes: dict[int, list[float]] = {}
        self.calls = 0

        async def endpoint(request: Request) -> JSONResponse:
            arrived = time.time()
            params = await request.json()
            self.calls += 1
            if request.path_params["method"] == "deleteMessage":
                self.deletes.setdefault(int(params["message_id"]), []).append(arrived)
            if request.path_params["method"] == "sendMessage":
                return JSONResponse(
                    {"ok": True, "result": {"message_id": 1, "date": 0, "chat": {"id": CHAT}}}
                )
            return JSONResponse({"ok": True, "result": True})

        self.app = Starlette(routes=[Route("/bot{token}/{method}", endpoint, methods=["POST"])])


# --- the load: open loop at a fixed rate, raw HTTP/1.1 on keep-alive connections -------------


def make_posts(count: int) -> tuple[list[bytes], dict[int, int], set[int]]:
    """Bodies to post; which post carries which update id; which update ids are ads."""
    now = int(time.time())
    bodies: list[bytes] = []
    carries: dict[int, int] = {}
    ads: set[int] = set()
    unique: list[bytes] = []
    for i in range(count):
        if i % 100 == 99 and len(unique) > 50:  # a redelivery of an earlier update
            n = len(unique) - 50
            bodies.append(unique[n - 1])
            carries[i] = n
            continue
        n = len(unique) + 1
        ad = n % 10 == 3
        text = f"加 薇 信 qz{n:06d} 了解赚钱项目" if ad else f"今天读到第 {n} 页，做了笔记"
        update = {
            "update_id": n,
            "message": {
                "message_id": n,
                "date": now,
                "text": text,
                "from": {"id": 10_000 + n % 5000, "is_bot": False, "first_name": f"u{n % 5000}"},
                "chat": {"id": CHAT, "type": "supergroup", "title": "bench"},
            },
        }
        if ad:
            ads.add(n)
        unique.append(json.dumps(update).encode())
        bodies.append(unique[-1])
        carries[i] = n
    return bodies, carries, ads


async def run_load(port: int, bodies: list[bytes], rate: int) -> list[tuple[float, float, int]]:
    """(sent, answered, status) per post, in post order."""
    out: list[tuple[float, float, int]] = [(0.0, 0.0, 0)] * len(bodies)
    queue: asyncio.Queue[int | None] = asyncio.Queue()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (i := await queue.get()) is not None:
            body = bodies[i]
            head = (
                f"POST /hooks/telegram/tgbench HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n\r\n"
            ).encode()
            sent = time.time()
            writer.write(head + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            out[i] = (sent, time.time(), int(status_line.split()[1]))
        writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(CONNECTIONS)]
    start = time.monotonic()
    for i in range(len(bodies)):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(i)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def summary(results: list[tuple[float, float, int]], seconds: float) -> dict[str, Any]:
    ms = [(done - sent) * 1000 for sent, done, status in results if status]
    span = max(d for _, d, _ in results) - min(s for s, _, _ in results)
    return {
        "posts": len(results),
        "status_200": sum(1 for *_, s in results if s == 200),
        "http_p50_ms": pct(ms, 0.50),
        "http_p99_ms": pct(ms, 0.99),
        "http_max_ms": round(max(ms), 2),
        "achieved_per_s": round(len(results) / span, 1),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/webhooks.json"))
    parser.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--rate", type=int, default=RATE)
    parser.add_argument("--role", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--port-file", help=argparse.SUPPRESS)
    parser.add_argument(
        "--queue",
        choices=["commit", "spool", "redis", "redis-one"],
        default="redis",
        help="how the webhook answers: after the commit, or once queued durably (a spool "
        "file, or Redis at QUNZHU_TEST_REDIS_URL / redis://127.0.0.1:6379/15); with redis "
        "a live worker process stores and acts, as `qunzhu serve` does (redis-one: the "
        "same in one process, QUNZHU_LIVE_PROCESS=false)",
    )
    args = parser.parse_args()
    if args.role:
        if args.role[0] == "floor":
            role_floor(args.port_file)
        elif args.role[0] == "botapi":
            role_botapi(args.role[1], args.port_file)
        else:
            role_server(args.role[1], args.role[2], args.role[3], args.port_file)
        return

    seconds = args.seconds or (10.0 if args.quick else 60.0)
    count = int(seconds * args.rate)
    speed_at_start = machine.speed()
    bodies, carries, ads = make_posts(count)
    unique = len(set(carries.values()))
    tmp = Path(tempfile.mkdtemp(prefix="qunzhu-bench-webhooks-"))

    proc, port = _spawn(["floor"], tmp)
    try:
        floor = summary(asyncio.run(run_load(port, bodies, args.rate)), seconds)
    finally:
        _stop(proc)

    from qunzhu.store import make_engine
    from qunzhu.store.migrate import upgrade
    from qunzhu.store.models import Base

    db_path = tmp / "bench.db"
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    Base.metadata.create_all(engine)  # tables whose migration the lead generates later
    engine.dispose()

    queue = args.queue
    if queue.startswith("redis"):
        import redis

        url = os.environ.get("QUNZHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        client = redis.Redis.from_url(url)
        # nothing left from an earlier run: its queue, and its early deletes (the updates
        # of every run have the same ids, so the same keys)
        client.delete("qunzhu:live", *client.keys("qunzhu:early:qunzhu:live:*"))
        queue = f"{queue} {url}"
    record = tmp / "botapi.json"
    api_proc, api_port = _spawn(["botapi", str(record)], tmp)
    try:
        proc, port = _spawn(
            ["server", f"sqlite:///{db_path}", f"http://127.0.0.1:{api_port}", queue], tmp
        )
        try:
            results = asyncio.run(run_load(port, bodies, args.rate))
            deadline = time.monotonic() + 60  # let the last events be stored
            while time.monotonic() < deadline and _count(db_path, "messages") < unique:
                time.sleep(0.2)
            time.sleep(2.0)  # and their actions go out
        finally:
            _stop(proc)
    finally:
        _stop(api_proc)
    deletes = {int(k): v for k, v in json.loads(record.read_text())["deletes"].items()}
    live = summary(results, seconds)
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        distinct = conn.execute("SELECT COUNT(DISTINCT key) FROM messages").fetchone()[0]
        quarantined = conn.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]
    first_sent: dict[int, float] = {}
    for i, (sent, _done, status) in enumerate(results):
        if status == 200:
            first_sent.setdefault(carries[i], sent)
    answered = set(first_sent)
    to_action = [
        (deletes[n][0] - first_sent[n]) * 1000 for n in ads if n in deletes and n in first_sent
    ]
    live.update(
        {
            "answered_when": "committed" if args.queue == "commit" else f"queued ({args.queue})",
            "quarantined": quarantined,
            "unique_updates": unique,
            "redeliveries": count - unique,
            "answered_unique": len(answered),
            "stored": stored,
            "lost": len(answered) - stored,
            "duplicates": stored - distinct,
            "ads": len(ads),
            "ads_deleted": len(ads & set(deletes)),
            "ads_not_deleted": len(ads - set(deletes)),
            "ads_deleted_twice": sum(1 for n in ads if len(deletes.get(n, [])) > 1),
            "receipt_to_action_p50_ms": pct(to_action, 0.50),
            "receipt_to_action_p99_ms": pct(to_action, 0.99),
            "target_receipt_to_action_p99_ms": TARGET_P99_MS,
        }
    )
    report = {
        "benchmark": "webhooks",
        "rate_per_s": args.rate,
        "seconds": seconds,
        "connections": CONNECTIONS,
        "cpus": os.cpu_count(),
        "machine_speed_at_start": speed_at_start,
        "machine_speed_at_end": machine.speed(),
        "webhook": live,
        "floor_bare_framework": floor,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
