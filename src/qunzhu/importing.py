"""Import a chat export: its parser, the bulk write path, and a tally of what the file held.

Used by `qunzhu import` and the API's upload. The parser streams, messages as light tuples
(:class:`~qunzhu.adapters.importers.Posted`); they go to the store in chunks, each chunk one
transaction written in batches (savepoints after the first): messages through
:class:`~qunzhu.store.messages_write.BulkMessages` (one ``executemany``, new rows only,
rollups of those), the few other events (joins, leaves, renames, recalls) and the rejects
through the import pipeline's own stages. A re-run (after Ctrl-C, a kill, or on an
overlapping export) adds only what is missing. A batch that fails is replayed one event at
a time through the pipeline, which quarantines what still fails.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, RootTransaction

from qunzhu import events as ev
from qunzhu.adapters.importers.common import Posted, Row
from qunzhu.pipeline import IngestReport
from qunzhu.pipeline import _other as second_member
from qunzhu.store import Store
from qunzhu.store.messages_write import BulkMessages, RecentMessages
from qunzhu.store.quarantine import RejectedRecord
from qunzhu.store.resolve import Resolver
from qunzhu.wiring import build_pipeline

log = logging.getLogger(__name__)


@dataclass
class ImportTally:
    """What the file itself held (independent of what the database already had)."""

    file: str
    format: str
    messages: int = 0
    joins: int = 0
    leaves: int = 0
    invites: int = 0
    replies: int = 0
    inferred_replies: int = 0
    renames: int = 0
    other: int = 0
    members: set[str] = field(default_factory=set)
    quarantined: list[dict[str, Any]] = field(default_factory=list)

    def count(self, item: object) -> None:
        if isinstance(item, ev.MessagePosted):
            self.messages += 1
            self.members.add(item.member)
            if item.reply_to:
                self.replies += 1
                self.inferred_replies += item.reply_inferred
        elif isinstance(item, ev.MemberJoined):
            self.joins += 1
            self.members.add(item.member)
            self.invites += item.inviter is not None
        elif isinstance(item, ev.MemberLeft):
            self.leaves += 1
            self.members.add(item.member)
        elif isinstance(item, ev.InviteUsed):
            pass  # the join it belongs to is counted as the invite
        elif isinstance(item, ev.MemberRenamed):
            self.renames += 1
        elif isinstance(item, ev.Event):
            self.other += 1

    def counted(self, items: Iterable[Any]) -> Iterator[Any]:
        members = self.members
        posted = 0  # messages counted here, added to self.messages as other items come
        try:
            for item in items:
                if type(item) is Posted:  # the hot path: most of a file
                    posted += 1
                    members.add(item.member)
                    if item.reply_to:
                        self.replies += 1
                        self.inferred_replies += item.reply_inferred
                    yield item
                    continue
                if isinstance(item, RejectedRecord) and item.source != self.file:
                    item = replace(item, source=self.file)  # an upload's name, not its path
                self.messages, posted = self.messages + posted, 0
                self.count(item)
                yield item
        finally:
            self.messages += posted


def summary(tally: ImportTally, report: IngestReport) -> dict[str, Any]:
    quarantined = [*tally.quarantined, *report.quarantined]
    return {
        "file": tally.file,
        "format": tally.format,
        "messages": tally.messages,
        "members": len(tally.members),
        "joins": tally.joins,
        "leaves": tally.leaves,
        "invites": tally.invites,
        "replies": tally.replies,
        "inferred_replies": tally.inferred_replies,
        "renames": tally.renames,
        "quarantined": len(quarantined),
        "quarantined_records": quarantined[:1000],
        "added": report.count("message_posted"),
        "added_events": report.added,
        "duplicates": report.duplicates,
        "new_members": report.new_members,
    }


def import_file(
    store: Store,
    path: Path,
    *,
    community: str,
    group: str,
    fmt: str = "auto",
    tz: str | None = None,
    progress: Callable[[int], None] | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Import one export file; ``progress`` is told the bytes read as the parser reads them.

    Raises ImportFormatError when the format is not recognised or the file is unreadable.
    """
    from qunzhu.adapters import importers

    chosen = importers.detect(path) if fmt == "auto" else fmt
    zone = ZoneInfo(tz) if tz else store.settings.tz
    name = str(source or path)
    tally = ImportTally(file=name, format=chosen)
    rows = importers.parse_rows(
        path, chosen, community=community, group=group, tz=zone, progress=progress
    )
    where = (community, importers.platform_of(chosen), group)
    with _gc_paused():
        report = load(store, tally.counted(rows), where, source=name)
    return {**summary(tally, report), **rows.notes.as_dict()}


def load(
    store: Store, rows: Iterable[Row], where: tuple[str, str, str], *, source: str
) -> IngestReport:
    """Store one file's rows into the group ``where`` = (community slug, platform, group)."""
    community, platform, group = where
    pipeline = build_pipeline(store, "import", create_communities=True)
    report = IngestReport()
    with store.engine.connect() as conn, _bulk_pragmas(conn):
        resolver = Resolver(conn, create_communities=True)
        recent = RecentMessages()
        with conn.begin():
            community_id = resolver.community(community)
            group_id = resolver.group(community_id, platform, group)
        messages = BulkMessages(
            conn,
            resolver,
            community_id=community_id,
            group_id=group_id,
            platform=platform,
            tz=store.settings.tz,
        )
        per_transaction = store.settings.bulk_import_chunk_size
        held = 0  # records the open transaction holds
        transaction: RootTransaction | None = None
        it = iter(rows)
        try:
            while chunk := list(islice(it, min(per_transaction, BULK_BATCH_RECORDS))):
                if transaction is None:
                    transaction, held = conn.begin(), 0
                posted = [r for r in chunk if type(r) is Posted]
                others = []
                if len(posted) < len(chunk):
                    others = [r for r in chunk if type(r) is not Posted]
                done = IngestReport(received=len(chunk))
                try:
                    # the first batch of a transaction needs no savepoint: a failure rolls
                    # back the transaction itself, which holds nothing else
                    with conn.begin_nested() if held else nullcontext():
                        if others:  # members made in the order the pipeline makes them
                            _meet(resolver, community_id, platform, chunk)
                        written = messages.write(posted)
                        if others:
                            pipeline.process(conn, resolver, recent, others, source, done)
                except Exception as exc:  # replayed event by event: the pipeline's one handler
                    log.warning("import chunk failed, isolating events: %s", exc)
                    if held:
                        transaction.commit()  # the batches before this one are sound
                    else:
                        transaction.rollback()
                    transaction = None
                    resolver.forget_since_rollback()
                    recent.forget()
                    messages.forget()
                    done = IngestReport(received=len(chunk))
                    events = [
                        r.event(platform, community, group) if type(r) is Posted else r
                        for r in chunk
                    ]
                    pipeline.isolate(conn, resolver, recent, events, source, done)
                else:
                    held += len(chunk)
                    if held >= per_transaction:
                        transaction.commit()
                        transaction = None
                    done.added += written.added
                    done.duplicates += written.duplicates
                    done.replies += written.replies
                    if written.added:
                        done.by_type["message_posted"] = (
                            done.by_type.get("message_posted", 0) + written.added
                        )
                report.absorb(done)
            if transaction is not None:
                transaction.commit()
        except BaseException:
            if transaction is not None and transaction.is_active:
                transaction.rollback()  # Ctrl-C or a failed commit: the open batches go
            raise
        report.new_members = resolver.new_members
    return report


def _meet(resolver: Resolver, community_id: int, platform: str, chunk: list[Row]) -> None:
    """Create the members a chunk names as the pipeline does for its events: each row's
    member in file order (first seen = their first row, messages or not), then the second
    members (inviters, removers)."""
    wanted: list[tuple[str, str, datetime]] = []
    seconds: list[tuple[str, str, datetime]] = []
    # a member's first row is the one that counts (members_for keeps the first it is given):
    # the messages of members already met need not be handed over at all
    met: set[str] = set()
    for row in chunk:
        if type(row) is Posted:
            if row.member not in met:
                met.add(row.member)
                wanted.append((row.member, row.member_name, row.occurred_at))
        elif isinstance(row, ev.Event):
            met.add(row.member)
            wanted.append((row.member, getattr(row, "member_name", ""), row.occurred_at))
            other = second_member(row)
            if other:
                seconds.append((other, "", row.occurred_at))
    resolver.members_for(community_id, platform, wanted + seconds)


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while imports run (counted: the API runs them in threads).

    An import keeps a chunk of tens of thousands of tuples alive; every collection walks them
    all again, which cost a sixth of a WeChat import. What an import frees, reference counting
    frees; cycles made meanwhile (by anyone in the process) wait until the last import ends."""
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


@contextmanager
def _bulk_pragmas(conn: Connection) -> Iterator[None]:
    """SQLite, for the length of one import: a bigger page cache (the random idempotency keys
    touch pages all over their index), fewer WAL checkpoints (each one copies the WAL back
    and syncs), and no foreign-key lookups — three per message, for ids this import has just
    read or made itself, and the import deletes nothing that would cascade. The pooled
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
# such batches, each in a savepoint, so that commits stay few without the memory of a whole
# transaction's records
BULK_BATCH_RECORDS = 50_000
BULK_CHECKPOINT_PAGES = 16_384
