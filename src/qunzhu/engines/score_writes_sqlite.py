"""The SQLite paths of :mod:`qunzhu.engines.score_writes` for the writes of one row per
message (a first recompute writes a score row for each of 100,000 messages and marks tens
of thousands of questions answered): rows go to the driver's ``executemany`` as database
values built straight from the scores, without a dict per row or SQLAlchemy's per-row
parameter handling. The same rows as the general path; the writer holds the database lock
(see :mod:`qunzhu.store.bulk`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table

from qunzhu.engines.credits import STAT_COUNTERS, Credits
from qunzhu.engines.fastio import memo
from qunzhu.engines.features import TextFeatures
from qunzhu.engines.scoring_reads import ASKING_SPELL, MsgRow, chunked
from qunzhu.engines.value import MessageValue
from qunzhu.store.base import table_of
from qunzhu.store.bulk import (
    _sqlite_datetime,
    insert_new_values,
    raw_executemany,
    upsert_adding_sql,
)
from qunzhu.store.intelligence import MemberDayStats, Question, ReplyEdgeDaily
from qunzhu.store.models import GroupDaily, MemberDaily, Message

if TYPE_CHECKING:
    from qunzhu.engines.scoring import Answer, Asked

_m, _q = table_of(Message), table_of(Question)
# score_writes._ANSWERED for the driver's executemany
_ANSWERED_SQLITE = (
    f"UPDATE {_q.name} SET answered_at = ?, answer_member_id = ? WHERE group_id = ? "
    "AND member_id = ? AND asked_at >= ? AND asked_at <= ? "
    "AND (answered_at IS NULL OR answered_at > ?)"
)


def write_scores_sqlite(
    conn: Connection,
    s: Table,
    rows: list[MsgRow],
    feats: dict[int, TextFeatures],
    scores: dict[int, MessageValue],
    links: dict[int, tuple[int, bool, float]],
    absent: bool = False,
    encoded: dict[int, Any] | None = None,
) -> set[int]:
    """The rows as database values straight from the scores, no dict per row: a first
    recompute writes one per message (``absent``: none of them has a score row yet). Days
    repeat (a few hundred over 100,000 messages), and so do scores
    (:func:`~qunzhu.engines.scoring.score_batch` gives messages of equal features and
    context one :class:`MessageValue`): each is converted once, and once a run where the
    caller keeps the scores and their points (``encoded``) from one batch to the next."""
    to_json: Callable[[Any], Any] = s.c.points.type.bind_processor(conn.dialect) or _same
    days: dict[date, Any] = {}
    # by identity, not by equal points: 1 and 1.0, or 0.0 and -0.0, are equal but print
    # apart; ``scores`` (or the caller, ``encoded``) keeps every object alive meanwhile, so
    # no id is reused
    points: dict[int, Any] = {} if encoded is None else encoded
    values: list[tuple[Any, ...]] = []
    for r in rows:
        scored = scores[r.id]
        day = days.get(r.day)
        if day is None:
            # the text sqlite3's own date adapter would write, without its call per row
            day = days[r.day] = r.day.isoformat()
        encoded = points.get(id(scored))
        if encoded is None:
            encoded = points[id(scored)] = to_json(scored.points)
        link = links.get(r.id)
        values.append(
            (
                r.id,
                r.community_id,
                r.group_id,
                r.member_id,
                day,
                scored.value,
                feats[r.id].text_hash,
                encoded,
                link[0] if link else None,
                link[1] if link else False,
                link[2] if link else None,
            )
        )
    return set(insert_new_values(conn, s, SCORE_COLUMNS, values, absent=absent))


def _same(value: Any) -> Any:
    return value


SCORE_COLUMNS = (
    "message_id",
    "community_id",
    "group_id",
    "member_id",
    "day",
    "value",
    "text_hash",
    "points",
    "reply_to_id",
    "reply_inferred",
    "reply_probability",
)


def write_questions_sqlite(conn: Connection, questions: Sequence[Asked]) -> None:
    """Insert the questions unless stored (``INSERT OR IGNORE``, as
    :func:`~qunzhu.store.bulk.insert_ignoring_conflicts` writes them), as database values
    straight from each question, none answered yet: a first recompute writes tens of
    thousands."""
    if not questions:
        return
    raw_executemany(
        conn,
        f"INSERT OR IGNORE INTO {_q.name} ({', '.join(QUESTION_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(QUESTION_COLUMNS))})",
        [
            # not answered yet: answered_at, answer_member_id
            (
                q.message_id,
                q.community_id,
                q.group_id,
                q.member_id,
                _sqlite_datetime(q.asked_at),
                None,
                None,
            )
            for q in questions
        ],
    )


QUESTION_COLUMNS = (
    "message_id",
    "community_id",
    "group_id",
    "member_id",
    "asked_at",
    "answered_at",
    "answer_member_id",
)


def write_answers_sqlite(conn: Connection, answers: list[Answer]) -> None:
    """Mark the questions answered (``score_writes._write_answers``) through the driver. The
    stored times are read as the text SQLite keeps ("YYYY-MM-DD HH:MM:SS.ffffff", naive
    UTC) and written back in that form."""
    since: dict[int, str] = {}
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for part in chunked(sorted({a.question_id for a in answers})):
            marks = ", ".join("?" * len(part))
            sql = f"SELECT id, occurred_at FROM {_m.name} WHERE id IN ({marks})"
            for i, asked in cursor.execute(sql, part):
                start = datetime.fromisoformat(asked) - ASKING_SPELL
                since[i] = start.isoformat(" ", "microseconds")
    finally:
        cursor.close()
    rows: list[tuple[Any, ...]] = []
    for a in answers:
        first = since.get(a.question_id)
        if first is not None:
            at = _sqlite_datetime(a.at)
            rows.append((at, a.member_id, a.group_id, a.asker_id, first, at, at))
    if rows:
        raw_executemany(conn, _ANSWERED_SQLITE, rows)


def write_credits_sqlite(conn: Connection, credits: Credits) -> None:
    """:func:`~qunzhu.engines.score_writes.write_credits` through the driver: each rollup
    row as a tuple of database values straight from the credits' keys (about one row a
    message over a first recompute), no dict a row; each day converted once, by the
    column's own processor."""
    md, gd = table_of(MemberDaily), table_of(GroupDaily)
    stats, edges = table_of(MemberDayStats), table_of(ReplyEdgeDaily)
    # no processor (SQLite's Date has none): the text sqlite3's own date adapter would
    # write, once per day, rather than the adapter's Python call for every row
    day = memo(md.c.day.type.bind_processor(conn.dialect) or date.isoformat)

    member_zero = (0,) * len(_MEMBER_ZERO)
    _upsert(
        conn,
        md,
        ("community_id", "group_id", "member_id", "day", "value", *_MEMBER_ZERO),
        [(c, g, m, day(d), v, *member_zero) for (c, g, m, d), v in credits.member_value.items()],
        ("group_id", "member_id", "day"),
        ("value",),
    )
    group_zero = (0,) * len(_GROUP_ZERO)
    _upsert(
        conn,
        gd,
        ("community_id", "group_id", "day", "value", *_GROUP_ZERO),
        [(c, g, day(d), v, *group_zero) for (c, g, d), v in credits.group_value.items()],
        ("group_id", "day"),
        ("value",),
    )
    _upsert(
        conn,
        stats,
        ("community_id", "group_id", "member_id", "day", *STAT_COUNTERS),
        [
            (c, g, m, day(d), *[counts[n] for n in STAT_COUNTERS])
            for (c, g, m, d), counts in credits.stats.items()
        ],
        ("group_id", "member_id", "day"),
        STAT_COUNTERS,
    )
    _upsert(
        conn,
        edges,
        ("community_id", "group_id", "day", "from_member_id", "to_member_id", "replies"),
        [(c, g, day(d), f, t, n) for (c, g, d, f, t), n in credits.edges.items()],
        ("group_id", "day", "from_member_id", "to_member_id"),
        ("replies",),
    )


# the counters of a rollup row a credit makes (a day with no message yet): zero
_MEMBER_ZERO = ("messages", "chars", "replies_sent", "check_ins", "flagged")
_GROUP_ZERO = ("messages", "joins", "leaves", "removals", "check_ins", "flagged", "payments_cents")


def _upsert(
    conn: Connection,
    table: Table,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    keys: tuple[str, ...],
    counters: tuple[str, ...],
) -> None:
    if rows:
        raw_executemany(conn, upsert_adding_sql(table, list(columns), keys, counters), rows)
