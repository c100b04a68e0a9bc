"""The value engine in the pipeline: score new messages, credit reactions and check-ins, in
the same transaction as the chunk that stored them.

Use it as ``Pipeline(store, reactors=[ValueScorer(store.settings.tz)])``. Whatever it did not
see (history loaded without it) ``qunzhu recompute`` catches up, counting nothing twice.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select

from qunzhu import events as ev
from qunzhu.engines.credits import CheckIn, Reaction, check_in_credits, reaction_credits
from qunzhu.engines.score_writes import write_credits
from qunzhu.engines.scoring import MsgRow, chunked, score_rows
from qunzhu.engines.specs import EngineSpec, SpecCache, engine_spec_from_yaml
from qunzhu.spec.members import ValueWeights
from qunzhu.store.base import table_of
from qunzhu.store.batch import Written
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.intelligence import EventCredit
from qunzhu.store.models import CheckInRecord, EventLogEntry, Message
from qunzhu.store.resolve import community_specs


class CurrentSpecs(SpecCache):
    """Engine specs that follow edits: the stored text is read once per transaction (shared
    with the other stages, :func:`~qunzhu.store.resolve.community_specs`) and parsed again only
    when it changed. A long-lived live pipeline scores the next batch with an edited spec."""

    def __init__(self) -> None:
        super().__init__()
        self._parsed: dict[int, tuple[str | None, EngineSpec]] = {}

    def get(self, conn: Connection, community_id: int) -> EngineSpec:
        row = community_specs(conn, (community_id,)).get(community_id)
        text = row.spec_yaml if row is not None else None
        cached = self._parsed.get(community_id)
        if cached is None or cached[0] != text:
            cached = self._parsed[community_id] = (text, engine_spec_from_yaml(text))
        return cached[1]


class ValueScorer:
    """A pipeline :class:`~qunzhu.pipeline.Reactor`; it returns no actions."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.specs: SpecCache = CurrentSpecs()

    def __call__(self, conn: Connection, written: Written) -> list[ev.Action]:
        rows: list[MsgRow] = []
        linked = False  # only a message naming its target gets a reply link from the writer
        for r in written.of("message_posted"):
            e = r.event
            assert isinstance(e, ev.MessagePosted)
            mid = written.message_ids.get(e.key)
            if mid is None:
                continue
            linked = linked or bool(e.reply_to)
            rows.append(
                MsgRow(
                    mid,
                    r.community_id,
                    r.group_id,
                    r.member_id,
                    r.day,
                    e.occurred_at,
                    e.text,
                    e.kind,
                    r.flagged,
                    None,
                    reply_inferred=e.reply_inferred,
                )
            )
        if rows:
            if linked:
                links = _reply_links(conn, [r.id for r in rows])
                for row in rows:
                    row.reply_to_id = links.get(row.id)
            score_rows(conn, self.specs, rows)
        reactions = written.of("reaction_added")
        if reactions:
            log = table_of(EventLogEntry)
            keys = [r.event.key for r in reactions]
            ids: list[int] = []
            for community_id in {r.community_id for r in reactions}:
                for part in chunked(keys):
                    ids += [
                        i
                        for (i,) in conn.execute(
                            select(log.c.id).where(
                                log.c.community_id == community_id, log.c.key.in_(part)
                            )
                        )
                    ]
            credit_reactions(conn, self.specs, self.tz, ids)
        check_ins = written.of("check_in")
        if check_ins:
            table = table_of(CheckInRecord)
            ids = []
            for community_id in {r.community_id for r in check_ins}:
                for part in chunked([r.event.key for r in check_ins]):
                    ids += [
                        i
                        for (i,) in conn.execute(
                            select(table.c.id).where(
                                table.c.community_id == community_id, table.c.key.in_(part)
                            )
                        )
                    ]
            credit_check_ins(conn, self.specs, self.tz, ids)
        return []


_m = table_of(Message)
_REPLY_LINKS = select(_m.c.id, _m.c.reply_to_id).where(
    _m.c.id.in_(bindparam("ids", expanding=True)), _m.c.reply_to_id.isnot(None)
)


def _reply_links(conn: Connection, ids: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for part in chunked(ids):
        out.update({i: t for i, t in conn.execute(_REPLY_LINKS, {"ids": part})})
    return out


def _claim(conn: Connection, kind: str, rows: list[tuple[int, int]]) -> set[int]:
    """Insert credit markers for (ref id, community id); return the ids new here."""
    credit = table_of(EventCredit)
    claimed: set[int] = set()
    for part in chunked(rows, 2000):
        claimed.update(
            i
            for (i,) in insert_ignoring_conflicts(
                conn,
                credit,
                [{"kind": kind, "ref_id": r, "community_id": c} for r, c in part],
                credit.c.ref_id,
            )
        )
    return claimed


def credit_reactions(conn: Connection, specs: SpecCache, tz: tzinfo, log_ids: list[int]) -> int:
    """A reaction from another member adds ``reaction`` to the author's value that day."""
    log, m = table_of(EventLogEntry), table_of(Message)
    found: list[Any] = []
    for part in chunked(log_ids):
        found += list(
            conn.execute(
                select(
                    log.c.id,
                    log.c.community_id,
                    log.c.group_id,
                    log.c.member_id,
                    log.c.occurred_at,
                    m.c.member_id,
                )
                .select_from(
                    log.join(
                        m,
                        and_(
                            m.c.group_id == log.c.group_id,
                            m.c.platform_message_id == log.c.detail["message_id"].as_string(),
                        ),
                    )
                )
                .where(log.c.id.in_(part), log.c.type == "reaction_added")
            )
        )
    # a member reacting to their own message earns nothing
    usable = [
        Reaction(lid, c, g, at, author) for lid, c, g, by, at, author in found if by != author
    ]
    claimed = _claim(conn, "reaction", [(r.log_id, r.community_id) for r in usable])
    weights = _weights(conn, specs, {r.community_id for r in usable})
    write_credits(conn, reaction_credits(usable, claimed, weights, tz))
    return len(claimed)


def credit_check_ins(conn: Connection, specs: SpecCache, tz: tzinfo, ids: list[int]) -> int:
    table = table_of(CheckInRecord)
    found: list[CheckIn] = []
    for part in chunked(ids):
        found += [
            CheckIn(*row)
            for row in conn.execute(
                select(
                    table.c.id,
                    table.c.community_id,
                    table.c.group_id,
                    table.c.member_id,
                    table.c.occurred_at,
                ).where(table.c.id.in_(part))
            )
        ]
    claimed = _claim(conn, "check_in", [(ci.check_in_id, ci.community_id) for ci in found])
    weights = _weights(conn, specs, {ci.community_id for ci in found})
    write_credits(conn, check_in_credits(found, claimed, weights, tz))
    return len(claimed)


def _weights(conn: Connection, specs: SpecCache, communities: set[int]) -> dict[int, ValueWeights]:
    return {c: specs.get(conn, c).weights for c in communities}
