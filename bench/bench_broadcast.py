"""A broadcast to 1,000 Telegram groups (``--quick``: 200), paced to Telegram's limits.

The fake Bot API (tests/live/connector_fakes/telegram.py) enforces the limits Telegram's Bot
FAQ states — about 30 messages a second in all, one a second and 20 a minute in one chat —
answering 429 with ``retry_after`` beyond them. The broadcast is queued with
``qunzhu.messaging.broadcast.send`` into SQLite and carried out by a ConnectorHub as
``qunzhu serve`` runs it. Reported: seconds from the hub's start to the last delivery
recorded, beside the platform's theoretical minimum ((N - 1) / 30 s: no sender can go
faster without being refused), the 429s met, duplicates (a group that received the message
twice) and lost deliveries (a group that never received it, or a row not ``sent``).

`python bench/bench_broadcast.py --out bench/results/broadcast.json [--quick]`
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "live"))  # the fake platforms of the tests

import machine  # noqa: E402
from connector_fakes import telegram as tg  # noqa: E402
from connector_fakes.liveserver import LiveServer  # noqa: E402
from sqlalchemy import select  # noqa: E402

from qunzhu.adapters.manage import save_connector  # noqa: E402
from qunzhu.growth.common import spec_of  # noqa: E402
from qunzhu.live.hub import ConnectorHub, load_infos  # noqa: E402
from qunzhu.messaging.broadcast import SendRequest, send  # noqa: E402
from qunzhu.settings import load_settings  # noqa: E402
from qunzhu.store import Store  # noqa: E402
from qunzhu.store.community import Community, Group  # noqa: E402
from qunzhu.store.connectors import OutboxAction  # noqa: E402
from qunzhu.store.migrate import upgrade  # noqa: E402

GLOBAL_RATE = 30.0
SPEC = "name: bench\npurpose: broadcast\nmessaging: {daily_cap: 1000000}\n"


def run(groups: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            database_url=f"sqlite:///{tmp}/bench.db", secret_key="b" * 40, sample_data=False
        )
        store = Store(settings)
        upgrade(store.engine)
        chats = [f"-100300{n:07d}" for n in range(groups)]
        with store.unit_of_work() as session:
            community = Community(slug="bench", name="bench", spec_yaml=SPEC)
            session.add(community)
            session.flush()
            for n, chat in enumerate(chats):
                session.add(
                    Group(
                        community_id=community.id,
                        platform="telegram",
                        platform_group_id=chat,
                        name=f"群{n}",
                    )
                )
        fake = tg.FakeTelegram()
        fake.enforce_limits = True
        with LiveServer(fake.app) as server:
            save_connector(
                store,
                community="bench",
                platform="telegram",
                name="tgbot",
                config={"mode": "webhook", "api_base": server.url},
                credentials={"token": fake.token, "webhook_secret": "s" * 20},
            )
            hub = ConnectorHub(store, outbox_interval=0.2, durable=None)
            for info in load_infos(store):
                hub.add(info)
            queued_at = time.perf_counter()
            with store.unit_of_work() as session:
                cid = session.scalar(select(Community.id).where(Community.slug == "bench"))
                assert cid is not None
                send(
                    session,
                    cid,
                    "bench",
                    spec_of(session.connection(), cid),
                    settings.tz,
                    SendRequest(texts={"zh-CN": "{group}：本周直播预告"}, every_group=True),
                    datetime.now(UTC),
                )
            queue_s = time.perf_counter() - queued_at
            started = time.perf_counter()
            hub.start()
            try:
                deadline = started + groups / GLOBAL_RATE * 4 + 60
                while time.perf_counter() < deadline:
                    with store.reading() as session:
                        statuses = Counter(session.scalars(select(OutboxAction.status)))
                    if statuses["sent"] + statuses["failed"] + statuses["alerted"] >= groups:
                        break
                    time.sleep(0.1)
                seconds = time.perf_counter() - started
            finally:
                hub.stop()
            delivered = dict(fake.delivered)
            refused = fake.limited
        store.dispose()
    floor = (groups - 1) / GLOBAL_RATE
    return {
        "groups": groups,
        "queue_seconds": round(queue_s, 3),
        "seconds_to_finish": round(seconds, 2),
        "theoretical_minimum_s": round(floor, 2),
        "vs_minimum": round(seconds / floor, 3) if floor else None,
        "messages_received": sum(delivered.values()),
        "refused_429": refused,
        "duplicates": sum(n - 1 for n in delivered.values() if n > 1),
        "lost_rows_not_sent": groups - statuses["sent"],
        "groups_never_reached": len(set(chats) - set(delivered)),
        "statuses": dict(statuses),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--groups", type=int, default=None)
    args = parser.parse_args()
    groups = args.groups or (200 if args.quick else 1000)
    result: dict[str, Any] = {
        "benchmark": "broadcast",
        "date": date.today().isoformat(),
        "quick": args.quick,
        "machine_before": machine.speed(),
        "telegram": run(groups),
        "machine_after": machine.speed(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    t = result["telegram"]
    print(
        f"broadcast to {t['groups']:,} Telegram groups: {t['seconds_to_finish']} s "
        f"(platform minimum {t['theoretical_minimum_s']} s, x{t['vs_minimum']}); "
        f"429s {t['refused_429']}, duplicates {t['duplicates']}, "
        f"lost {t['lost_rows_not_sent']}, never reached {t['groups_never_reached']}"
    )
    return 0 if t["duplicates"] == 0 and t["lost_rows_not_sent"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
