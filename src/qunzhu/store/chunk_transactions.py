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


class RunsRolledBack(RuntimeError):
    """A run of a batch failed while the open transaction also held earlier runs: no
    savepoint kept them apart (see :class:`ChunkTransactions`), so all of it was rolled
    back. The batch stores the earlier runs again, commits them, and runs the failed one
    alone (:class:`qunzhu.importing.ImportBatch`)."""

    permanent = False

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"rolled back with the earlier runs of its transaction: {cause}")
        self.cause = cause


class ChunkTransactions:
    """Chunks of ``per_chunk`` records grouped into transactions of ``per_transaction``: the
    first chunk of a transaction begins it, the others run in a savepoint, so that a failing
    chunk leaves the chunks before it to be committed. A transaction commits once it holds
    enough, or after a short chunk (the last of a run), so that the commit of every chunk
    of the per-event writer (one chunk per transaction) happens while it is held. An
    exception that ends the run (Ctrl-C, a failed commit) rolls back what is not
    committed.

    ``across_runs`` (a batch of runs, see :meth:`run`): the transaction does not end with a
    run (its short last chunk), only once it holds ``per_transaction`` records or the batch
    ends. A run's chunks in a transaction that holds earlier runs take no savepoint: a
    savepoint's journal copies every page the chunk changes (in the 1M IRC import, one
    chunk per file: 23 GB of copies), and a failure there is rare. Instead such a failure
    rolls back the whole transaction and raises :class:`RunsRolledBack` for the batch to
    store the earlier runs again; a run in a transaction of its own is as without
    ``across_runs``."""

    def __init__(
        self, conn: Connection, per_chunk: int, per_transaction: int, *, across_runs: bool = False
    ) -> None:
        self.conn = conn
        self.per_chunk = per_chunk
        self.per_transaction = per_transaction
        self.across_runs = across_runs
        self.open: RootTransaction | None = None
        self.held = 0  # records the open transaction holds
        self.earlier = 0  # of which earlier runs' (across_runs)
        self.commits = 0  # transactions committed so far

    def __enter__(self) -> ChunkTransactions:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if self.open is None or not self.open.is_active:
            return
        if kind is None:
            self.commit()
        else:
            self._roll_back()

    @contextmanager
    def holding(self, records: int) -> Iterator[None]:
        """One chunk of ``records``: what it writes is kept (committed now or with the next
        chunks) unless it raises."""
        if self.open is None:
            self.open, self.held, self.earlier = self.conn.begin(), 0, 0
        if self.earlier:  # earlier runs share the transaction: no savepoint (see the class)
            try:
                yield
            except Exception as exc:
                self._roll_back()
                raise RunsRolledBack(exc) from exc
        else:
            # the first chunk of a transaction needs no savepoint: a failure rolls back the
            # transaction itself, which holds nothing else
            with self.conn.begin_nested() if self.held else nullcontext():
                yield
        self.held += records
        if self.held >= self.per_transaction or (records < self.per_chunk and not self.across_runs):
            committing, self.open = self.open, None
            try:
                committing.commit()
            except Exception as exc:
                _roll_back_all(self.conn, committing)
                if self.held > records:  # not this chunk's alone: the others are lost too
                    raise TransactionLost(self.held - records, exc) from exc
                raise
            self.commits += 1
            self.earlier = 0

    @contextmanager
    def run(self) -> Iterator[None]:
        """One run of a batch (``across_runs``). If it raises, what it wrote and did not
        commit is rolled back; when the transaction also held earlier runs, they go with it
        and :class:`RunsRolledBack` says so (Ctrl-C goes on as it is: an interruption, like
        a kill, loses the open transaction, and a re-run adds it)."""
        self.earlier = self.held if self.open is not None else 0
        try:
            yield
        except RunsRolledBack:
            raise
        except BaseException as exc:
            shared = self.open is not None and self.earlier > 0
            self._roll_back()
            if shared and isinstance(exc, Exception):
                raise RunsRolledBack(exc) from exc
            raise

    def commit(self) -> None:
        """Commit what the open transaction holds (the end of a batch of runs, or before a
        step that writes through another connection)."""
        committing, self.open = self.open, None
        self.earlier = 0
        if committing is not None and committing.is_active:
            committing.commit()
            self.commits += 1

    def _roll_back(self) -> None:
        rolling, self.open = self.open, None
        self.earlier = 0
        if rolling is not None and rolling.is_active:
            rolling.rollback()

    def failed(self) -> None:
        """A chunk failed: commit the chunks before it (their savepoints were released), or
        roll back a transaction that held nothing else."""
        if self.open is None:
            return
        if self.held and self.open.is_active:
            self.commit()
        else:
            self._roll_back()


def _roll_back_all(conn: Connection, failed: RootTransaction) -> None:
    """After a failed commit: SQLAlchemy may count the transaction as ended while the
    database still has it open, and the next BEGIN on this connection would fail."""
    failed.rollback()
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None:
        dbapi.rollback()
