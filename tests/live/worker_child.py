"""Run by test_workers.py in a process of its own: a live worker holding the one shard of a
stream, which takes a batch and then hangs in it — before the pipeline commits (``before``)
or after the commit, before the entries are acknowledged (``after``) — until the test kills
it with SIGKILL."""

from __future__ import annotations

import sys
import threading
from typing import Any

from qunzhu.live.queue import RedisQueue
from qunzhu.live.sink import Sink
from qunzhu.settings import load_settings
from qunzhu.store.session import Store
from qunzhu.wiring import build_pipeline


def main() -> None:
    db_url, redis_url, stream, when = sys.argv[1:5]
    store = Store(load_settings(database_url=db_url, secret_key="c" * 40, sample_data=False))
    queue = RedisQueue(redis_url, stream=stream, consumer="doomed", shards=1, lease_ms=1000)
    pipeline = build_pipeline(store, "live")
    real_run = pipeline.run
    hang = threading.Event()

    def run(items: Any, **kwargs: Any) -> Any:
        if when == "before":
            print(f"holding {len(items)}", flush=True)
            hang.wait()
        return real_run(items, **kwargs)

    def ack(ids: Any) -> None:
        print(f"holding {len(ids)}", flush=True)
        hang.wait()

    pipeline.run = run  # type: ignore[method-assign]
    queue.ack = ack  # type: ignore[method-assign]
    sink = Sink(pipeline, lambda actions: None, durable=queue, max_batch=5, linger=0)
    sink.start()
    hang.wait(120)
    sys.exit(3)  # the test should have killed it long before


if __name__ == "__main__":
    main()
