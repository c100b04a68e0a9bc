"""The pipeline: one explicit ordered loop from normalized events to the store.

For each chunk of records, in one transaction (or a savepoint inside one)::

    quarantine rejects → dedupe → resolve ids → moderate → store → rollups → react

Every entry point runs it (``qunzhu import`` and the API's upload, ``qunzhu ingest``,
``POST /events``, webhooks, the worker, the demo), configured in :mod:`qunzhu.wiring` with
its reactors and a writer strategy for the store stage
(:mod:`qunzhu.store.write_strategies`): per event, one transaction per chunk; or bulk for
chat exports, which also stores *rows* (messages without an Event each, of the run's one
``place``) and holds several chunks per transaction. ``run`` is the entry point;
``ingest_one`` is a run of one event. The same record delivered twice changes nothing:
every table a record lands in is unique on its idempotency key, and only rows really
inserted have effects.

Control flow uses a few named exceptions::

    PipelineError                 base; carries ``permanent`` for callers that retry
    └── StageFailed               a stage raised; the chunk is retried one event at a time,
                                  and the event that still fails goes to quarantine
    UnknownCommunity (LookupError, from the store) the event names no known community:
                                  that event goes to quarantine, the others go on
    TransactionLost (RuntimeError, from the store) the commit of a transaction of several
                                  chunks (bulk) failed: the chunks before are no longer
                                  held, so the run stops; a re-run adds what it lost

A failing stage never stops the loop: the one error handler (:meth:`Pipeline.isolate`)
decides what is kept and what is quarantined, whatever the writer, and the loop goes on
with the next chunk. The chunks before it in the same transaction are kept.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection

from qunzhu import events as ev
from qunzhu.stages import ModerationOutcome, Moderator, Reactor, Rejected
from qunzhu.store.batch import Place, Resolved, Written
from qunzhu.store.chunk_transactions import ChunkTransactions, RunsRolledBack, TransactionLost
from qunzhu.store.messages_write import Posted
from qunzhu.store.quarantine import RejectedRecord, quarantine_rows
from qunzhu.store.resolve import Resolver, UnknownCommunity
from qunzhu.store.rollups import update_rollups
from qunzhu.store.session import Store
from qunzhu.store.write_strategies import ChunkWriter, PerEventWriter, WriterStrategy

log = logging.getLogger(__name__)


class PipelineError(Exception):
    permanent = True


class StageFailed(PipelineError):
    def __init__(self, stage: str, cause: BaseException) -> None:
        super().__init__(f"{stage} failed: {type(cause).__name__}: {cause}")
        self.stage = stage
        self.cause = cause


@dataclass
class IngestReport:
    """What a run did; ``added`` counts events new to the database."""

    received: int = 0
    added: int = 0
    duplicates: int = 0
    new_members: int = 0
    replies: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    actions: list[ev.Action] = field(default_factory=list)

    def count(self, type_name: str) -> int:
        return self.by_type.get(type_name, 0)

    def absorb(self, other: IngestReport) -> None:
        """Add another run's figures to this one (one report for a load made of two runs)."""
        self.received += other.received
        self.added += other.added
        self.duplicates += other.duplicates
        self.new_members += other.new_members
        self.replies += other.replies
        for name, n in other.by_type.items():
            self.by_type[name] = self.by_type.get(name, 0) + n
        self.quarantined.extend(other.quarantined)
        self.actions.extend(other.actions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "added": self.added,
            "duplicates": self.duplicates,
            "new_members": self.new_members,
            "replies": self.replies,
            "by_type": dict(self.by_type),
            "quarantined": list(self.quarantined),
            "actions": [a.kind for a in self.actions],
        }


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


@dataclass
class Batch:
    """Runs on one connection whose transactions span them (:meth:`Pipeline.batch`)."""

    conn: Connection
    transactions: ChunkTransactions

    def commit(self) -> None:
        """Commit what the batch holds now (before a write through another connection)."""
        self.transactions.commit()


@dataclass
class RunState:
    """What one run holds from chunk to chunk: its connection, the ids found so far, the
    writer strategy's writer, and the group its rows belong to."""

    conn: Connection
    resolver: Resolver
    writer: ChunkWriter
    place: Place | None

    def forget(self) -> None:
        """After a rollback: ids made inside it no longer exist."""
        self.resolver.forget_since_rollback()
        self.writer.forget()


class Pipeline:
    def __init__(
        self,
        store: Store,
        *,
        create_communities: bool = False,
        moderator: Moderator | None = None,
        reactors: Sequence[Reactor] = (),
        chunk_size: int | None = None,
        decisions: Callable[[Connection, list[ev.Action], str], list[ev.Action]] | None = None,
        writer: WriterStrategy | None = None,
    ) -> None:
        self.store = store
        # where decided actions are recorded in the chunk's transaction (the outbox; see
        # qunzhu.store.outbox_decisions); None: only reported (imports, history, tests)
        self.decisions = decisions
        self.create_communities = create_communities
        self.moderator = moderator
        self.reactors = list(reactors)
        self.chunk_size = chunk_size or store.settings.import_chunk_size
        self.writer: WriterStrategy = writer or PerEventWriter()
        if self.writer.takes_rows and (moderator is not None or self.reactors):
            # rows are stored without an Event each: nothing would moderate or react to them
            raise ValueError(
                f"the {self.writer.name} writer stores rows no moderator or reactor sees; "
                "give a pipeline with a moderator or reactors the per-event writer"
            )
        self.tz = store.settings.tz
        # Row ids of communities known to exist, kept from one run to the next: a live batch
        # of one event otherwise spends one of its ~20 statements finding it again. A deleted
        # community's id fails its foreign key and the chunk is retried event by event with
        # the cache emptied. Members are not kept: erasing one (another process, `qunzhu
        # members forget`) pseudonymizes its identities, and a cached id would attach the
        # person's new messages to the erased record. Groups are not kept either: a migrated
        # chat's old id must not lead to its new group.
        self._known_lock = threading.Lock()
        self._known_communities: dict[str, int] = {}
        # those of the runs of the open batch, kept once it committed
        self._batch_communities: dict[str, int] = {}

    def ingest_one(self, event: ev.Event, *, source: str = "live") -> IngestReport:
        return self.run([event], source=source)

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Runs (:meth:`run` with ``batch``) on one connection, whose transactions go on from
        one run to the next: a bulk import of many files commits every ``per_transaction``
        records and at the end, not after each file. A run that fails takes the earlier runs
        of its transaction with it (:class:`RunsRolledBack`, see :meth:`ChunkTransactions.run`:
        the caller stores them again); what an interruption loses is at most one
        transaction's records, as within one big file, and a re-run adds it."""
        per_chunk, per_transaction = self.writer.batching(self.chunk_size)
        with (
            self.store.engine.connect() as conn,
            self.writer.prepare(conn),
            ChunkTransactions(conn, per_chunk, per_transaction, across_runs=True) as held,
        ):
            yield Batch(conn, held)
        # committed: the ids its runs found may be kept for later runs
        self._keep_communities({**self._known_communities, **self._batch_communities})
        self._batch_communities = {}

    def run(
        self,
        items: Iterable[ev.Event | Posted | Rejected | RejectedRecord],
        *,
        source: str,
        progress: Callable[[int], None] | None = None,
        place: Place | None = None,
        batch: Batch | None = None,
    ) -> IngestReport:
        """Store ``items`` chunk after chunk; ``progress`` is told each chunk's size once it
        is done. Rows (:class:`Posted`) belong to ``place``; the writer strategy stores them
        as they are or the pipeline makes events of them. In a ``batch`` (see
        :meth:`batch`) the run's last records may be committed with the next run's."""
        if batch is not None:
            with batch.transactions.run():
                report, communities = self._run(
                    batch.conn, batch.transactions, items, source, progress, place
                )
            self._batch_communities.update(communities)
            return report
        per_chunk, per_transaction = self.writer.batching(self.chunk_size)
        with (
            self.store.engine.connect() as conn,
            self.writer.prepare(conn),
            ChunkTransactions(conn, per_chunk, per_transaction) as transactions,
        ):
            report, communities = self._run(conn, transactions, items, source, progress, place)
        # only now: what the resolver holds was committed (a rolled-back chunk emptied it)
        self._keep_communities(communities)
        return report

    def _keep_communities(self, communities: dict[str, int]) -> None:
        with self._known_lock:
            self._known_communities = dict(communities)

    def _run(
        self,
        conn: Connection,
        transactions: ChunkTransactions,
        items: Iterable[ev.Event | Posted | Rejected | RejectedRecord],
        source: str,
        progress: Callable[[int], None] | None,
        place: Place | None,
    ) -> tuple[IngestReport, dict[str, int]]:
        report = IngestReport()
        per_chunk = transactions.per_chunk
        resolver = Resolver(conn, create_communities=self.create_communities)
        with self._known_lock:
            resolver.communities.update(self._known_communities)
        with self.writer.open(conn, resolver, place, self.tz) as writer:
            run = RunState(conn, resolver, writer, place)
            for chunk in _chunks(items, per_chunk):
                offset = report.received  # where the chunk starts in ``items``
                report.received += len(chunk)
                done = IngestReport()
                try:
                    with transactions.holding(len(chunk)):
                        self.process(run, chunk, source, done)
                except (TransactionLost, RunsRolledBack):  # nothing left to isolate: it stops
                    raise
                except Exception as exc:  # one handler for every stage; the loop goes on
                    log.warning("chunk failed, isolating events: %s", exc)
                    transactions.failed()
                    run.forget()
                    done = IngestReport()
                    self.isolate(run, chunk, source, done, offset)
                report.absorb(done)
                if progress is not None:
                    progress(len(chunk))
        report.new_members = resolver.new_members
        return report, dict(resolver.communities)

    def isolate(
        self, run: RunState, chunk: list[Any], source: str, report: IngestReport, offset: int = 0
    ) -> None:
        """After a failed chunk: each item in its own transaction, what fails to quarantine,
        reported with its ``index`` in the run's items (the chunk starts at ``offset``)."""
        conn = run.conn
        for index, item in enumerate(chunk, start=offset):
            done = IngestReport()
            try:
                if type(item) is Posted:  # one at a time, an event says more in quarantine
                    item = _event_of(item, run.place)
                with conn.begin():
                    self.process(run, [item], source, done)
            except Exception as exc:
                run.forget()
                failure = exc if isinstance(exc, PipelineError) else StageFailed("store", exc)
                record = RejectedRecord(
                    source=source,
                    line=0,
                    reason=str(failure),
                    text=_describe(item),
                    location=f"item {index + 1}",
                )
                done = IngestReport()
                with conn.begin():
                    self._quarantine(conn, [record], done)
                done.quarantined[-1]["index"] = index
            report.absorb(done)

    def _quarantine(
        self,
        conn: Connection,
        records: Sequence[Any],
        report: IngestReport,
        community_id: int | None = None,
    ) -> None:
        quarantine_rows(conn, records, community_id)
        report.quarantined.extend(
            {"source": r.source, "line": r.line, "reason": r.reason} for r in records
        )

    def process(self, run: RunState, chunk: list[Any], source: str, report: IngestReport) -> None:
        """One chunk, every stage, inside the caller's transaction."""
        conn, resolver = run.conn, run.resolver
        resolver.bind(conn)
        rows, events, rejects = self._sort(run, chunk, report)
        if rejects:
            self._quarantine(conn, rejects, report)
        if rows and events:  # members made in the order the chunk names them
            _meet(resolver, run.place, chunk)
        resolved = self._resolve(resolver, events, source, conn, report)
        outcome = ModerationOutcome()
        if self.moderator is not None:
            outcome = self.moderator(
                conn, [r for r in resolved if isinstance(r.event, ev.MessagePosted)]
            )
            for r in resolved:
                r.flagged = r.event.key in outcome.flagged
        written = run.writer.write(resolved, rows)
        _count_written(report, resolved, written)
        update_rollups(conn, written)
        if outcome.after_store is not None:
            outcome.after_store(conn, written)
        new_keys = {r.event.key for items in written.new.values() for r in items}
        decided = [a for a in outcome.actions if a.detail.get("event") in new_keys]
        for react in self.reactors:
            decided.extend(react(conn, written))
        if self.decisions is not None and decided:  # with the events that caused them
            decided = self.decisions(conn, decided, source)
        report.actions.extend(decided)

    def _sort(
        self, run: RunState, chunk: list[Any], report: IngestReport
    ) -> tuple[list[Posted], list[ev.Event], list[Any]]:
        """A chunk's rows, events (each key once: dedupe within the chunk before the database
        does) and rejects; rows become events for a writer that takes none."""
        if not self.writer.takes_rows and any(type(item) is Posted for item in chunk):
            chunk = [_event_of(i, run.place) if type(i) is Posted else i for i in chunk]
        rows = [item for item in chunk if type(item) is Posted]
        if len(rows) == len(chunk):  # the hot path of an import: rows only
            return rows, [], []
        events: list[ev.Event] = []
        rejects: list[Any] = []
        seen: set[str] = set()
        for item in chunk:
            if type(item) is Posted:
                continue
            if not isinstance(item, ev.Event):
                rejects.append(item)
            elif item.key in seen:
                report.duplicates += 1
            else:
                seen.add(item.key)
                events.append(item)
        return rows, events, rejects

    def _resolve(
        self,
        resolver: Resolver,
        events: list[ev.Event],
        source: str,
        conn: Connection,
        report: IngestReport,
    ) -> list[Resolved]:
        out: list[Resolved] = []
        unknown: list[RejectedRecord] = []
        by_place: dict[tuple[str, str], list[ev.Event]] = {}
        for e in events:
            by_place.setdefault((e.community, e.platform), []).append(e)
        for (slug, platform), group in by_place.items():
            try:
                community_id = resolver.community(slug)
            except UnknownCommunity as exc:
                unknown.extend(
                    RejectedRecord(source=source, line=0, reason=str(exc), text=_describe(e))
                    for e in group
                )
                continue
            others = [_other(e) for e in group]
            wanted = [(e.member, getattr(e, "member_name", ""), e.occurred_at) for e in group]
            wanted += [(o, "", e.occurred_at) for e, o in zip(group, others, strict=True) if o]
            resolver.members_for(community_id, platform, wanted)
            bots = [e.member for e in group if getattr(e, "member_is_bot", False)]
            if bots:
                resolver.mark_bots(community_id, platform, bots)
            members = resolver.members
            tz = self.tz
            for e, o in zip(group, others, strict=True):
                out.append(
                    Resolved(
                        event=e,
                        community_id=community_id,
                        group_id=resolver.group(community_id, platform, e.group),
                        member_id=members[(community_id, platform, e.member)],
                        day=e.occurred_at.astimezone(tz).date(),
                        other_member_id=members[(community_id, platform, o)] if o else None,
                    )
                )
        if unknown:
            self._quarantine(conn, unknown, report)
        return out


def _count_written(report: IngestReport, resolved: list[Resolved], written: Written) -> None:
    new = sum(len(v) for v in written.new.values())
    report.added += new + written.rows_added
    report.duplicates += len(resolved) - new + written.rows_duplicate
    report.replies += written.replies
    for type_name, items in written.new.items():
        report.by_type[type_name] = report.by_type.get(type_name, 0) + len(items)
    if written.rows_added:  # rows are messages
        posted = report.by_type.get("message_posted", 0)
        report.by_type["message_posted"] = posted + written.rows_added


def _meet(resolver: Resolver, place: Place | None, chunk: list[Any]) -> None:
    """Make the members of a chunk of rows and events of the place's group in the order
    they come (first seen = their first row, message or not), then the second members
    (inviters, removers), as :meth:`Pipeline._resolve` makes them for events alone."""
    if place is None:
        return
    community_id = resolver.community(place.community)
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
        elif isinstance(row, ev.Event) and (row.community, row.platform) == place[:2]:
            met.add(row.member)
            wanted.append((row.member, getattr(row, "member_name", ""), row.occurred_at))
            other = _other(row)
            if other:
                seconds.append((other, "", row.occurred_at))
    resolver.members_for(community_id, place.platform, wanted + seconds)


def _event_of(row: Posted, place: Place | None) -> ev.MessagePosted:
    if place is None:
        raise TypeError("rows need the run's place (community, platform, group)")
    return row.event(place.platform, place.community, place.group)


def _other(e: ev.Event) -> str | None:
    """The second member an event names: inviter of a join, remover of a removal."""
    if type(e) is ev.MessagePosted:  # the common case, checked first on the hot path
        return None
    if isinstance(e, ev.MemberJoined | ev.InviteUsed):
        return e.inviter or None
    if isinstance(e, ev.MemberLeft):
        return e.by or None
    return None


def _describe(item: Any) -> str:
    if isinstance(item, ev.Event):
        text = json.dumps(item.to_json(), ensure_ascii=False, default=str)[:4000]
    else:
        text = str(getattr(item, "text", item))[:4000]
    return text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be stored
