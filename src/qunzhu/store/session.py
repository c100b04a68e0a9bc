"""Engines and sessions: SQLite tuned for a busy single file, PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from qunzhu.settings import Settings

READ_ONLY = "qunzhu_read_only"
WRITER_WAIT_S = 30.0


class _WriterConnection(sqlite3.Connection):
    """A SQLite connection that gives the engine's writer lock back when its transaction
    ends, however it ends (commit, rollback, the pool's reset, close)."""

    writer_lock: threading.Lock | None = None

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.release_writer()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.release_writer()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.release_writer()

    def release_writer(self) -> None:
        lock, self.writer_lock = self.writer_lock, None
        if lock is not None:
            lock.release()


SQLITE_PAGE_BYTES = 16384
"""Pages of a new SQLite database. With SQLite's default, 4 KiB, the random idempotency
keys of a million messages split pages all over a deeper index: with 16 KiB, a bulk insert
of the same rows took ~10 % less CPU, and an import of a million IRC messages ~9 % (four
interleaved runs each; bench/bench_import.py's floor uses the same size)."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False, "factory": _WriterConnection},
        **kwargs,
    )
    # Writers of one process queue here, woken the moment the lock is free. On SQLite's
    # busy timeout alone they polled with sleeps of up to 100 ms: a live batch waited that
    # long behind the action log's few-row transaction.
    writer_lock = threading.Lock()

    @event.listens_for(engine, "connect")
    def _tune(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN; we emit BEGIN IMMEDIATE ourselves
        # so two writers queue on the busy timeout instead of failing mid-transaction.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # a database made now gets pages of SQLITE_PAGE_BYTES (an existing one keeps its own:
        # SQLite applies the pragma only before the first table)
        cur.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")
        if ":memory:" not in url and url != "sqlite://":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        # random idempotency keys land all over their unique index: keep it in memory
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Any) -> None:
        # a read-only transaction must not take the writer lock: in WAL mode it reads a
        # snapshot beside the writer instead of queueing behind it on the busy timeout
        # (whose sleeps of up to 100 ms held back a live action behind a pipeline batch)
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi = conn.connection.dbapi_connection
        # on a timeout go ahead anyway: SQLite's own busy timeout still guards the file
        if (
            isinstance(dbapi, _WriterConnection)
            and dbapi.writer_lock is None
            and writer_lock.acquire(timeout=WRITER_WAIT_S)
        ):
            dbapi.writer_lock = writer_lock
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if isinstance(dbapi, _WriterConnection):
                dbapi.release_writer()
            raise

    return engine


class Store:
    """The engine and a session factory; one per process, built from settings."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # the same pool; on SQLite its transactions begin deferred (see make_engine)
        self.read_engine = self.engine.execution_options(**{READ_ONLY: True})
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: on SQLite it does not wait for (or block) a writer."""
        with self._read_sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
