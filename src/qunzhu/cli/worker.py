"""`qunzhu worker`: a live worker. It takes the shards of the Redis live stream it holds
(see qunzhu.live.shards), stores their events through the pipeline and carries out the
actions on the platforms, drains the outbox and runs the polling and forward-WebSocket
connectors. Run any number, on one host or several sharing PostgreSQL and Redis; `qunzhu
serve` starts one itself unless QUNZHU_LIVE_PROCESS=false."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

import typer

from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import console, fail


def worker(
    name: str | None = typer.Option(
        None, help="Consumer name in the Redis group (default: host and process id)."
    ),
    live: bool = typer.Option(
        False, "--live", hidden=True, help="Accepted for old unit files: every worker is live."
    ),
) -> None:
    """Store live events queued in Redis (QUNZHU_REDIS_URL) and carry out what was decided,
    until stopped (Ctrl-C, SIGTERM: after the batch in hand)."""
    from qunzhu.live.hub import ConnectorHub
    from qunzhu.live.process import freeze_startup_heap, tell_ready
    from qunzhu.live.queue import RedisQueue

    del live
    store = store_at_head()
    settings = store.settings
    if not settings.redis_url:
        raise fail("QUNZHU_REDIS_URL is not set: the worker takes the live events from Redis")
    if settings.live_nice:
        # behind the web server for the CPU: its answers (and the early deletes it sends)
        # are what someone waits for; the batches only have to keep up
        os.nice(settings.live_nice)
    try:
        queue = RedisQueue(
            settings.redis_url,
            stream=settings.live_stream,
            consumer=name,
            shards=settings.live_shards,
            lease_ms=settings.live_lease_seconds * 1000,
        )
    except ValueError as exc:  # the shard count disagrees with the queued entries
        raise fail(str(exc)) from exc
    hub = ConnectorHub.load(store, role="worker", durable=queue)
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    names = ", ".join(c.info.name for c in hub.connectors.values()) or "none yet"
    console.print(
        f"worker {queue.consumer} ({os.getpid()}): {settings.live_shards} shards of "
        f"{settings.live_stream}, connectors {names}"
    )
    hub.start()
    freeze_startup_heap()
    tell_ready()
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        console.print(f"worker {queue.consumer} stopping after the batch in hand")
        hub.stop()
        queue.close()
        store.dispose()
