"""Import a chat export: its parser, the import pipeline, and a tally of what the file held.

Used by `qunzhu import` and the API's upload. The parser streams, messages as light tuples
(:class:`~qunzhu.adapters.importers.Posted`), the rest as events and rejects; all of it goes
through the one :class:`~qunzhu.pipeline.Pipeline`, built for mode ``import`` (its bulk
writer: messages by one ``executemany`` per chunk, several chunks per transaction). A re-run
(after Ctrl-C, a kill, or on an overlapping export) adds only what is missing; a chunk that
fails is isolated by the pipeline's one handler, which quarantines what still fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.adapters.importers.common import Posted, Stored
from qunzhu.pipeline import Batch, IngestReport, Pipeline
from qunzhu.spec.zones import spec_zone
from qunzhu.store import Store
from qunzhu.store.batch import Place
from qunzhu.store.chunk_transactions import RunsRolledBack
from qunzhu.store.models import Community
from qunzhu.store.quarantine import RejectedRecord
from qunzhu.wiring import build_pipeline


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
    date_order: str | None = None,
) -> dict[str, Any]:
    """Import one export file; ``progress`` is told the bytes read as the parser reads them.
    ``date_order`` (dmy, mdy, ymd) settles the dates of a WhatsApp export the file itself
    cannot settle.

    Raises ImportFormatError when the format is not recognised, the file is unreadable, or
    its dates cannot be read without ``date_order``.
    """
    with ImportBatch.of(store) as batch:
        return batch.import_file(
            path,
            community=community,
            group=group,
            fmt=fmt,
            tz=tz,
            progress=progress,
            source=source,
            date_order=date_order,
        )


class ImportBatch:
    """Several files imported one after the other (``qunzhu import a.log b.log …``) through
    one import pipeline whose transactions run on from file to file.

    A file of an IRC log holds about a thousand messages, and each of them lands on a page
    of its own in the random-keyed indexes (idempotency key, platform id): a commit per
    file wrote each such page again for every file, 27 GB of WAL for a 550 MB database of a
    million messages in 797 files, most of the import's system time and the wait for the
    disk at each checkpoint. Here a transaction holds ``bulk_import_chunk_size`` records
    whatever the files, as within one big file. What that keeps: a file that fails (an
    unreadable line, a store error) is rolled back with the files before it in the open
    transaction, which are then stored again and committed, and the failed file goes on
    alone, as it would in a transaction of its own — what is stored is what one file at a
    time stores; the import is committed when the batch ends; an interruption (Ctrl-C, a
    kill, a crash) loses at most the open transaction — SQLite rolls it back, the database
    stays whole — and a re-run adds it (idempotency keys). The files' tallies are their
    own, as with one file at a time."""

    def __init__(self, store: Store, pipeline: Pipeline, batch: Batch) -> None:
        self.store = store
        self.pipeline = pipeline
        self.batch = batch
        # the files whose records the open transaction may hold, with their arguments
        self.pending: list[tuple[Path, dict[str, Any]]] = []

    @classmethod
    @contextmanager
    def of(cls, store: Store) -> Iterator[ImportBatch]:
        pipeline = build_pipeline(store, "import", create_communities=True)
        with pipeline.batch() as batch:
            yield cls(store, pipeline, batch)

    def import_file(
        self,
        path: Path,
        *,
        community: str,
        group: str,
        fmt: str = "auto",
        tz: str | None = None,
        progress: Callable[[int], None] | None = None,
        source: str | None = None,
        date_order: str | None = None,
    ) -> dict[str, Any]:
        """One file, as :func:`import_file`."""
        how: dict[str, Any] = dict(
            community=community, group=group, fmt=fmt, tz=tz, source=source, date_order=date_order
        )
        transactions = self.batch.transactions
        commits = transactions.commits
        try:
            done = self._import(path, progress=progress, **how)
        except RunsRolledBack:
            # the files before it in the open transaction went too: again, then committed
            for earlier, their in self.pending:
                self._import(earlier, progress=None, **their)
            self.commit()
            done = self._import(path, progress=progress, **how)  # alone now
            self.pending = [] if transactions.open is None else [(path, how)]
            return done
        if transactions.open is None:
            self.pending = []  # all of it committed
        elif transactions.commits != commits:
            self.pending = [(path, how)]  # its tail alone is uncommitted
        else:
            self.pending.append((path, how))
        return done

    def commit(self) -> None:
        self.batch.commit()
        self.pending = []

    def _import(
        self,
        path: Path,
        *,
        community: str,
        group: str,
        fmt: str,
        tz: str | None,
        progress: Callable[[int], None] | None,
        source: str | None,
        date_order: str | None,
    ) -> dict[str, Any]:
        from qunzhu.adapters import importers

        store = self.store
        try:
            chosen = importers.detect(path) if fmt == "auto" else fmt
            stored = importers.group_of(path, chosen, group)
            if stored != group:  # the relabel writes through a connection of its own
                self.commit()
            moved = _adopt_group(store, path, chosen, community, group, stored)
            zone = ZoneInfo(tz) if tz else self._zone(community, stored, group)
            rows = importers.parse_rows(
                path,
                chosen,
                community=community,
                group=group,
                tz=zone,
                progress=progress,
                stored_group=stored,
                date_order=date_order,
            )
        except BaseException:
            self.commit()  # the files before this one, each whole; nothing of this one yet
            raise
        name = str(source or path)
        tally = ImportTally(file=name, format=chosen)
        where = Place(community, importers.platform_of(chosen), rows.where[2])
        report = self.pipeline.run(tally.counted(rows), source=name, place=where, batch=self.batch)
        notes = rows.notes.as_dict()
        if stored != group:
            notes["decided"] = [
                f"--group {group} names the exported chat: stored as group {stored}, the id its "
                "live connector knows, so history and live meet in one group",
                *([moved] if moved else []),
                *notes["decided"],
            ]
        return {**summary(tally, report), **notes, "group": stored}

    def _zone(self, community: str, group: str, label: str) -> tzinfo:
        if self.batch.transactions.open is None:  # nothing uncommitted: as a file alone
            return import_zone(self.store, community, group, label)
        # in the batch's open transaction: it sees a community an earlier file made
        text = self.batch.conn.scalar(
            select(Community.spec_yaml).where(Community.slug == community)
        )
        return zone_of(text, self.store.settings.tz, group, label)


def _adopt_group(
    store: Store, path: Path, fmt: str, community: str, label: str, stored: str
) -> str | None:
    """An earlier import of the chat under ``label`` moves to ``stored`` (its live id)."""
    from qunzhu.adapters import importers
    from qunzhu.adapters.importers.relabel import GroupsToMerge, relabel

    if stored == label:
        return None
    module = importers.module_for(fmt)
    try:
        with store.unit_of_work() as session:
            return relabel(
                session.connection(),
                community,
                module.PLATFORM,
                label,
                stored,
                getattr(module, "service_keys", None),
            )
    except GroupsToMerge as exc:
        raise importers.ImportFormatError(path, str(exc)) from None


def import_zone(store: Store, community: str, group: str, label: str | None = None) -> tzinfo:
    """The zone of times an export writes without one, when the import names none: the
    group's in the community's spec (under its stored id, else under the ``--group`` the
    operator gave, which a spec written before ids were mapped uses), else the community's,
    else QUNZHU_TIMEZONE."""
    with store.reading() as session:
        text = session.scalar(select(Community.spec_yaml).where(Community.slug == community))
    return zone_of(text, store.settings.tz, group, label)


def zone_of(text: str | None, default: tzinfo, group: str, label: str | None = None) -> tzinfo:
    """:func:`import_zone` from the community's spec text (None: no such community)."""
    own = spec_zone(text, default, group)
    if label and label != group and own == spec_zone(text, default):
        return spec_zone(text, default, label)
    return own


def load(
    store: Store, rows: Iterable[Stored], where: tuple[str, str, str], *, source: str
) -> IngestReport:
    """Store one file's rows into the group ``where`` = (community slug, platform, group):
    the import pipeline (bulk writer) run over them."""
    pipeline = build_pipeline(store, "import", create_communities=True)
    return pipeline.run(rows, source=source, place=Place(*where))
