"""The event bus between receivers (webhooks, connectors) and pipeline workers: Redis Streams.

Receivers ``publish`` events in their JSON form to one stream; any number of workers read it
as one consumer group, store a batch through the pipeline, and acknowledge it only after the
transaction committed. A worker that dies leaves its batch pending; after ``claim_idle``
another worker claims it (XAUTOCLAIM) and stores it again — the idempotency keys make that
second delivery change nothing. At-least-once delivery, exactly-once effect.

Without Redis (``QUNZHU_REDIS_URL`` unset) receivers call the pipeline directly.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from qunzhu.events import Event, EventError, event_from_json
from qunzhu.pipeline import IngestReport, Pipeline
from qunzhu.store.quarantine import RejectedRecord

log = logging.getLogger(__name__)

STREAM = "qunzhu:events"
GROUP = "pipeline"


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=False, socket_connect_timeout=5)


def publish(
    client: redis.Redis, events: Sequence[Event], *, stream: str = STREAM, maxlen: int = 1_000_000
) -> list[bytes]:
    """Append events to the stream; returns their stream ids."""
    pipe = client.pipeline(transaction=False)
    for event in events:
        payload = json.dumps(event.to_json(), ensure_ascii=False, default=str)
        pipe.xadd(stream, {"event": payload.encode("utf-8")}, maxlen=maxlen, approximate=True)
    return [bytes(i) for i in pipe.execute()]


def ensure_group(client: redis.Redis, stream: str = STREAM, group: str = GROUP) -> None:
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


@dataclass
class WorkerStats:
    batches: int = 0
    delivered: int = 0
    claimed: int = 0
    report: IngestReport = field(default_factory=IngestReport)


class Worker:
    """One pipeline worker in the consumer group; run several, on any number of machines."""

    def __init__(
        self,
        client: redis.Redis,
        pipeline: Pipeline,
        *,
        name: str | None = None,
        stream: str = STREAM,
        group: str = GROUP,
        batch: int = 500,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
    ) -> None:
        self.client = client
        self.pipeline = pipeline
        self.name = name or f"{socket.gethostname()}-{threading.get_ident()}"
        self.stream = stream
        self.group = group
        self.batch = batch
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms
        self.stats = WorkerStats()
        self._stop = threading.Event()
        ensure_group(client, stream, group)

    def stop(self) -> None:
        self._stop.set()

    def run(self, *, max_idle_polls: int | None = None) -> WorkerStats:
        """Work until stopped (or, for tests and drains, after N empty polls in a row)."""
        idle = 0
        while not self._stop.is_set():
            handled = self.step()
            idle = 0 if handled else idle + 1
            if max_idle_polls is not None and idle >= max_idle_polls:
                break
        return self.stats

    def step(self) -> int:
        """Claim what a dead worker left, else read new entries; store and acknowledge."""
        entries = self._claim_stale() or self._read_new()
        if not entries:
            return 0
        self._handle(entries)
        return len(entries)

    def _claim_stale(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        # redis-py types sync replies as Awaitable | Any; this client is synchronous
        reply: Any = self.client.xautoclaim(
            self.stream,
            self.group,
            self.name,
            min_idle_time=self.claim_idle_ms,
            start_id="0-0",
            count=self.batch,
        )
        entries = [(i, f) for i, f in reply[1] if f]  # trimmed entries come back empty
        self.stats.claimed += len(entries)
        return entries

    def _read_new(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        reply: Any = self.client.xreadgroup(
            self.group, self.name, {self.stream: ">"}, count=self.batch, block=self.block_ms
        )
        return [(i, f) for _stream, items in reply or [] for i, f in items]

    def _handle(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        items: list[Any] = []
        for entry_id, fields in entries:
            raw = fields.get(b"event", b"")
            try:
                items.append(event_from_json(json.loads(raw)))
            except (ValueError, EventError) as exc:
                items.append(
                    RejectedRecord(
                        f"redis:{self.stream}",
                        0,
                        f"entry {entry_id.decode()}: {exc}",
                        raw.decode("utf-8", "replace"),
                    )
                )
        report = self.pipeline.run(items, source=f"redis:{self.stream}")
        # acknowledged only now: the pipeline committed (or quarantined) every entry
        self.client.xack(self.stream, self.group, *[i for i, _ in entries])
        self.stats.batches += 1
        self.stats.delivered += len(entries)
        merged = self.stats.report
        merged.received += report.received
        merged.added += report.added
        merged.duplicates += report.duplicates
        merged.quarantined.extend(report.quarantined)
        merged.actions.extend(report.actions)
