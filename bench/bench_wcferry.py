"""The WeChatFerry connector under load: a fake WeChatFerry server pushes group messages over
its nng Pair1 message socket at a steady rate (500/s for 60 s; ``--quick``: 10 s) into a
``ConnectorHub`` as ``qunzhu serve`` runs it (SQLite, moderation, scoring): without Redis,
with ``--redis`` in one process, with ``--split`` as a web process holding the connection
and a live worker process storing.

Messages are spread over ``--rooms`` groups (100), as one account in many groups; the
account's send pacing (minimum gap, jitter, daily cap: docs/connectors.md) is switched off,
since it delays each warning by design: what it adds is reported apart, computed from the
connector's defaults. One message in ten is an ad from a new sender (WeChat cannot delete
it: the action is a warning @ the sender, judged at receipt by moderation.early_warn on
the connection's event loop and sent from there over the same connection, and an alert);
one in a hundred is a message sent again with its id (it must change nothing).
qunzhu runs in a process of its own (as ``qunzhu serve``), the fake and the load in this one.

Before the load, in the same run, ``--floor`` ads are sent one at a time (each after the
last one's warning): receipt → warning unloaded, the floor the loaded figure is read against.

Reported: lost (sent but not stored), duplicates, ads warned never or twice, receipt →
warning (the action measured: the warning reaching the fake WeChatFerry; p50/p99, target
p99 ≤ 20 ms), receipt → alert (a row the batch writes, after it stored the message).

`python bench/bench_wcferry.py --out bench/results/wcferry.json [--quick | --seconds N]
[--redis URL [--split]]`
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "live"))

import machine  # noqa: E402
from connector_fakes import wcferry as wf  # noqa: E402
from hub_process import fresh_store  # noqa: E402

RATE = 500
MEMBERS = 2000
FLOOR = 5_000_000  # floor ads are numbered from here (the load's from 0)
# pacing off for the receipt → action figure (see the module docstring)
UNPACED = {"send_per_second": 1000, "send_per_chat_per_minute": 600, "send_min_gap": 0,
           "send_jitter": 0, "send_daily_cap": 0}  # fmt: skip
TARGET_P99_MS = 20.0
SPEC = """\
name: bench
purpose: load test
rules:
  contact_solicitation: {action: delete_warn, severity: 2}
  classifier: {action: allow, threshold_flag: 1.0, threshold_act: 1.0}
"""
AD = "加 薇 信 abc_{n:06d} 了解赚钱项目"  # a WeChat id is 6 to 20 characters
WORDS = ["复利", "护城河", "安全边际", "能力圈", "逆向思考", "机会成本", "心理账户", "均值回归",
         "幸存者偏差", "第一性原理", "边际效用", "沉没成本"]  # fmt: skip


def chat(n: int) -> str:
    """A member's line, different enough from the others not to look like a copy."""
    a, b, c = WORDS[n % 12], WORDS[(n // 12) % 12], WORDS[(n // 144) % 12]
    return f"读到{a}这一节，想到{b}和{c}的关系，第{n}次讨论时有人问过"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "hub":
        role_hub(sys.argv[2], sys.argv[3], sys.argv[4], split=sys.argv[5:] == ["split"])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/wcferry.json"))
    parser.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--rate", type=int, default=RATE)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--floor", type=int, default=50, help="ads of the unloaded floor")
    parser.add_argument(
        "--redis",
        default="",
        help="a Redis URL: messages are answered once queued there and stored by the "
        "consumer in the same process (QUNZHU_LIVE_PROCESS=false), with early deletes",
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="with --redis: as `qunzhu serve` runs by default with Redis, a web process "
        "holding the connection (warnings at receipt) and a live worker process storing",
    )
    args = parser.parse_args()
    if args.split and not args.redis:
        parser.error("--split needs --redis")
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    count = int(seconds * args.rate)
    speed_at_start = machine.speed()

    db_path = fresh_store("wcferry") / "bench.db"
    if args.redis:
        import redis

        client = redis.Redis.from_url(args.redis)
        # the queue and its shards, early claims and moderation windows of earlier runs:
        # what a stopped run left queued would be stored (and counted) by this one
        stale = [k for p in ("qunzhu:live*", "qunzhu:early:*", "qunzhu:moderation:*")
                 for k in client.keys(p)]  # fmt: skip
        if stale:
            client.delete(*stale)
    fake = wf.FakeWcf()
    rooms = [f"2088{n:04d}@chatroom" for n in range(args.rooms)]
    for r, room in enumerate(rooms):  # each member talks in one group, now and then
        fake.rooms[room] = {f"wxid_m{k}": f"成员{k}" for k in range(r, MEMBERS, len(rooms))}
    sent_at: dict[int, float] = {}
    ads: set[int] = set()
    # the caller's PYTHONPATH after src (a profiler's sitecustomize, say)
    path = os.pathsep.join(p for p in (str(HERE.parent / "src"), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    with fake:
        # qunzhu in a process of its own, as `qunzhu serve` runs it: the fake WeChatFerry
        # (and this load) do not take the interpreter lock from it, nor it from them
        proc = subprocess.Popen(
            [sys.executable, __file__, "hub", f"sqlite:///{db_path}", args.redis,
             str(fake.port), *(["split"] if args.split else [])],
            env=env,
        )  # fmt: skip
        fake.wait_connected(timeout=60)
        time.sleep(2.0)  # the connection settled
        floor_ms = _floor(fake, rooms, args.floor)
        time.sleep(1.0)
        cpu_at = _cpu(proc.pid)
        late: list[float] = []
        started = time.monotonic()
        for n in range(count):
            due = started + n / args.rate
            while (wait := due - time.monotonic()) > 0:
                time.sleep(min(wait, 0.002))
            late.append((time.monotonic() - due) * 1000)
            msg_id = 10_000_000 + n
            if n % 10 == 5:
                ads.add(msg_id)
                sender, text = f"wxid_ad{n}", AD.format(n=n)
            else:
                sender, text = f"wxid_m{n % MEMBERS}", chat(n)
            sent_at[msg_id] = time.time()
            room = rooms[n % len(rooms)]
            fake.report(wf.wxmsg(msg_id, room, sender, text, at=int(time.time())))
            if n % 100 == 50:  # an earlier message again, with its id
                again = 10_000_000 + n - 7
                room, sender = rooms[(n - 7) % len(rooms)], f"wxid_m{(n - 7) % MEMBERS}"
                fake.report(wf.wxmsg(again, room, sender, chat(n - 7), at=int(time.time())))
        pushed_in = time.monotonic() - started
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _stored(db_path) < count + args.floor:
            time.sleep(0.2)
        all_stored = time.monotonic() - started
        time.sleep(3.0)  # the last actions
        cpu_s = _cpu(proc.pid) - cpu_at
        warned = _warnings(fake)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT platform_message_id FROM messages WHERE platform_message_id < '9' "
            "AND platform_message_id NOT LIKE '15%'"
        ).fetchall()
        alerts = conn.execute("SELECT member, created_at FROM connector_alerts").fetchall()
    stored = [int(r[0]) for r in rows]
    alert_at: dict[int, float] = {}
    for member, created in alerts:
        if member and member.startswith("wxid_ad"):
            alert_at.setdefault(10_000_000 + int(member[len("wxid_ad") :]), _ts(created))
    to_alert = [(alert_at[i] - sent_at[i]) * 1000 for i in ads if i in alert_at]
    first_warning: dict[int, float] = {}
    times_warned: dict[int, int] = {}
    for i, t in _warned_ids(warned, ads):
        first_warning.setdefault(i, t)
        times_warned[i] = times_warned.get(i, 0) + 1
    to_warning = [(t - sent_at[i]) * 1000 for i, t in first_warning.items() if i in ads]
    report = {
        "benchmark": "wcferry",
        "rate_per_s": args.rate,
        "seconds": seconds,
        "rooms": args.rooms,
        "queue": "redis, split: the web process holds the connection and warns at receipt, "
        "a live worker process stores"
        if args.split
        else "redis (one process: warned at receipt on the connection's loop)"
        if args.redis
        else "none (warned at receipt; stored by the sink's thread, commit by commit)",
        "qunzhu": "its own process (bench/hub_process.run_hub); the fake and the load in this"
        + ("; CPU counted: the web process only" if args.split else ""),
        "pushed_in_s": round(pushed_in, 2),
        "all_stored_after_s": round(all_stored, 2),
        "stored_per_s": round(count / all_stored, 1),
        "cpus": os.cpu_count(),
        "machine_speed_at_start": speed_at_start,
        "machine_speed_at_end": machine.speed(),
        "sent_unique": count,
        "redeliveries": count // 100,
        "stored": len(stored),
        "lost": count - len(set(stored)),
        "duplicates": len(stored) - len(set(stored)),
        "ads": len(ads),
        "ads_alerted": len(alert_at.keys() & ads),
        "ads_not_alerted": sorted(ads - alert_at.keys())[:10],
        "ads_warned": len(first_warning.keys() & ads),
        "ads_never_warned": len(ads - first_warning.keys()),
        "ads_warned_twice": sum(1 for i in ads if times_warned.get(i, 0) > 1),
        "action_measured": "the warning (FUNC_SEND_TXT @ the sender) reaching the fake "
        "WeChatFerry; the alert is a row the batch writes",
        "receipt_to_warning_p50_ms": pct(to_warning, 0.50),
        "receipt_to_warning_p90_ms": pct(to_warning, 0.90),
        "receipt_to_warning_p99_ms": pct(to_warning, 0.99),
        "receipt_to_warning_max_ms": pct(to_warning, 1.0),
        "target_receipt_to_action_p99_ms": TARGET_P99_MS,
        "floor_unloaded_same_run": {
            "ads": args.floor,
            "warned": len(floor_ms),
            "p50_ms": pct(floor_ms, 0.50),
            "p99_ms": pct(floor_ms, 0.99),
        },
        "receipt_to_alert_p50_ms": pct(to_alert, 0.50),
        "receipt_to_alert_p99_ms": pct(to_alert, 0.99),
        "load_generator_late_p50_ms": pct(late, 0.50),
        "load_generator_late_p99_ms": pct(late, 0.99),
        "qunzhu_cpu_s_during_load": round(cpu_s, 1),
        "pacing_excluded": UNPACED,
        "pacing_by_default": _pacing(),
        "uptime": os.getloadavg(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))


def role_hub(db: str, redis_url: str, port: str, *, split: bool = False) -> None:
    """The qunzhu side, as `qunzhu serve` runs the connector: one process, or (``split``)
    the web process and a live worker process."""
    from hub_process import run_hub

    config = {"host": "127.0.0.1", "port": int(port), **UNPACED}
    run_hub(db, redis_url, SPEC, platform="wechat", name="wxbench", config=config,
            credentials={}, split=split)  # fmt: skip


def _cpu(pid: int) -> float:
    """CPU seconds of the qunzhu process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _floor(fake: wf.FakeWcf, rooms: list[str], count: int) -> list[float]:
    """Ads one at a time, each after the last one's warning came (or 1 s): ms each."""
    took: list[float] = []
    for k in range(count):
        n = FLOOR + k
        seen = len(fake.calls)
        at = time.time()
        text = AD.format(n=n)
        fake.report(wf.wxmsg(10_000_000 + n, rooms[k % len(rooms)], f"wxid_ad{n}", text,
                             at=int(at)))  # fmt: skip
        until = time.monotonic() + 1.0
        while time.monotonic() < until:
            calls = zip(fake.calls[seen:], fake.call_times[seen:], strict=False)
            got = [t for (name, a), t in calls if a.get("aters") == f"wxid_ad{n}"]
            if got:
                took.append((got[0] - at) * 1000)
                break
            time.sleep(0.0005)
        time.sleep(0.1)
    return took


def _pacing() -> dict[str, Any]:
    from qunzhu.adapters.send_limits import DEFAULTS

    paced = DEFAULTS["wechat"]
    return {
        "min_gap_s": paced.min_gap,
        "jitter_s": paced.jitter,
        "daily_cap": paced.daily_cap,
        "computed": "an ad on an idle account: + uniform(0, jitter) s before its warning "
        f"(mean {paced.jitter / 2:.1f} s); ads in a row: one warning per min_gap + jitter/2 "
        f"≈ {paced.min_gap + paced.jitter / 2:.1f} s on the account, so the k-th waits ≈ k × "
        f"{paced.min_gap + paced.jitter / 2:.1f} s; past {paced.daily_cap} a day, no warning "
        "is sent (an alert says so)",
    }


def _stored(db_path: Path) -> int:
    """The members' messages stored (not the account's own warnings, which WeChatFerry
    echoes back: with warnings sent at receipt they come in before the load is stored)."""
    try:
        with sqlite3.connect(db_path) as conn:
            return int(
                conn.execute(
                    "SELECT COUNT(*) FROM messages WHERE platform_message_id < '9'"
                ).fetchone()[0]
            )
    except sqlite3.OperationalError:  # locked for a moment by the writer
        return 0


def _ts(value: str) -> float:
    return (
        datetime.fromisoformat(value).timestamp()
        if "+" in value
        else (datetime.fromisoformat(value + "+00:00").timestamp())
    )


def _warnings(fake: wf.FakeWcf) -> list[tuple[dict[str, Any], float]]:
    return [(args, at) for (name, args), at in zip(fake.calls, fake.call_times, strict=True)
            if name == "FUNC_SEND_TXT"]  # fmt: skip


def _warned_ids(warned: list[tuple[dict[str, Any], float]], ads: set[int]) -> list[Any]:
    return [(10_000_000 + int(a["aters"][len("wxid_ad") :]), t) for a, t in warned
            if a.get("aters", "").startswith("wxid_ad")]  # fmt: skip


if __name__ == "__main__":
    main()
