"""Chunks of a run grouped into transactions: the pipeline's unit of commit.

The per-event writer commits every chunk; the bulk writer lets a transaction hold several
(each after the first in a savepoint), because every commit writes out each index page the
transaction touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Connection, RootTransaction


class TransactionLost(RuntimeError):
    """Chunks already done went with a failed commit: the pipeline holds them no more, so
    it cannot isolate them; the run stops, and a re-run adds them (idempotency keys)."""

    permanent = False

    def __init__(self, records: int, cause: BaseException) -> None:
        super().__init__(
            f"commit failed, {records} records of earlier chunks rolled back: "
            f"{type(cause).__name__}: {cause}"
        )
        self.records = records
        self.cause = cause


class ChunkTransactions:
    """Chunks of ``per_chunk`` records grouped into transactions of ``per_transaction``: the
    first chunk of a transaction begins it, the others run in a savepoint, so that a failing
    chunk leaves the chunks before it to be committed. A transaction commits once it holds
    enough, or after a short chunk (the last of a run), so that the commit of every chunk
    of the per-event writer (one chunk per transaction) happens while it is held. An
    exception that ends the run (Ctrl-C, a failed commit) rolls back what is not
    committed."""

    def __init__(self, conn: Connection, per_chunk: int, per_transaction: int) -> None:
        self.conn = conn
        self.per_chunk = per_chunk
        self.per_transaction = per_transaction
        self.open: RootTransaction | None = None
        self.held = 0  # records the open transaction holds

    def __enter__(self) -> ChunkTransactions:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self.open is None or not self.open.is_active:
            return
        if kind is None:
            self.open.commit()
        else:
            self.open.rollback()

    @contextmanager
    def holding(self, records: int) -> Iterator[None]:
        """One chunk of ``records``: what it writes is kept (committed now or with the next
        chunks) unless it raises."""
        if self.open is None:
            self.open, self.held = self.conn.begin(), 0
        # the first chunk of a transaction needs no savepoint: a failure rolls back the
        # transaction itself, which holds nothing else
        with self.conn.begin_nested() if self.held else nullcontext():
            yield
        self.held += records
        if self.held >= self.per_transaction or records < self.per_chunk:
            committing, self.open = self.open, None
            try:
                committing.commit()
            except Exception as exc:
                _roll_back_all(self.conn, committing)
                if self.held > records:  # not this chunk's alone: the others are lost too
                    raise TransactionLost(self.held - records, exc) from exc
                raise

    def failed(self) -> None:
        """A chunk failed: commit the chunks before it (their savepoints were released), or
        roll back a transaction that held nothing else."""
        if self.open is None:
            return
        if self.held and self.open.is_active:
            self.open.commit()
        else:
            self.open.rollback()
        self.open = None


def _roll_back_all(conn: Connection, failed: RootTransaction) -> None:
    """After a failed commit: SQLAlchemy may count the transaction as ended while the
    database still has it open, and the next BEGIN on this connection would fail."""
    failed.rollback()
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None:
        dbapi.rollback()
