"""`qunzhu worker`: a pipeline worker reading the Redis event stream (scale-out)."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from qunzhu.cli.core import store_at_head
from qunzhu.cli.output import console, fail


def worker(
    name: str | None = typer.Option(None, help="Consumer name (default: host and thread)."),
    batch: int = typer.Option(500, min=1, max=10_000, help="Events per transaction."),
    claim_idle: int = typer.Option(
        30, min=1, help="Seconds before a dead worker's batch is taken over."
    ),
) -> None:
    """Store events published to Redis (QUNZHU_REDIS_URL) until stopped (Ctrl-C, SIGTERM)."""
    from qunzhu import bus
    from qunzhu.wiring import build_pipeline

    store = store_at_head()
    if not store.settings.redis_url:
        raise fail("QUNZHU_REDIS_URL is not set: the worker reads events from Redis")
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
