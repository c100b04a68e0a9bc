"""A Discord server under load: the gateway bot end to end.

The fake Discord of the tests (tests/live/connector_fakes/discord.py: the gateway and the
REST routes, in this process) sends 500 MESSAGE_CREATE dispatches a second for 60 s
(``--quick``: 10 s, ``--seconds N``) to ``qunzhu`` run as ``qunzhu serve`` runs it with
Redis (``--queue redis``, the default; Redis at QUNZHU_TEST_REDIS_URL or
redis://127.0.0.1:6379/15): a web process (the app on a port, the hub's web role) holding
the gateway (discord.py's client: identify, heartbeats), which deletes ads at receipt and
queues every update, and a live worker process (``qunzhu worker``) storing them through the
pipeline (moderation, value, growth) into SQLite and carrying out the rest over REST.
``--queue redis-one``: one process with the Redis queue (QUNZHU_LIVE_PROCESS=false);
``--queue commit``: one process committing each batch itself (no Redis). One message in
ten is an ad from a new sender: its delete goes out at receipt (moderation.early). Every
20 s the gateway socket is dropped: the bot resumes and the fake replays what it sent
meanwhile, which must change nothing.

Reported: lost messages (sent but not stored), duplicates, ads never deleted or deleted
twice, receipt → action (from the fake sending an ad's dispatch to the fake receiving its
DELETE; p50/p99, target p99 ≤ 20 ms), and beside it the floor: the same dispatches to a
bare discord.py client that does nothing with them (dispatch → its raw-receive hook).

``--stages`` adds where each ad's time went, stage by stage (bench/stages.py: stamps in
the process holding the gateway, on the machine's monotonic clock, as the fake's).

`python bench/bench_discord.py --out bench/results/discord.json [--quick | --seconds N]
[--queue redis|redis-one|commit] [--stages]`
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
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "live"))

import machine  # noqa: E402
from connector_fakes import discord as dc  # noqa: E402
from connector_fakes.liveserver import LiveServer  # noqa: E402
from hub_process import fresh_store, run_hub  # noqa: E402

RATE = 500
TARGET_P99_MS = 20.0
DROP_EVERY_S = 20.0
SPEC = """\
name: bench
purpose: load test
rules:
  contact_solicitation: {action: delete_warn, severity: 2}
  classifier: {action: allow, threshold_flag: 1.0, threshold_act: 1.0}
"""


def role_server(
    db: str, api_base: str, gateway: str, token: str, redis_url: str, split: bool
) -> None:
    """The qunzhu side, as `qunzhu serve` runs a connector: with Redis, a web process
    holding the gateway and a live worker process (``split``), or one process."""
    stages_to = os.environ.get("BENCH_STAGES")
    if stages_to:
        import stages

        stages.install()
    if os.environ.get("BENCH_PROFILE"):
        import stages

        stages.profile_gateway(os.environ["BENCH_PROFILE"])
    run_hub(
        db,
        redis_url,
        SPEC,
        platform="discord",
        name="dcbench",
        config={"api_base": api_base, "gateway": gateway},
        credentials={"token": token},
        split=split,
    )
    if stages_to:
        stages.dump(stages_to)


def _author(n: int, ad: bool) -> dict[str, Any]:
    uid = str(810_000_000_000_000_000 + (n if ad else n % 997))
    return dc.user(uid, f"ad{n}" if ad else f"m{n % 997}")


def _count(db_path: Path, sql: str) -> int:
    try:
        with sqlite3.connect(db_path, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def load(fake: dc.FakeDiscord, count: int, rate: int) -> tuple[dict[int, float], set[int]]:
    """Dispatch ``count`` messages at ``rate`` a second; when each was sent, which are ads."""
    sent: dict[int, float] = {}
    ads: set[int] = set()
    started = time.monotonic()
    next_drop = started + DROP_EVERY_S
    for n in range(count):
        due = started + n / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if time.monotonic() >= next_drop:
            fake.drop()
            next_drop += DROP_EVERY_S
        ad = n % 10 == 3
        text = f"加 薇 信 abc_{n:06d} 了解赚钱项目" if ad else f"今天读了第 {n % 40} 章，{n}"
        channel = dc.GENERAL if n % 2 else dc.HELP
        sent[n] = time.monotonic()
        fake.message(1_000_000 + n, _author(n, ad), text, channel=channel)
        if ad:
            ads.add(n)
    return sent, ads


def floor(count: int, rate: int) -> dict[str, Any]:
    """The same dispatches to a bare discord.py client: dispatch → raw receive."""
    import discord

    from qunzhu.adapters.discord.api import use_base

    fake = dc.FakeDiscord()
    got: dict[int, float] = {}
    with LiveServer(fake.app) as server:
        fake.url = server.url
        use_base(fake.api_base, fake.gateway)
        loop = asyncio.new_event_loop()
        client = discord.Client(
            intents=discord.Intents.none(), enable_debug_events=True, max_messages=None
        )

        async def on_socket_raw_receive(raw: str) -> None:
            if '"MESSAGE_CREATE"' in raw:
                got[int(json.loads(raw)["d"]["id"]) - 1_000_000] = time.monotonic()

        client.event(on_socket_raw_receive)
        runner = threading.Thread(
            target=lambda: loop.run_until_complete(client.start(fake.token)), daemon=True
        )
        runner.start()
        fake.wait_connected()
        sent: dict[int, float] = {}
        started = time.monotonic()
        for n in range(count):
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent[n] = time.monotonic()
            fake.message(1_000_000 + n, _author(n, False), f"floor {n}")
        time.sleep(1.0)
        # not waited for: the figure is taken, and the daemon thread ends with the process
        asyncio.run_coroutine_threadsafe(client.close(), loop)
        time.sleep(0.5)
    lags = [(got[n] - sent[n]) * 1000 for n in sent if n in got]
    return {
        "dispatches": count,
        "received": len(got),
        "dispatch_to_receive_p50_ms": pct(lags, 0.5),
        "dispatch_to_receive_p99_ms": pct(lags, 0.99),
    }


def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    count = int(seconds * args.rate)
    db_path = tmp / "bench.db"
    redis_url = ""
    if args.queue in ("redis", "redis-one"):
        import redis

        redis_url = os.environ.get("QUNZHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        client = redis.Redis.from_url(redis_url)
        # the last run's shards, leases, workers and claims: this run starts clean
        stale = client.keys("qunzhu:live*") + client.keys("qunzhu:early:qunzhu:live:*")
        if stale:
            client.delete(*stale)
    fake = dc.FakeDiscord()
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    stages_file = tmp / "stages.json"
    if args.stages:
        env["BENCH_STAGES"] = str(stages_file)
    with LiveServer(fake.app) as server:
        fake.url = server.url
        proc = subprocess.Popen(
            [sys.executable, __file__, "server", f"sqlite:///{db_path}", fake.api_base,
             fake.gateway, fake.token, redis_url, args.queue],
            env=env,
        )  # fmt: skip
        try:
            fake.wait_connected(timeout=60)
            time.sleep(1.0)  # the guild's invites read, the home channel known
            sent, ads = load(fake, count, args.rate)
            load_done = time.monotonic()
            deadline = load_done + 120
            while time.monotonic() < deadline:
                if _count(db_path, "SELECT COUNT(*) FROM messages") >= count:
                    break
                time.sleep(0.2)
            drained_s = round(time.monotonic() - load_done, 2)
            time.sleep(2.0)  # the last deletes go out
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        deleted: dict[int, list[float]] = {}
        for (method, path, _), at in zip(fake.calls, fake.called_at, strict=True):
            if method == "DELETE" and "/messages/" in path:
                deleted.setdefault(int(path.rsplit("/", 1)[1]) - 1_000_000, []).append(at)
    to_action = [(deleted[n][0] - sent[n]) * 1000 for n in ads if n in deleted]
    by_stage = None
    if args.stages and stages_file.exists():
        import stages

        by_stage = stages.report(
            stages_file,
            {str(1_000_000 + n): sent[n] for n in ads},
            {str(1_000_000 + n): deleted[n][0] for n in ads if n in deleted},
        )
        cpu_file = stages_file.with_suffix(".cpu.json")
        if cpu_file.exists():
            by_stage["cpu_of_the_process_holding_the_gateway"] = json.loads(cpu_file.read_text())
    stored = _count(db_path, "SELECT COUNT(*) FROM messages")
    distinct = _count(db_path, "SELECT COUNT(DISTINCT key) FROM messages")
    return {
        "seconds": seconds,
        "rate": args.rate,
        "queue": args.queue,
        "dispatched": count,
        "resumes": fake.resumed,
        "replayed_on_resume": "every dispatch after the bot's last sequence",
        "stored": stored,
        "lost": count - stored,
        "duplicates": stored - distinct,
        "stored_all_within_s_after_load": drained_s,
        "ads": len(ads),
        "ads_deleted": len(ads & set(deleted)),
        "ads_never_deleted": len(ads - set(deleted)),
        "ads_deleted_twice": sum(1 for n in ads if len(deleted.get(n, [])) > 1),
        "receipt_to_action_p50_ms": pct(to_action, 0.50),
        "receipt_to_action_p99_ms": pct(to_action, 0.99),
        "target_p99_ms": TARGET_P99_MS,
        **({"stages": by_stage} if by_stage is not None else {}),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "server":
        role_server(*sys.argv[2:7], split=sys.argv[7] == "redis")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--rate", type=int, default=RATE)
    parser.add_argument(
        "--queue",
        choices=("redis", "redis-one", "commit"),
        default="redis",
        help="redis: as serve runs with Redis (web process with the gateway + live worker); "
        "redis-one: one process with the Redis queue; commit: one process, no queue",
    )
    parser.add_argument(
        "--stages", action="store_true", help="stamp each ad's way through the hub (stages.py)"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the floor (a quick look)")
    args = parser.parse_args()
    tmp = fresh_store("discord")
    result: dict[str, Any] = {
        "machine_at_start": machine.speed(),
        "load_average_1_5_15_at_start": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
    }
    result.update(measure(args, tmp))
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    if not args.no_floor:
        result["floor_bare_discord_py"] = floor(int(min(seconds, 10.0) * args.rate), args.rate)
    result["machine_at_end"] = machine.speed()
    result["load_average_1_5_15_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
