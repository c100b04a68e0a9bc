"""The WeChatFerry connector under load: a fake WeChatFerry server pushes group messages over
its nng Pair1 message socket at a steady rate (500/s for 60 s; ``--quick``: 10 s) into a
``ConnectorHub`` as ``qunzhu serve`` runs it without Redis (SQLite, moderation, scoring).

Messages are spread over ``--rooms`` groups (100), as one account in many groups; the
connector's send pacing is set out of the way (1000/s, 600 a minute per group) so that what
is measured is the connector and the pipeline, the pacing reported apart.
One message in ten is an ad from a new sender (WeChat cannot delete it: the action is an
alert, and a warning @ the sender); one in a hundred is a message sent again with its id
(it must change nothing). The fake runs in this process, so its CPU is counted against
the connector's.

Reported: lost (sent but not stored), duplicates, ads without an alert, receipt → alert
(p50/p99; target p99 ≤ 20 ms), and apart from it receipt → warning sent, which includes
the pacing of messages out (the executor's send pacer), not the connector's work.

`python bench/bench_wcferry.py --out bench/results/wcferry.json [--quick | --seconds N]`
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "live"))

import machine  # noqa: E402
from connector_fakes import wcferry as wf  # noqa: E402

RATE = 500
MEMBERS = 2000
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/wcferry.json"))
    parser.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--rate", type=int, default=RATE)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument(
        "--redis",
        default="",
        help="a Redis URL: messages are answered once queued there and stored by the "
        "consumer in the same process (QUNZHU_LIVE_PROCESS=false), with early deletes",
    )
    args = parser.parse_args()
    seconds = args.seconds or (10.0 if args.quick else 60.0)
    count = int(seconds * args.rate)
    speed_at_start = machine.speed()

    from qunzhu.adapters.manage import save_connector
    from qunzhu.live.hub import ConnectorHub
    from qunzhu.settings import load_settings
    from qunzhu.store import make_engine
    from qunzhu.store.migrate import upgrade
    from qunzhu.store.models import Base, Community
    from qunzhu.store.session import Store

    db_path = Path(tempfile.mkdtemp(prefix="qunzhu-bench-wcferry-")) / "bench.db"
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    Base.metadata.create_all(engine)
    engine.dispose()
    where: dict[str, Any] = {}
    if args.redis:
        import redis

        client = redis.Redis.from_url(args.redis)
        client.delete("qunzhu:live", *client.keys("qunzhu:early:qunzhu:live:*"))
        where = {"redis_url": args.redis, "live_process": False}
    settings = load_settings(database_url=f"sqlite:///{db_path}", secret_key="b" * 40,
                             sample_data=False, log_level="WARNING", **where)  # fmt: skip
    store = Store(settings)
    with store.unit_of_work() as session:
        session.add(Community(slug="bench", name="bench", spec_yaml=SPEC))
    fake = wf.FakeWcf()
    rooms = [f"2088{n:04d}@chatroom" for n in range(args.rooms)]
    for r, room in enumerate(rooms):  # each member talks in one group, now and then
        fake.rooms[room] = {f"wxid_m{k}": f"成员{k}" for k in range(r, MEMBERS, len(rooms))}
    sent_at: dict[int, float] = {}
    ads: set[int] = set()
    with fake:
        config = {"host": "127.0.0.1", "port": fake.port, "send_per_second": 1000,
                  "send_per_chat_per_minute": 600}  # fmt: skip
        save_connector(store, community="bench", platform="wechat", name="wxbench",
                       config=config, credentials={})  # fmt: skip
        hub = ConnectorHub.load(store, role="all")
        hub.start()
        fake.wait_connected()
        started = time.monotonic()
        for n in range(count):
            due = started + n / args.rate
            while (wait := due - time.monotonic()) > 0:
                time.sleep(min(wait, 0.002))
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
        while time.monotonic() < deadline and _stored(db_path) < count:
            time.sleep(0.2)
        all_stored = time.monotonic() - started
        time.sleep(3.0)  # the last actions
        hub.executor.drain()
        warned = _warnings(fake)
        hub.stop()
    store.dispose()

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT platform_message_id FROM messages WHERE platform_message_id < '9'"
        ).fetchall()
        alerts = conn.execute("SELECT member, created_at FROM connector_alerts").fetchall()
    stored = [int(r[0]) for r in rows]
    alert_at: dict[int, float] = {}
    for member, created in alerts:
        if member and member.startswith("wxid_ad"):
            alert_at.setdefault(10_000_000 + int(member[len("wxid_ad") :]), _ts(created))
    to_alert = [(alert_at[i] - sent_at[i]) * 1000 for i in ads if i in alert_at]
    to_warning = [(t - sent_at[i]) * 1000 for i, t in _warned_ids(warned, ads) if i in sent_at]
    report = {
        "benchmark": "wcferry",
        "rate_per_s": args.rate,
        "seconds": seconds,
        "rooms": args.rooms,
        "queue": "redis (one process)" if args.redis else "none (stored before the next read)",
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
        "receipt_to_alert_p50_ms": pct(to_alert, 0.50),
        "receipt_to_alert_p99_ms": pct(to_alert, 0.99),
        "target_receipt_to_action_p99_ms": TARGET_P99_MS,
        "warnings_sent": len(warned),
        "receipt_to_warning_p50_ms_with_pacing": pct(to_warning, 0.50),
        "receipt_to_warning_p99_ms_with_pacing": pct(to_warning, 0.99),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report, indent=2, ensure_ascii=False))


def _stored(db_path: Path) -> int:
    try:
        with sqlite3.connect(db_path) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
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
