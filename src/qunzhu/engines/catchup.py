"""Score what the live path did not: history imported without the scorer, or everything
again after the weights changed (``rescore``). Reads raw messages once; everything after
reads the rollups.

A cursor per community (``score_cursors``) remembers the highest message, reaction and
check-in id a run has looked at, so the daily run reads only rows written since, not the
whole messages table. It starts :data:`CURSOR_LAG` ids back: a row written by a transaction
still open during the last run has a lower id than rows committed before it.
``reset_scores`` drops the cursor, so a rescore reads everything again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy import Connection, delete, func, insert, literal_column, select, update
from sqlalchemy.engine.processors import int_to_boolean

from qunzhu.engines.answered import OpenQuestions
from qunzhu.engines.fastio import convert_rows, fetch_raw
from qunzhu.engines.reactor import credit_check_ins, credit_reactions
from qunzhu.engines.score_writes import copy_values
from qunzhu.engines.scoring import MsgRow, score_rows
from qunzhu.engines.scoring_reads import SaidThisRun
from qunzhu.engines.specs import SpecCache
from qunzhu.store.base import table_of
from qunzhu.store.intelligence import (
    EventCredit,
    MemberDayStats,
    MessageScore,
    Question,
    ReplyEdgeDaily,
    ScoreCursor,
)
from qunzhu.store.models import (
    CheckInRecord,
    EventLogEntry,
    GroupDaily,
    MemberDaily,
    Message,
)

PAGE = 5000
CURSOR_LAG = 100_000


@dataclass
class CatchUp:
    messages: int = 0
    reactions: int = 0
    check_ins: int = 0


def _by_id(column: Any) -> Any:
    """The community filter as an expression no index answers: SQLite otherwise walks
    every message of the community through (community_id, key) and sorts them by id for
    each page (a first catch-up of 1M messages read them 200 times); this way it walks the
    primary key from the cursor and stops at the page's end."""
    return column + literal_column("0")


# the columns of a page (catch_up's select) converted by _msg_rows itself: the time, and
# the flags, which MsgRow holds as bools whatever the driver gives
_TIME, _FLAGS = 4, (7, 9, 10)


def _msg_rows(
    page: list[Any], converters: list[Callable[[Any], Any] | None], tz: tzinfo
) -> list[MsgRow]:
    """A page's rows as the driver gave them, as MsgRows in one pass: each distinct time
    parsed once (chat logs stamp to the minute: most messages share theirs with a
    neighbour) and given its day in ``tz``, the flags made bools."""
    if any(
        p is not None and i != _TIME and not (i in _FLAGS and p is int_to_boolean)
        for i, p in enumerate(converters)
    ):  # a column this pass does not convert: convert every value first, as fetch_all does
        page = convert_rows(page, [None if i == _TIME else p for i, p in enumerate(converters)])
    parse = converters[_TIME] or _same
    when = {raw: parse(raw) for raw in {r[_TIME] for r in page}}
    days = {raw: at.astimezone(tz).date() for raw, at in when.items()}
    return [
        MsgRow(
            i,
            c,
            g,
            mem,
            days[raw],
            when[raw],
            text or "",
            kind,
            bool(flagged),
            reply,
            bool(recalled),
            bool(inferred),
        )
        for i, c, g, mem, raw, text, kind, flagged, reply, recalled, inferred in page
    ]


def _same(value: Any) -> Any:
    return value


def reset_scores(conn: Connection, community_id: int) -> None:
    """Forget every score of a community, to score it again with new weights."""
    for model in (
        MessageScore,
        MemberDayStats,
        ReplyEdgeDaily,
        Question,
        EventCredit,
        ScoreCursor,
    ):
        t = table_of(model)
        conn.execute(delete(t).where(t.c.community_id == community_id))
    for rollup in (MemberDaily, GroupDaily):
        t = table_of(rollup)
        conn.execute(update(t).where(t.c.community_id == community_id).values(value=0.0))
    m = table_of(Message)
    conn.execute(update(m).where(m.c.community_id == community_id).values(value=None))


def catch_up(
    conn: Connection,
    community_id: int,
    tz: tzinfo,
    progress: Callable[[int], None] | None = None,
) -> CatchUp:
    """Score unscored messages in time order, then credit uncredited reactions and
    check-ins. The caller holds the transaction."""
    specs = SpecCache()
    done = CatchUp()
    m, s = table_of(Message), table_of(MessageScore)
    log, ci, credit = (
        table_of(EventLogEntry),
        table_of(CheckInRecord),
        table_of(EventCredit),
    )
    cur = table_of(ScoreCursor)
    seen = conn.execute(
        select(
            cur.c.scored_through_id,
            cur.c.reactions_through_id,
            cur.c.check_ins_through_id,
        ).where(cur.c.community_id == community_id)
    ).first()
    since = [max(0, int(x) - CURSOR_LAG) for x in seen] if seen else [0, 0, 0]
    # the ids this run will have looked at: what the next run need not read again
    upto = [
        conn.execute(select(func.max(t.c.id)).where(t.c.community_id == community_id)).scalar()
        for t in (m, log, ci)
    ]
    scored_before = conn.execute(
        select(s.c.message_id).where(s.c.community_id == community_id).limit(1)
    ).first()
    said = None if scored_before else SaidThisRun()
    q = table_of(Question)
    asked_before = conn.execute(
        select(q.c.message_id).where(q.c.community_id == community_id).limit(1)
    ).first()
    open_questions = OpenQuestions() if said is not None and asked_before is None else None
    last_id = since[0]
    while True:
        # keyset over ids: messages are scored in id order within each page, and the page
        # is sorted by time before scoring so questions come before their answers
        page, converters = fetch_raw(
            conn,
            select(
                m.c.id,
                m.c.community_id,
                m.c.group_id,
                m.c.member_id,
                m.c.occurred_at,
                m.c.text,
                m.c.kind,
                m.c.flagged,
                m.c.reply_to_id,
                m.c.recalled,
                m.c.reply_inferred,
            )
            .select_from(m.outerjoin(s, s.c.message_id == m.c.id))
            .where(_by_id(m.c.community_id) == community_id, m.c.id > last_id)
            .where(s.c.message_id.is_(None))
            .order_by(m.c.id)
            .limit(PAGE),
        )
        if not page:
            break
        last_id = page[-1][0]
        rows = _msg_rows(page, converters, tz)
        done.messages += len(score_rows(conn, specs, rows, said, open_questions))
        if progress is not None:
            progress(len(page))
    if said is not None:
        copy_values(conn, community_id)
    if open_questions is not None:
        open_questions.write(conn)
    reaction_ids = [
        i
        for (i,) in conn.execute(
            select(log.c.id).where(
                log.c.community_id == community_id,
                log.c.id > since[1],
                log.c.type == "reaction_added",
                ~log.c.id.in_(
                    select(credit.c.ref_id).where(
                        credit.c.kind == "reaction", credit.c.ref_id > since[1]
                    )
                ),
            )
        )
    ]
    done.reactions = credit_reactions(conn, specs, tz, reaction_ids)
    check_in_ids = [
        i
        for (i,) in conn.execute(
            select(ci.c.id).where(
                ci.c.community_id == community_id,
                ci.c.id > since[2],
                ~ci.c.id.in_(
                    select(credit.c.ref_id).where(
                        credit.c.kind == "check_in", credit.c.ref_id > since[2]
                    )
                ),
            )
        )
    ]
    done.check_ins = credit_check_ins(conn, specs, tz, check_in_ids)
    conn.execute(delete(cur).where(cur.c.community_id == community_id))
    conn.execute(
        insert(cur).values(
            community_id=community_id,
            scored_through_id=upto[0] or 0,
            reactions_through_id=upto[1] or 0,
            check_ins_through_id=upto[2] or 0,
        )
    )
    return done
