"""A WeChat group through a OneBot 12 bridge under load: the forward WebSocket.

A fake bridge (this process: a WebSocket server as ComWeChatBotClient runs one) reports 500
group messages a second for 60 s (``--quick``: 10 s, ``--seconds N``) over 200 groups to a
real ``qunzhu`` hub in its own process, which connected to it as ``qunzhu serve`` does
(access token, forward WebSocket), stores them through the pipeline (moderation, value,
growth) into SQLite, through the Redis queue when ``--queue redis-one`` (default; Redis at
QUNZHU_TEST_REDIS_URL or redis://127.0.0.1:6379/15) or committing each before reading the
next (``--queue commit``), and carries out the decisions on the same socket.
One message in ten is an ad from a sender seen once: WeChat cannot recall it, so the action
is the warning (``send_message`` with a mention of the sender). One message in a hundred is
reported again (a bridge's redelivery): it must change nothing.

Reported: lost messages (reported but not stored), duplicates, ads never warned or warned
twice, and receipt → action: from the bridge sending an ad to the bridge receiving its
warning (p50/p99; target p99 ≤ 20 ms). The account's send pacing (minimum gap, jitter, daily
cap: docs/connectors.md) is switched off for this figure, since it delays each warning by
design; what it adds is reported apart, from the connector's defaults.

`python bench/bench_onebot12.py --out bench/results/onebot12.json [--quick | --seconds N]
[--queue redis-one|commit]`
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
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import machine
from hub_process import fresh_store, run_hub

TOKEN = "bench-bridge-token"
RATE = 500
GROUPS = 200
TARGET_P99_MS = 20.0
SPEC = """\
name: bench
purpose: load test
rules:
  contact_solicitation: {action: delete_warn, severity: 2}
  classifier: {action: allow, threshold_flag: 1.0, threshold_act: 1.0}
"""
# pacing off for the receipt → action figure (see the module docstring)
UNPACED = {"send_per_second": 1000, "send_per_chat_per_minute": 600, "send_min_gap": 0,
           "send_jitter": 0, "send_daily_cap": 0}  # fmt: skip


def role_server(db: str, ws_url: str, redis_url: str) -> None:
    """The qunzhu side, as `qunzhu serve` runs a connector (one process)."""
    run_hub(
        db,
        redis_url,
        SPEC,
        platform="wechat",
        name="wxbench",
        config={"protocol": "onebot12", "ws_url": ws_url, **UNPACED},
        credentials={"access_token": TOKEN},
    )


def role_reverse(db: str, redis_url: str, port_file: str) -> None:
    """As `qunzhu serve` with Redis: the web process holds the bridge's reverse WebSocket
    and queues its events, a live worker process stores them and acts through the socket
    the web process holds."""
    from bench_webhooks import _serve

    from qunzhu.adapters.manage import save_connector
    from qunzhu.http.app import create_app, served
    from qunzhu.live.hub import ConnectorHub
    from qunzhu.live.process import LiveProcess, freeze_startup_heap
    from qunzhu.settings import load_settings
    from qunzhu.store.models import Community
    from qunzhu.store.session import Store

    settings = load_settings(
        database_url=db, secret_key="b" * 40, sample_data=False, log_level="WARNING",
        redis_url=redis_url, live_process=True,
    )  # fmt: skip
    store = Store(settings)
    with store.unit_of_work() as session:
        session.add(Community(slug="bench", name="bench", spec_yaml=SPEC))
    save_connector(
        store,
        community="bench",
        platform="wechat",
        name="wxbench",
        config={"protocol": "onebot12", **UNPACED},
        credentials={"access_token": TOKEN},
    )
    hub = ConnectorHub.load(store, role="web")
    app = create_app(settings, store, webhooks=hub.routes())
    app.state.connector_hub = hub
    live = LiveProcess(settings)
    hub.start()
    live.start()
    freeze_startup_heap()
    try:
        _serve(served(app), port_file)
    finally:
        live.stop()
        hub.stop()
        store.dispose()


FLOOR = 10_000_000
"""Ads of the unloaded floor are numbered from here (the load's from 0)."""


def floor_events(count: int) -> tuple[list[str], set[int]]:
    """Ads sent one at a time before the load, in the same run: receipt → warning with
    nothing else going on (the floor the loaded figure is read against)."""
    frames: list[str] = []
    for k in range(count):
        n = FLOOR + k
        text = f"加 薇 信 fl_{k:06d} 了解赚钱项目"
        event = {
            "id": f"ev-{n}", "impl": "ComWeChat",
            "self": {"platform": "wechat", "user_id": "wxid_operator01"},
            "time": time.time() - 120 + k, "type": "message", "detail_type": "group",
            "sub_type": "", "message_id": str(100_000 + n),
            "message": [{"type": "text", "data": {"text": text}}], "alt_message": text,
            "group_id": f"{10_000_000 + k % GROUPS}@chatroom", "user_id": f"wxid_ad{n}",
        }  # fmt: skip
        frames.append(json.dumps(event, ensure_ascii=False))
    return frames, set(range(FLOOR, FLOOR + count))


async def run_floor(bridge: Bridge, frames: list[str], ads: set[int]) -> list[float]:
    """One ad every 100 ms, each after the last one's warning came (or 1 s): ms each."""
    took: list[float] = []
    for n, frame in zip(sorted(ads), frames, strict=True):
        at = time.monotonic()
        await bridge.client.send(frame)
        until = at + 1.0
        while n not in bridge.warned and time.monotonic() < until:
            await asyncio.sleep(0.0005)
        if n in bridge.warned:
            took.append((bridge.warned[n][0] - at) * 1000)
        await asyncio.sleep(0.1)
    return took


def make_events(count: int) -> tuple[list[str], dict[int, int], set[int]]:
    """JSON frames, the unique message each carries, and which messages are ads."""
    start = time.time() - 60
    frames: list[str] = []
    carries: dict[int, int] = {}
    ads: set[int] = set()
    made: list[str] = []
    for i in range(count):
        if i % 100 == 99 and made:  # a redelivery of a message reported a moment ago
            n = len(made) - 50 if len(made) > 50 else 0
            frames.append(made[n])
            carries[i] = n
            continue
        n = len(made)
        ad = n % 10 == 3
        user = f"wxid_ad{n}" if ad else f"wxid_m{n % 997}"
        text = f"加 薇 信 abc_{n:06d} 了解赚钱项目" if ad else f"今天读了第 {n % 40} 章，{n}"
        event = {
            "id": f"ev-{n}",
            "impl": "ComWeChat",
            "self": {"platform": "wechat", "user_id": "wxid_operator01"},
            "time": start + n / RATE,
            "type": "message",
            "detail_type": "group",
            "sub_type": "",
            "message_id": str(100_000 + n),
            "message": [{"type": "text", "data": {"text": text}}],
            "alt_message": text,
            "group_id": f"{10_000_000 + n % GROUPS}@chatroom",
            "user_id": user,
        }
        made.append(json.dumps(event, ensure_ascii=False))
        frames.append(made[n])
        carries[i] = n
        if ad:
            ads.add(n)
    return frames, carries, ads


class Bridge:
    """The fake bridge's WebSocket server: checks the token, answers actions by echo."""

    def __init__(self) -> None:
        self.client: Any = None
        self.task: Any = None  # the reverse client, when the bridge connects
        self.warned: dict[int, list[float]] = {}  # ad number → when each warning arrived

    def check(self, connection: Any, request: Any) -> Any:
        from http import HTTPStatus

        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return connection.respond(HTTPStatus.UNAUTHORIZED, "unauthorized\n")
        return None

    async def serve(self, ws: Any) -> None:
        self.client = ws
        async for raw in ws:
            call = json.loads(raw)
            now = time.monotonic()
            if call.get("action") == "send_message":
                for seg in call["params"].get("message", []):
                    user = str(seg.get("data", {}).get("user_id", ""))
                    if seg.get("type") == "mention" and user.startswith("wxid_ad"):
                        self.warned.setdefault(int(user[7:]), []).append(now)
            answer = {"status": "ok", "retcode": 0, "message": "", "echo": call.get("echo")}
            answer["data"] = {"message_id": f"s{now}", "time": time.time()}
            await ws.send(json.dumps(answer))

    async def reverse(self, port: int) -> None:
        """The bridge's reverse WebSocket client (offers `12.<impl>`, as the spec says)."""
        from websockets.asyncio.client import connect

        url = f"ws://127.0.0.1:{port}/hooks/onebot/wxbench/ws"
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with connect(url, additional_headers=headers, subprotocols=["12.ComWeChat"]) as ws:  # type: ignore[list-item]
            await self.serve(ws)


async def run_load(bridge: Bridge, frames: list[str], rate: int) -> tuple[list[float], list[float]]:
    """Send every frame at ``rate`` a second; when each was sent (monotonic), and how late
    against its due time (ms: this process's own lag, the machine's noise)."""
    sent: list[float] = []
    late: list[float] = []
    started = time.monotonic()
    for i, frame in enumerate(frames):
        due = started + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.monotonic()
        sent.append(now)
        late.append((now - due) * 1000)
        await bridge.client.send(frame)
    return sent, late


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _cpu(pid: int) -> dict[str, float]:
    """CPU seconds of the qunzhu process (the web process with --transport reverse) and of
    its children (the live worker), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {"qunzhu": 0.0, "children": 0.0}
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for name, p in [("qunzhu", pid), *[("children", int(c)) for c in children]]:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            out[name] += (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError, IndexError):
        pass
    return out


def _count(db_path: Path) -> int:
    try:
        with sqlite3.connect(db_path, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


async def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from websockets.asyncio.server import serve

    seconds = args.seconds or (10.0 if args.quick else 60.0)
    frames, carries, ads = make_events(int(seconds * args.rate))
    unique = len(set(carries.values()))
    bridge = Bridge()
    server = await serve(bridge.serve, "127.0.0.1", 0, process_request=bridge.check)
    port = next(iter(server.sockets)).getsockname()[1]
    db_path = tmp / "bench.db"
    redis_url = ""
    if args.queue == "redis-one" or args.transport == "reverse":
        import redis

        redis_url = os.environ.get("QUNZHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
        client = redis.Redis.from_url(redis_url)
        # the queue and its shards, early claims and moderation windows of earlier runs:
        # what a stopped run left queued would be stored (and counted) by this one
        stale = [k for p in ("qunzhu:live*", "qunzhu:early:*", "qunzhu:moderation:*")
                 for k in client.keys(p)]  # fmt: skip
        if stale:
            client.delete(*stale)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    if args.transport == "forward":
        proc = subprocess.Popen(
            [sys.executable, __file__, "server", f"sqlite:///{db_path}",
             f"ws://127.0.0.1:{port}/", redis_url],
            env=env,
        )  # fmt: skip
    else:
        port_file = tmp / "port"
        proc = subprocess.Popen(
            [sys.executable, __file__, "reverse", f"sqlite:///{db_path}", redis_url,
             str(port_file)],
            env=env,
        )  # fmt: skip
    try:
        if args.transport == "reverse":
            while not port_file.exists() or not port_file.read_text():
                if proc.poll() is not None:
                    raise RuntimeError("the qunzhu server did not start")
                await asyncio.sleep(0.05)
            bridge.task = asyncio.create_task(bridge.reverse(int(port_file.read_text())))
        deadline = time.monotonic() + 60
        while bridge.client is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if bridge.client is None:
            raise RuntimeError("qunzhu and the bridge did not connect")
        floor_frames, floor_ads = floor_events(args.floor)
        await asyncio.sleep(2.0)  # the connection settled, the specs read
        floor_ms = await run_floor(bridge, floor_frames, floor_ads)
        await asyncio.sleep(1.0)
        cpu_at = _cpu(proc.pid)
        sent, late = await run_load(bridge, frames, args.rate)
        load_done = time.monotonic()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _count(db_path) < unique + len(floor_ads):
            await asyncio.sleep(0.2)
        drained_s = round(time.monotonic() - load_done, 2)
        await asyncio.sleep(2.0)  # and the last warnings go out
        cpu_end = _cpu(proc.pid)
        cpu_s = {k: round(cpu_end[k] - cpu_at[k], 1) for k in cpu_end}
        cpu_s["load_s"] = round(time.monotonic() - sent[0], 1) if sent else 0.0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        server.close()
    first: dict[int, float] = {}
    for i, at in enumerate(sent):
        first.setdefault(carries[i], at)
    to_action = [(bridge.warned[n][0] - first[n]) * 1000 for n in ads if n in bridge.warned]
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] - len(floor_ads)
        distinct = conn.execute("SELECT COUNT(DISTINCT key) FROM messages").fetchone()[0] - len(
            floor_ads
        )
        decided = dict(
            conn.execute(
                "SELECT COALESCE(outcome, '(none)'), COUNT(*) FROM moderation_actions "
                "GROUP BY outcome"
            ).fetchall()
        )
    from qunzhu.adapters.send_limits import DEFAULTS

    paced = DEFAULTS["wechat"]
    return {
        "seconds": seconds,
        "rate": args.rate,
        "queue": args.queue if args.transport == "forward" else "redis (web + live worker)",
        "transport": args.transport,
        "groups": GROUPS,
        "frames_sent": len(frames),
        "achieved_rate": round(len(frames) / (sent[-1] - sent[0]), 1) if len(sent) > 1 else 0,
        "unique_messages": unique,
        "redeliveries": len(frames) - unique,
        "stored": stored,
        "lost": unique - stored,
        "duplicates": stored - distinct,
        "stored_all_within_s_after_load": drained_s,
        "ads": len(ads),
        "ads_warned": len(ads & set(bridge.warned)),
        "ads_never_warned": len(ads - set(bridge.warned)),
        "ads_never_warned_first": sorted(ads - set(bridge.warned))[:10],
        "ads_warned_twice": sum(1 for n in ads if len(bridge.warned.get(n, [])) > 1),
        "ads_warned_twice_floor": sum(1 for n in floor_ads if len(bridge.warned.get(n, [])) > 1),
        "action_measured": "the warning (send_message with a mention of the sender) arriving "
        "at the fake bridge; the alert is a row the batch writes",
        "receipt_to_action_p50_ms": pct(to_action, 0.50),
        "receipt_to_action_p90_ms": pct(to_action, 0.90),
        "receipt_to_action_p99_ms": pct(to_action, 0.99),
        "receipt_to_action_max_ms": pct(to_action, 1.0),
        "target_p99_ms": TARGET_P99_MS,
        "floor_unloaded_same_run": {
            "ads": len(floor_ads),
            "warned": len(floor_ms),
            "p50_ms": pct(floor_ms, 0.50),
            "p99_ms": pct(floor_ms, 0.99),
        },
        "load_generator_late_p50_ms": pct(late, 0.50),
        "load_generator_late_p99_ms": pct(late, 0.99),
        "cpu_s_from_load_start": cpu_s,
        "decision_outcomes": decided,
        "pacing_excluded": UNPACED,
        "pacing_by_default": {
            "min_gap_s": paced.min_gap,
            "jitter_s": paced.jitter,
            "daily_cap": paced.daily_cap,
            "adds_per_message_s": f"{paced.min_gap}–{paced.min_gap + paced.jitter}",
            "computed": "an ad on an idle account: + uniform(0, jitter) s before its warning "
            f"(mean {paced.jitter / 2:.1f} s); ads in a row: one warning per min_gap + "
            f"jitter/2 ≈ {paced.min_gap + paced.jitter / 2:.1f} s on the account, so the k-th "
            f"waits ≈ k × {paced.min_gap + paced.jitter / 2:.1f} s; past {paced.daily_cap} a "
            "day, no warning is sent (an alert says so)",
        },
        "uptime": os.getloadavg(),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "server":
        role_server(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
        return
    if len(sys.argv) > 1 and sys.argv[1] == "reverse":
        role_reverse(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--rate", type=int, default=RATE)
    parser.add_argument("--queue", choices=("redis-one", "commit"), default="redis-one")
    parser.add_argument("--floor", type=int, default=50, help="ads of the unloaded floor")
    parser.add_argument(
        "--transport",
        choices=("forward", "reverse"),
        default="reverse",
        help="reverse: the bridge connects to qunzhu's web process, a live worker process "
        "stores (Redis); forward: qunzhu's one process connects to the bridge",
    )
    args = parser.parse_args()
    tmp = fresh_store("onebot12")
    result = {"machine_at_start": machine.speed()}
    result.update(asyncio.run(measure(args, tmp)))
    result["machine_at_end"] = machine.speed()
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
