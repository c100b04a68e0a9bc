"""Run by test_livequeue.py in a process of its own: queue events through a Sink with a
durable queue, answer (deliver returns), then die with ``os._exit`` — before the pipeline
commits (``before``) or after it committed but before the entries leave the queue
(``after``) — as a ``kill -9`` would."""

from __future__ import annotations

import os
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from qunzhu import events as ev
from qunzhu.live.queue import LiveQueue, RedisQueue
from qunzhu.live.sink import Sink
from qunzhu.live.spool import SpoolQueue
from qunzhu.settings import load_settings
from qunzhu.store.session import Store
from qunzhu.wiring import build_pipeline

SPAM = "加 薇 信 abc_123 了解赚钱项目"


def messages(count: int, first: int = 1) -> list[ev.Event]:
    now = datetime.now(UTC)
    return [
        ev.MessagePosted(
            platform="telegram",
            community="acme",
            group="-1001",
            member=str(500 + n),
            occurred_at=now,
            message_id=str(n),
            text=SPAM if n % 3 == 0 else f"第 {n} 条",
        )
        for n in range(first, first + count)
    ]


def make_queue(kind: str, where: str) -> LiveQueue:
    if kind == "spool":
        return SpoolQueue(where)
    url, stream = where.split(" ", 1)
    return RedisQueue(url, stream=stream, consumer="child-test")


def main() -> None:
    db_url, kind, where, crash = sys.argv[1:5]
    store = Store(load_settings(database_url=db_url, secret_key="c" * 40, sample_data=False))
    pipeline = build_pipeline(store, "live")
    answered = threading.Event()
    real_run = pipeline.run

    def run(items: Any, **kwargs: Any) -> Any:
        answered.wait(30)
        if crash == "before":
            os._exit(9)
        real_run(items, **kwargs)
        os._exit(9)

    pipeline.run = run  # type: ignore[method-assign]
    sink = Sink(pipeline, lambda actions: None, durable=make_queue(kind, where), linger=0)
    sink.deliver(messages(12))
    print("answered", flush=True)
    answered.set()
    threading.Event().wait(30)
    os._exit(3)  # the consumer should have died first


if __name__ == "__main__":
    main()
