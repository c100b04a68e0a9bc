"""Durable queues between a webhook's answer and the pipeline.

With one configured, a webhook answers 200 as soon as its events are in the queue (an fsync
or a Redis append, about a millisecond) instead of after the pipeline committed them, and a
consumer thread in the same ``qunzhu serve`` process stores them in small batches. An entry
leaves the queue only after the pipeline's transaction committed, so a crash between the
answer and the commit leaves it queued and the next start stores it; a crash between the
commit and the removal stores it a second time, which its idempotency key makes a no-op.

- :class:`SpoolQueue`: a SQLite file of its own (``QUNZHU_LIVE_SPOOL``), written with
  ``synchronous=FULL``: what was answered survives a crash of the process or the machine.
  One serving process per file.
- :class:`RedisQueue`: a Redis stream read by the consumer group ``serve`` (used when
  ``QUNZHU_REDIS_URL`` is set). As durable as Redis is configured to be (``appendonly yes``
  with ``appendfsync always`` for no loss on a power cut; the default ``everysec`` may lose
  the last second if Redis itself dies). Several serving processes may share the stream;
  entries a dead one held are taken over after ``claim_idle_ms``.
"""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from qunzhu.events import Event, EventError, event_from_json
from qunzhu.live.early_ledger import set_claim
from qunzhu.store.quarantine import RejectedRecord

log = logging.getLogger(__name__)

LIVE_STREAM = "qunzhu:live"
LIVE_GROUP = "serve"


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


class _Put:
    __slots__ = ("done", "error", "rows")

    def __init__(self, rows: list[tuple[bytes]]) -> None:
        self.rows = rows
        self.done = threading.Event()
        self.error: BaseException | None = None


class SpoolQueue:
    """Group commit: the webhook threads hand their rows to one writer thread, which writes
    whatever has gathered in one transaction and one fsync, then wakes them all. Removals
    go through the same thread: two writers on one SQLite file would make each other sleep
    in the busy handler."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = f"spool:{self.path.name}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer_db = self._connect()
        self._writer_db.execute(
            "CREATE TABLE IF NOT EXISTS spool ("
            "id INTEGER PRIMARY KEY AUTOINCREMENT, payload BLOB NOT NULL)"
        )
        self._reader_db = self._connect()
        self._lock = threading.Lock()  # the reader connection and ``_taken``
        self._arrived = threading.Condition()
        self._puts: list[_Put] = []
        self._acks: list[int] = []
        self._removing: set[int] = set()  # acknowledged, not yet deleted: never handed out
        self._closed = False
        self._commits = 0
        self._taken = 0  # highest id handed out by take()
        self._writer = threading.Thread(target=self._write_loop, name="qunzhu-spool", daemon=True)
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=30
        )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    def put(self, events: Sequence[Event]) -> None:
        item = _Put([(encode(e),) for e in events])
        with self._arrived:
            if self._closed:
                raise RuntimeError(f"the spool {self.path} is closed")
            self._puts.append(item)
            self._arrived.notify_all()
        item.done.wait()
        if item.error is not None:
            raise item.error

    def _write_loop(self) -> None:
        while True:
            with self._arrived:
                while not self._puts and not self._acks and not self._closed:
                    self._arrived.wait()
                batch, self._puts = self._puts, []
                acks, self._acks = self._acks, []
                if not batch and not acks and self._closed:
                    return
            error: BaseException | None = None
            db = self._writer_db
            try:
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    "INSERT INTO spool (payload) VALUES (?)", [r for p in batch for r in p.rows]
                )
                db.executemany("DELETE FROM spool WHERE id = ?", [(i,) for i in acks])
                db.execute("COMMIT")
            except BaseException as exc:  # each waiting webhook answers with the error
                error = exc
                if db.in_transaction:
                    db.execute("ROLLBACK")
            if error is not None:
                log.warning("the spool %s could not be written: %s", self.path, error)
            for p in batch:
                p.error = error
                p.done.set()
            with self._arrived:
                if error is not None:  # removed at the next write; a redelivery is harmless
                    self._acks[:0] = acks
                else:
                    self._removing.difference_update(acks)
                self._commits += 1
                self._arrived.notify_all()  # the consumer waits on the same condition

    def take(self, limit: int, wait: float) -> list[tuple[Any, bytes]]:
        with self._arrived:
            seen = self._commits
        rows = self._next(limit)
        if not rows and wait > 0:
            with self._arrived:  # a commit between the read and here must not be slept over
                self._arrived.wait_for(lambda: self._commits != seen or self._closed, wait)
            rows = self._next(limit)
        return rows

    def _next(self, limit: int) -> list[tuple[Any, bytes]]:
        with self._lock:
            rows = self._reader_db.execute(
                "SELECT id, payload FROM spool WHERE id > ? ORDER BY id LIMIT ?",
                (self._taken, limit),
            ).fetchall()
            if rows:
                self._taken = int(rows[-1][0])
        with self._arrived:
            removing = set(self._removing)
        return [(int(i), bytes(p)) for i, p in rows if int(i) not in removing]

    def ack(self, ids: Sequence[Any]) -> None:
        if not ids:
            return
        with self._arrived:
            self._acks.extend(int(i) for i in ids)
            self._removing.update(int(i) for i in ids)
            self._arrived.notify_all()

    def rewind(self) -> None:
        with self._lock:
            self._taken = 0

    def pending(self) -> int:
        with self._arrived:
            removing = set(self._removing)
        with self._lock:
            ids = self._reader_db.execute("SELECT id FROM spool").fetchall()
        return sum(1 for (i,) in ids if int(i) not in removing)

    def close(self) -> None:
        with self._arrived:
            self._closed = True
            self._arrived.notify_all()
        self._writer.join(timeout=10)
        with self._lock:
            self._reader_db.close()
        self._writer_db.close()


class RedisQueue:
    def __init__(
        self,
        url: str,
        *,
        stream: str = LIVE_STREAM,
        group: str = LIVE_GROUP,
        consumer: str | None = None,
        claim_idle_ms: int = 30_000,
    ) -> None:
        from qunzhu.live import bus

        self.url = url
        self.client = bus.connect(url)
        self._appends: _Appends | None = None  # those of the event loop that calls aput
        # a connection pool of its own: the watch blocks while the consumer reads
        self.watcher = bus.connect(url)
        self.stream = stream
        self.group = group
        # a stable name: after a restart this process finds its own unacknowledged entries
        self.consumer = consumer or f"serve-{socket.gethostname()}"
        self.name = f"redis:{stream}"
        self.claim_idle_ms = claim_idle_ms
        self._own_pending = True  # read what this consumer held before a restart first
        bus.ensure_group(self.client, stream, group)

    async def aput(self, events: Sequence[Event], claims: Sequence[str] = ()) -> list[bool]:
        """``put`` from an event loop: the loop answers other webhooks while Redis
        confirms (blocking on it cost the web server a fifth of its time under load).

        ``claims``: keys to set if absent (``SET NX``) in the same transaction, before the
        events: what the live worker reads, it reads after the claims. Returns, for each
        claim, whether it was this call's."""
        import asyncio

        loop = asyncio.get_running_loop()
        if self._appends is None or self._appends.loop is not loop:
            import redis.asyncio as aioredis

            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=5)
            self._appends = _Appends(loop, client, self.stream)
        return await self._appends.put([encode(e) for e in events], list(claims))

    def put(self, events: Sequence[Event]) -> None:
        if len(events) == 1:  # most updates: one command, no transaction to wrap it in
            self.client.xadd(self.stream, {"event": encode(events[0])})
            return
        self.put_claiming(events, ())

    def put_claiming(self, events: Sequence[Event], claims: Sequence[str]) -> list[bool]:
        """``put`` with ``claims`` set in the same transaction, as :meth:`aput` does."""
        # one MULTI/EXEC: the events of one update reach the consumer together
        pipe = self.client.pipeline(transaction=True)
        _append(pipe, self.stream, [encode(e) for e in events], claims)
        return [bool(r) for r in pipe.execute()[: len(claims)]]

    def take(self, limit: int, wait: float) -> list[tuple[Any, bytes]]:
        if self._own_pending:
            entries = self._read("0", limit, None)
            if entries:
                return entries
            self._own_pending = False
            claimed: Any = self.client.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=self.claim_idle_ms,
                start_id="0-0",
                count=limit,
            )
            stale = [(i, f.get(b"event", b"")) for i, f in claimed[1] if f]
            if stale:
                return stale
        return self._read(">", limit, max(1, int(wait * 1000)) if wait > 0 else None)

    def _read(self, start: str, limit: int, block_ms: int | None) -> list[tuple[Any, bytes]]:
        reply: Any = self.client.xreadgroup(
            self.group, self.consumer, {self.stream: start}, count=limit, block=block_ms
        )
        return [(i, f.get(b"event", b"")) for _stream, items in reply or [] for i, f in items if f]

    def last_id(self) -> Any:
        """The id of the newest entry ever added: where a watch from now on starts."""
        info: Any = self.client.xinfo_stream(self.stream)
        return info.get("last-generated-id") or "0-0"

    def watch(self, after: Any, wait: float) -> tuple[Any, list[tuple[Any, bytes]]]:
        """Entries added after the id ``after``, whoever takes them: a look at what
        arrives, apart from the consumer group (the early deletes read it while the
        consumer may be a batch behind). Returns the id to pass next time."""
        reply: Any = self.watcher.xread(
            {self.stream: after}, count=256, block=max(1, int(wait * 1000))
        )
        entries = [(i, f.get(b"event", b"")) for _s, items in reply or [] for i, f in items if f]
        return (entries[-1][0] if entries else after), entries

    def ack(self, ids: Sequence[Any]) -> None:
        if ids:
            pipe = self.client.pipeline(transaction=True)
            pipe.xack(self.stream, self.group, *ids)
            pipe.xdel(self.stream, *ids)
            pipe.execute()

    def rewind(self) -> None:
        self._own_pending = True

    def pending(self) -> int:
        # acknowledged entries are deleted, so the stream holds exactly what is not stored
        return int(self.client.xlen(self.stream))  # type: ignore[arg-type]

    def close(self) -> None:
        self.client.close()
        self.watcher.close()


def queue_from_settings(settings: Any) -> LiveQueue | None:
    """Redis when ``QUNZHU_REDIS_URL`` is set, else the spool file ``QUNZHU_LIVE_SPOOL``
    when set, else none (each webhook answers after its events are committed)."""
    if getattr(settings, "redis_url", None):
        return RedisQueue(str(settings.redis_url), stream=settings.live_stream)
    spool = getattr(settings, "live_spool", None)
    if spool:
        return SpoolQueue(spool)
    return None


def _append(pipe: Any, stream: str, payloads: Sequence[bytes], claims: Sequence[str]) -> None:
    """An update's commands: its claims first, so a reader of the stream finds them set."""
    for key in claims:
        set_claim(pipe, key)
    for payload in payloads:
        pipe.xadd(stream, {"event": payload})


class _Appends:
    """The appends of one event loop, gathered: while one transaction is on its way to
    Redis, the updates that arrive meanwhile wait for the next, so under load one round
    trip and one connection checkout carry many updates instead of one each.

    Each update's claims and events are in the same ``MULTI``: they reach the stream
    together, and a failed transaction fails every update in it (each webhook then answers
    with an error and the platform sends it again)."""

    def __init__(self, loop: Any, client: Any, stream: str) -> None:
        self.loop = loop
        self.client = client
        self.stream = stream
        self._waiting: list[tuple[list[bytes], list[str], Any]] = []
        self._flushing: Any = None  # the task sending, while one is

    async def put(self, payloads: list[bytes], claims: list[str]) -> list[bool]:
        done = self.loop.create_future()
        self._waiting.append((payloads, claims, done))
        if self._flushing is None:
            self._flushing = self.loop.create_task(self._flush())
        result: list[bool] = await done
        return result

    async def _flush(self) -> None:
        batch: list[tuple[list[bytes], list[str], Any]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                pipe = self.client.pipeline(transaction=True)
                for payloads, claims, _ in batch:
                    _append(pipe, self.stream, payloads, claims)
                try:
                    replies = await pipe.execute()
                except Exception as exc:
                    for _, _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                at = 0
                for payloads, claims, done in batch:
                    won = [bool(r) for r in replies[at : at + len(claims)]]
                    at += len(claims) + len(payloads)
                    if not done.done():
                        done.set_result(won)
        except BaseException:  # cancelled with the loop: no webhook waits for ever
            for _, _, done in [*batch, *self._waiting]:
                if not done.done():
                    done.cancel()
            raise
        finally:
            self._flushing = None
