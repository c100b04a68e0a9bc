"""Chunks of a run grouped into transactions: the pipeline's unit of commit.

The per-event writer commits every chunk; the bulk writer lets a transaction hold several
(each after the first in a savepoint), because every commit writes out each index page the
transaction touched. An import of many files (``qunzhu import *.log``) lets a transaction run
on from one file's run to the next (``across_runs``): a file of a thousand messages touches
a page of each random-keyed index (idempotency key, platform id) per message or so, and a
commit per file wrote 27 GB of WAL for a 550 MB database of a million IRC messages in 797
files (issue 16, item 7).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Connection, NestedTransaction, RootTransaction


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
    committed.

    ``across_runs``: the transaction does not end with a run (its short last chunk), only
    once it holds ``per_transaction`` records or the batch of runs ends; each run (see
    :meth:`run`) is kept whole or not at all, as when it committed alone."""

    def __init__(
        self, conn: Connection, per_chunk: int, per_transaction: int, *, across_runs: bool = False
    ) -> None:
        self.conn = conn
        self.per_chunk = per_chunk
        self.per_transaction = per_transaction
        self.across_runs = across_runs
        self.open: RootTransaction | None = None
        self.held = 0  # records the open transaction holds
        # the savepoint of a run begun in a transaction that holds earlier runs' records
        self.run_savepoint: NestedTransaction | None = None

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
        if self.held >= self.per_transaction or (records < self.per_chunk and not self.across_runs):
            self._release_run()
            committing, self.open = self.open, None
            try:
                committing.commit()
            except Exception as exc:
                _roll_back_all(self.conn, committing)
                if self.held > records:  # not this chunk's alone: the others are lost too
                    raise TransactionLost(self.held - records, exc) from exc
                raise

    @contextmanager
    def run(self) -> Iterator[None]:
        """One run of a batch (``across_runs``): if it raises, what it wrote and did not
        commit is rolled back, as a run of its own would roll it back, and the earlier runs
        the transaction holds are committed (each of them ended whole) before the error goes
        on."""
        if self.open is not None and self.held:
            self.run_savepoint = self.conn.begin_nested()
        try:
            yield
        except BaseException:
            savepoint, self.run_savepoint = self.run_savepoint, None
            if savepoint is not None and savepoint.is_active:
                savepoint.rollback()
                self.commit()
            elif self.open is not None:  # it holds this run's chunks alone
                self.open.rollback()
                self.open = None
            raise
        self._release_run()

    def commit(self) -> None:
        """Commit what the open transaction holds (the end of a batch of runs, or before a
        step that writes through another connection)."""
        self._release_run()
        committing, self.open = self.open, None
        if committing is not None and committing.is_active:
            committing.commit()

    def _release_run(self) -> None:
        # the run's chunks so far are committed with the transaction from now on: a later
        # failure of the run rolls back its chunks since this commit only
        savepoint, self.run_savepoint = self.run_savepoint, None
        if savepoint is not None and savepoint.is_active:
            savepoint.commit()

    def failed(self) -> None:
        """A chunk failed: commit the chunks before it (their savepoints were released), or
        roll back a transaction that held nothing else."""
        if self.open is None:
            return
        self._release_run()
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
