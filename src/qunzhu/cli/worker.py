"""`qunzhu worker`: a pipeline worker reading the Redis event stream (scale-out);
`qunzhu worker --live`: the live worker of `qunzhu serve` (stores webhook updates queued in
Redis and carries out the actions on the platforms), which serve starts by itself."""

from __future__ import annotations

import os
import signal
from types import FrameType

import typer

from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import console, fail
from qunzhu.store.session import Store


def worker(
    name: str | None = typer.Option(None, help="Consumer name (default: host and thread)."),
    batch: int = typer.Option(500, min=1, max=10_000, help="Events per transaction."),
    claim_idle: int = typer.Option(
        30, min=1, help="Seconds before a dead worker's batch is taken over."
    ),
    live: bool = typer.Option(
        False,
        "--live",
        help="Be the live worker of `qunzhu serve`: store what its webhooks queued and "
        "carry out the actions (serve starts one itself unless QUNZHU_LIVE_PROCESS=false).",
    ),
) -> None:
    """Store events published to Redis (QUNZHU_REDIS_URL) until stopped (Ctrl-C, SIGTERM)."""
    from qunzhu.live import bus
    from qunzhu.wiring import build_pipeline

    store = store_at_head()
    if not store.settings.redis_url:
        raise fail("QUNZHU_REDIS_URL is not set: the worker reads events from Redis")
    if live:
        _live(store)
        return
    client = bus.connect(store.settings.redis_url)
    worker = bus.Worker(
        client,
        build_pipeline(store, "live"),
        name=name,
        batch=batch,
        claim_idle_ms=claim_idle * 1000,
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        console.print("stopping after the batch in hand")
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    console.print(f"worker {worker.name} reading {bus.STREAM} as group {bus.GROUP}")
    stats = worker.run()
    console.print(f"stored {stats.report.added} new events in {stats.batches} batches")


def _live(store: Store) -> None:
    import threading

    from qunzhu.live.hub import ConnectorHub
    from qunzhu.live.process import freeze_startup_heap, tell_ready

    if store.settings.live_nice:
        # behind the web server for the CPU: its answers (and the early deletes it sends)
        # are what someone waits for; the batches only have to keep up
        os.nice(store.settings.live_nice)
    hub = ConnectorHub.load(store, role="worker")
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    names = ", ".join(c.info.name for c in hub.connectors.values()) or "none yet"
    console.print(f"live worker {os.getpid()}: connectors {names}")
    hub.start()
    freeze_startup_heap()
    tell_ready()
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        console.print("live worker stopping after the batch in hand")
        hub.stop()
        store.dispose()
