"""Durable queues between a webhook's answer and the pipeline.

With one configured, a webhook answers 200 as soon as its events are in the queue (an fsync
or a Redis append, about a millisecond) instead of after the pipeline committed them, and a
consumer stores them in small batches. An entry leaves the queue only after the pipeline's
transaction committed, so a crash between the answer and the commit leaves it queued and the
next reader stores it; a crash between the commit and the removal stores it a second time,
which its idempotency key makes a no-op.

- :class:`~qunzhu.live.spool.SpoolQueue`: a SQLite file of its own (``QUNZHU_LIVE_SPOOL``),
  taken by a thread of the one serving process.
- :class:`RedisQueue`: Redis streams, one per shard of the groups (:mod:`qunzhu.live.shards`),
  read by the consumer group ``workers``: any number of ``qunzhu worker`` processes on any
  number of hosts, each shard by one of them at a time, so a group's events are stored in
  order. As durable as Redis is configured to be (``appendonly yes`` with ``appendfsync
  always`` for no loss on a power cut; the default ``everysec`` may lose the last second if
  Redis itself dies).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import redis

from qunzhu.events import Event, EventError, event_from_json
from qunzhu.live.appends import DECIDED, Appends, append
from qunzhu.live.shards import NEW, ShardLeases, agree_on_shards, shard_of, shard_stream
from qunzhu.store.outbox import LIVE_OWNER
from qunzhu.store.quarantine import RejectedRecord

log = logging.getLogger(__name__)

LIVE_STREAM = "qunzhu:live"
LIVE_GROUP = "workers"
LEGACY_BATCH = 500


class LiveQueue(Protocol):
    """``put`` returns once the events are durable; ``take`` hands out entries not yet
    handed out (waiting up to ``wait`` seconds for the first); ``ack`` removes entries whose
    events are committed; ``rewind`` makes unacknowledged entries come out of ``take``
    again (after a failed commit)."""

    name: str

    def put(self, events: Sequence[Event]) -> None: ...

    def take(self, limit: int, wait: float) -> list[tuple[Any, bytes]]: ...

    def ack(self, ids: Sequence[Any]) -> None: ...

    def rewind(self) -> None: ...

    def pending(self) -> int: ...

    def close(self) -> None: ...


def encode(event: Event) -> bytes:
    return json.dumps(event.to_json(), ensure_ascii=False, default=str).encode("utf-8")


def decode(entry_id: Any, payload: bytes, source: str) -> Event | RejectedRecord:
    """An event, or a quarantine record naming the entry when it cannot be read back."""
    try:
        return event_from_json(json.loads(payload))
    except (ValueError, EventError) as exc:
        return RejectedRecord(
            source, 0, f"queued entry {entry_id!s}: {exc}", payload.decode("utf-8", "replace")
        )


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=False, socket_connect_timeout=5)


class EntryId(NamedTuple):
    """Where an entry is: its shard's stream and its id there."""

    stream: str
    id: bytes

    def __str__(self) -> str:
        return f"{self.stream}/{self.id.decode()}"


class RedisQueue:
    def __init__(
        self,
        url: str,
        *,
        stream: str = LIVE_STREAM,
        group: str = LIVE_GROUP,
        consumer: str | None = None,
        shards: int = 16,
        lease_ms: int = 10_000,
    ) -> None:
        self.url = url
        self.client = connect(url)
        self._appends: Appends | None = None  # those of the event loop that calls aput
        # a connection pool of its own: the watch blocks while the consumer reads
        self.watcher = connect(url)
        self.stream = stream  # the shards' prefix, and the namespace of the early ledger
        self.group = group
        self.shards = shards
        self.streams = [shard_stream(stream, n) for n in range(shards)]
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        # this reader's name in the worker registry, and the claim it writes its own
        # decisions to the outbox with: a decision whose claimer left the registry is
        # released (qunzhu.store.outbox.release_orphans)
        self.owner = f"{LIVE_OWNER}{self.consumer[:32]}/{uuid.uuid4().hex[:12]}"
        self.name = f"redis:{stream}"
        self.lease_ms = lease_ms
        agree_on_shards(self.client, stream, shards)
        self.leases: ShardLeases | None = None  # only a reader holds shards
        self._buffer: deque[tuple[EntryId, bytes]] = deque()
        self._in_hand: set[EntryId] = set()  # handed out by take, not acknowledged
        self._closed = threading.Event()

    def live_owners(self) -> set[str]:
        """The readers whose heartbeat is fresh (within three leases): their claims on the
        outbox are theirs still. Raises when Redis cannot say (then nothing is released)."""
        since = time.time() * 1000 - 3 * self.lease_ms
        members: Any = self.client.zrangebyscore(f"{self.stream}:workers", since, "+inf")
        return {m.decode() if isinstance(m, bytes) else str(m) for m in members}

    def stream_of(self, event: Event) -> str:
        return self.streams[shard_of(event.platform, event.community, event.group, self.shards)]

    # -- the webhooks' side -------------------------------------------------------------
    async def aput(
        self, events: Sequence[Event], claims: Sequence[str] = (), *, decided: bool = False
    ) -> list[bool]:
        """``put`` from an event loop: the loop answers other webhooks while Redis
        confirms (blocking on it cost the web server a fifth of its time under load).

        ``claims``: keys to set if absent (``SET NX``) in the same transaction, before the
        events: what a worker reads, it reads after the claims. Returns, for each claim,
        whether it was this call's. ``decided``: judged at receipt already (the entries say
        so, and the early deletes' ``watch`` passes them by)."""
        import asyncio

        loop = asyncio.get_running_loop()
        if self._appends is None or self._appends.loop is not loop:
            import redis.asyncio as aioredis

            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=5)
            self._appends = Appends(loop, client)
        return await self._appends.put(self._payloads(events), list(claims), decided)

    def put(self, events: Sequence[Event]) -> None:
        if len(events) == 1:  # most updates: one command, no transaction to wrap it in
            self.client.xadd(self.stream_of(events[0]), {"event": encode(events[0])})
            return
        self.put_claiming(events, ())

    def put_claiming(self, events: Sequence[Event], claims: Sequence[str]) -> list[bool]:
        """``put`` with ``claims`` set in the same transaction, as :meth:`aput` does."""
        # one MULTI/EXEC: the events of one update reach the workers together
        pipe = self.client.pipeline(transaction=True)
        append(pipe, self._payloads(events), claims)
        return [bool(r) for r in pipe.execute()[: len(claims)]]

    def _payloads(self, events: Sequence[Event]) -> list[tuple[str, bytes]]:
        return [(self.stream_of(e), encode(e)) for e in events]

    # -- a worker's side ----------------------------------------------------------------
    def take(self, limit: int, wait: float) -> list[tuple[Any, bytes]]:
        """Entries of the shards this worker holds: first those it read before and did not
        acknowledge (its own, or a dead holder's it took over), then new ones."""
        leases = self._reader()
        if not self._in_hand and not self._buffer:
            leases.balance()  # between batches only: nothing of a shard given back in hand
        held = leases.held()
        if self._buffer:
            return self._hand([], held, limit)
        if not held:
            self._closed.wait(wait)
            return []
        again = {s: c for s, c in held.items() if c != NEW}
        if again:
            entries = self._read(again, limit, None)
            for shard in again:
                last = [e for e, _ in entries if e.stream == self.streams[shard]]
                leases.advance(shard, last[-1].id.decode() if last else NEW)
            if entries:
                return self._hand(entries, held, limit)
        block = max(1, int(wait * 1000)) if wait > 0 else None
        return self._hand(self._read(dict.fromkeys(held, NEW), limit, block), held, limit)

    def _reader(self) -> ShardLeases:
        if self.leases is None:
            self._adopt_legacy()
            self.leases = ShardLeases(
                self.client,
                self.stream,
                self.group,
                self.consumer,
                shards=self.shards,
                lease_ms=self.lease_ms,
                token=self.owner,
            )
            self.leases.start()
        return self.leases

    def _read(
        self, cursors: dict[int, str], limit: int, block_ms: int | None
    ) -> list[tuple[EntryId, bytes]]:
        reply: Any = self.client.xreadgroup(
            self.group,
            self.consumer,
            {self.streams[s]: c for s, c in cursors.items()},
            count=limit,
            block=block_ms,
        )
        out: list[tuple[EntryId, bytes]] = []
        gone: list[EntryId] = []
        for name, items in reply or []:
            stream = name.decode() if isinstance(name, bytes) else str(name)
            for i, fields in items:
                entry = EntryId(stream, bytes(i))
                if fields:
                    out.append((entry, fields.get(b"event", b"")))
                else:  # deleted while pending (by hand): nothing to store
                    gone.append(entry)
        if gone:
            self.ack(gone)
        return out

    def _hand(
        self, entries: list[tuple[EntryId, bytes]], held: dict[int, str], limit: int
    ) -> list[tuple[Any, bytes]]:
        """At most ``limit`` entries (a read of several shards returns up to ``limit``
        each; the rest waits here), none of a shard lost since it was read."""
        self._buffer.extend(entries)
        holding = {self.streams[s] for s in held}
        out: list[tuple[Any, bytes]] = []
        while self._buffer and len(out) < limit:
            entry, payload = self._buffer.popleft()
            if entry.stream in holding:  # else its next holder takes it over and stores it
                out.append((entry, payload))
        self._in_hand.update(e for e, _ in out)
        return out

    def ack(self, ids: Sequence[Any]) -> None:
        if not ids:
            return
        by_stream: dict[str, list[bytes]] = {}
        for entry in ids:
            by_stream.setdefault(entry.stream, []).append(entry.id)
        pipe = self.client.pipeline(transaction=True)
        for stream, entry_ids in by_stream.items():
            pipe.xack(stream, self.group, *entry_ids)
            pipe.xdel(stream, *entry_ids)
        pipe.execute()
        self._in_hand.difference_update(ids)

    def rewind(self) -> None:
        self._buffer.clear()
        self._in_hand.clear()
        if self.leases is not None:
            self.leases.read_again()

    def pending(self) -> int:
        # acknowledged entries are deleted, so the streams hold exactly what is not stored
        pipe = self.client.pipeline(transaction=False)
        for stream in [self.stream, *self.streams]:
            pipe.xlen(stream)
        return sum(int(n) for n in pipe.execute())

    def _adopt_legacy(self) -> None:
        """Entries a version before the shards queued in the one stream ``<stream>`` move
        to their shards, in order, before any worker reads (one worker does it, under a
        lease of its own)."""
        if self.client.type(self.stream) not in (b"stream", "stream"):
            return
        key = f"{self.stream}:lease:legacy"
        if not self.client.set(key, self.consumer, nx=True, px=self.lease_ms * 6):
            return
        moved = 0
        try:
            while True:
                items: Any = self.client.xrange(self.stream, count=LEGACY_BATCH)
                if not items:
                    break
                pipe = self.client.pipeline(transaction=True)
                for i, fields in items:
                    payload = fields.get(b"event", b"")
                    pipe.xadd(self._legacy_shard(payload), {"event": payload})
                    pipe.xdel(self.stream, i)
                pipe.execute()
                moved += len(items)
        finally:
            self.client.delete(key)
        if moved:
            log.info("moved %d entries of %s to its shards", moved, self.stream)

    def _legacy_shard(self, payload: bytes) -> str:
        try:
            data = json.loads(payload)
            where = (str(data["platform"]), str(data["community"]), str(data["group"]))
        except (ValueError, KeyError, TypeError):  # quarantined by whoever reads it
            return self.streams[0]
        return self.streams[shard_of(*where, self.shards)]

    # -- early deletes in one process -----------------------------------------------------
    def last_id(self) -> dict[str, Any]:
        """The id of the newest entry ever added to each shard: where a watch from now on
        starts."""
        out: dict[str, Any] = {}
        for stream in self.streams:
            try:
                info: Any = self.client.xinfo_stream(stream)
                out[stream] = info.get("last-generated-id") or "0-0"
            except redis.ResponseError:  # no such stream yet: whatever comes is new
                out[stream] = "0-0"
        return out

    def watch(
        self, after: dict[str, Any], wait: float
    ) -> tuple[dict[str, Any], list[tuple[Any, bytes]]]:
        """Entries added after the ids in ``after``, whoever takes them: a look at what
        arrives, apart from the consumer group (the early deletes read it while the
        workers may be a batch behind), but for those judged at receipt already
        (``aput(..., decided=True)``). Returns the ids to pass next time."""
        streams: Any = after
        reply: Any = self.watcher.xread(streams, count=256, block=max(1, int(wait * 1000)))
        following = dict(after)
        entries: list[tuple[Any, bytes]] = []
        for name, items in reply or []:
            stream = name.decode() if isinstance(name, bytes) else str(name)
            for i, fields in items:
                following[stream] = i
                if fields and DECIDED not in fields:
                    entries.append((EntryId(stream, bytes(i)), fields.get(b"event", b"")))
        return following, entries

    def stop_reading(self) -> None:
        """Give the shards back at once (a clean stop, nothing in hand): the other workers
        take them at their next look instead of a lease later."""
        if self.leases is not None:
            self.leases.stop()
            self.leases = None
        self.rewind()

    def close(self) -> None:
        self._closed.set()
        self.stop_reading()
        self.client.close()
        self.watcher.close()


def queue_from_settings(settings: Any) -> LiveQueue | None:
    """Redis when ``QUNZHU_REDIS_URL`` is set, else the spool file ``QUNZHU_LIVE_SPOOL``
    when set, else none (each webhook answers after its events are committed)."""
    if getattr(settings, "redis_url", None):
        return RedisQueue(
            str(settings.redis_url),
            stream=settings.live_stream,
            shards=settings.live_shards,
            lease_ms=settings.live_lease_seconds * 1000,
        )
    spool = getattr(settings, "live_spool", None)
    if spool:
        from qunzhu.live.spool import SpoolQueue

        return SpoolQueue(spool)
    return None
