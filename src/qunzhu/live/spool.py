"""The spool file: a durable live queue for one serving process without Redis.

A SQLite file of its own (``QUNZHU_LIVE_SPOOL``), written with ``synchronous=FULL``: what was
answered survives a crash of the process or the machine. One serving process per file.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qunzhu.events import Event
from qunzhu.live.queue import encode

log = logging.getLogger(__name__)


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
