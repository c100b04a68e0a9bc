"""The pipeline's store stage, two ways: per event, or in bulk for chat exports.

A writer strategy tells the pipeline how to cut a run (records per chunk, records per
transaction), prepares the connection for the run, and writes each chunk:

- :class:`PerEventWriter` (live, API, webhooks, worker, demo): every event through
  :class:`~qunzhu.store.writer.Writer`, one transaction per chunk.
- :class:`BulkWriter` (``qunzhu import``, the API's upload): the same for events, and besides
  them *rows* — :class:`~qunzhu.store.messages_write.Posted`, the messages of the run's one
  group (its :class:`~qunzhu.store.batch.Place`) without an Event each — through
  :class:`~qunzhu.store.bulk_messages.BulkMessages`. A transaction holds several chunks, each
  after the first in a savepoint, so commits stay few without the memory of a whole
  transaction's records; SQLite gets import settings for the run, and cyclic garbage
  collection waits.

Either way a membership made by speaking and a reply link come from the same code
(:mod:`qunzhu.store.speaking`), and what fails is the pipeline's to isolate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import tzinfo
from typing import Protocol

from sqlalchemy import Connection

from qunzhu.settings import Settings
from qunzhu.store.batch import Place, Resolved, Written
from qunzhu.store.bulk_messages import BulkMessages
from qunzhu.store.gc_pause import gc_paused
from qunzhu.store.messages_write import Posted
from qunzhu.store.resolve import Resolver
from qunzhu.store.writer import Writer


class ChunkWriter(Protocol):
    """A strategy's writer for one run, chunk after chunk, inside the pipeline's transaction."""

    def write(self, resolved: Sequence[Resolved], rows: Sequence[Posted]) -> Written: ...

    def forget(self) -> None:
        """The transaction rolled back: ids this writer remembers may no longer exist."""


class WriterStrategy(Protocol):
    name: str
    takes_rows: bool  # False: the pipeline makes an Event of each row before writing

    def batching(self, chunk_size: int) -> tuple[int, int]:
        """(records per chunk, records per transaction), given the pipeline's chunk size."""
        ...

    def prepare(self, conn: Connection) -> AbstractContextManager[None]:
        """The connection's settings for a run or a batch of runs, entered outside any
        transaction (SQLite ignores a change of foreign_keys inside one)."""
        ...

    def open(
        self, conn: Connection, resolver: Resolver, place: Place | None, tz: tzinfo
    ) -> AbstractContextManager[ChunkWriter]: ...


class PerEventWriter:
    name = "per-event"
    takes_rows = False

    def batching(self, chunk_size: int) -> tuple[int, int]:
        return chunk_size, chunk_size

    def prepare(self, conn: Connection) -> AbstractContextManager[None]:
        return nullcontext()

    @contextmanager
    def open(
        self, conn: Connection, resolver: Resolver, place: Place | None, tz: tzinfo
    ) -> Iterator[ChunkWriter]:
        yield _EachEvent(conn)


class _EachEvent:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def write(self, resolved: Sequence[Resolved], rows: Sequence[Posted]) -> Written:
        if rows:
            raise TypeError("the per-event writer takes events, not rows")
        return Writer(self.conn).write(resolved)

    def forget(self) -> None:
        pass


class BulkWriter:
    name = "bulk"
    takes_rows = True

    def __init__(self, per_transaction: int) -> None:
        if per_transaction < 1:
            raise ValueError(f"records per transaction must be at least 1, not {per_transaction}")
        self.per_transaction = per_transaction

    @classmethod
    def from_settings(cls, settings: Settings, per_transaction: int | None = None) -> BulkWriter:
        return cls(per_transaction or settings.bulk_import_chunk_size)

    def batching(self, chunk_size: int) -> tuple[int, int]:
        return min(self.per_transaction, BULK_BATCH_RECORDS), self.per_transaction

    @contextmanager
    def prepare(self, conn: Connection) -> Iterator[None]:
        with gc_paused(), _bulk_pragmas(conn):
            yield

    @contextmanager
    def open(
        self, conn: Connection, resolver: Resolver, place: Place | None, tz: tzinfo
    ) -> Iterator[ChunkWriter]:
        yield _Bulk(conn, resolver, place, tz)


class _Bulk:
    def __init__(
        self, conn: Connection, resolver: Resolver, place: Place | None, tz: tzinfo
    ) -> None:
        self.conn = conn
        self.resolver = resolver
        self.place = place
        self.tz = tz
        self.messages: BulkMessages | None = None

    def write(self, resolved: Sequence[Resolved], rows: Sequence[Posted]) -> Written:
        # rows first, then the events (joins, leaves…) of the chunk, as the import always did
        added = duplicate = replies = 0
        if rows:
            done = self._messages().write(rows)
            added, duplicate, replies = done.added, done.duplicates, done.replies
        written = Writer(self.conn).write(resolved) if resolved else Written()
        written.rows_added += added
        written.rows_duplicate += duplicate
        written.replies += replies
        return written

    def forget(self) -> None:
        self.messages = None  # its members and memberships may have been rolled back

    def _messages(self) -> BulkMessages:
        if self.place is None:
            raise TypeError("rows need the run's place (community, platform, group)")
        community, platform, group = self.place
        community_id = self.resolver.community(community)
        group_id = self.resolver.group(community_id, platform, group)
        held = self.messages
        if held is None or (held.community_id, held.group_id) != (community_id, group_id):
            held = self.messages = BulkMessages(
                self.conn,
                self.resolver,
                community_id=community_id,
                group_id=group_id,
                platform=platform,
                tz=self.tz,
            )
        return held


@contextmanager
def _bulk_pragmas(conn: Connection) -> Iterator[None]:
    """SQLite, for the length of one bulk run: a bigger page cache (the random idempotency
    keys touch pages all over their index), fewer WAL checkpoints (each one copies the WAL
    back and syncs), and no foreign-key lookups — three per message, for ids this run has
    just read or made itself, and a bulk run deletes nothing that would cascade. The pooled
    connection gets its settings back afterwards."""
    if conn.dialect.name != "sqlite":
        yield
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    saved = {
        name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("cache_size", "wal_autocheckpoint", "foreign_keys")
    }
    try:
        cursor.execute(f"PRAGMA cache_size={min(int(saved['cache_size']), -BULK_CACHE_KIB)}")
        checkpoint = max(int(saved["wal_autocheckpoint"]), BULK_CHECKPOINT_PAGES)
        cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint}")
        cursor.execute("PRAGMA foreign_keys=OFF")
        yield
    finally:
        for name, value in saved.items():
            cursor.execute(f"PRAGMA {name}={int(value)}")
        cursor.close()


BULK_CACHE_KIB = 128 * 1024
# records read and written at once; a transaction (bulk_import_chunk_size) may hold several
# such chunks, each in a savepoint, so that commits stay few without the memory of a whole
# transaction's records
BULK_BATCH_RECORDS = 50_000
BULK_CHECKPOINT_PAGES = 16_384
