"""The writes of scoring: score rows, the questions asked and answered, each message's
value, and the credits added to the daily rollups. What to write was decided before
(:mod:`qunzhu.engines.scoring`, :mod:`qunzhu.engines.credits`); nothing is decided here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, or_, select, update

from qunzhu.engines.answered import OpenQuestions
from qunzhu.engines.credits import STAT_COUNTERS, Credits
from qunzhu.engines.features import TextFeatures
from qunzhu.engines.score_writes_sqlite import (
    write_answers_sqlite,
    write_credits_sqlite,
    write_questions_sqlite,
    write_scores_sqlite,
)
from qunzhu.engines.scoring_reads import ASKING_SPELL, MsgRow, chunked
from qunzhu.engines.value import MessageValue
from qunzhu.store.base import table_of
from qunzhu.store.bulk import (
    insert_ignoring_conflicts,
    raw_executemany,
    upsert_adding,
)
from qunzhu.store.intelligence import MemberDayStats, MessageScore, Question, ReplyEdgeDaily
from qunzhu.store.models import GroupDaily, MemberDaily, Message

if TYPE_CHECKING:
    from qunzhu.engines.scoring import Answer, BatchCredits

# a credit on a day with no message yet makes the rollup row: its counters start at zero
_ZERO_MEMBER = dict.fromkeys(("messages", "chars", "replies_sent", "check_ins", "flagged"), 0)
_ZERO_GROUP = dict.fromkeys(
    ("messages", "joins", "leaves", "removals", "check_ins", "flagged", "payments_cents"), 0
)

_m, _q = table_of(Message), table_of(Question)
# built once: the live path writes a batch of one message
_SET_VALUE = update(_m).where(_m.c.id == bindparam("b_id")).values(value=bindparam("b_value"))
_SET_VALUE_SQLITE = f"UPDATE {_m.name} SET value = ? WHERE id = ?"
# the questions a reply answers: the asker's open questions from the asking spell before the
# message replied to up to the reply (askers split a question over several lines, and the
# answer often replies to one of them, or to "here is the log")
_ANSWERED = (
    update(_q)
    .where(
        _q.c.group_id == bindparam("g"),
        _q.c.member_id == bindparam("a"),
        _q.c.asked_at >= bindparam("since"),
        _q.c.asked_at <= bindparam("t"),
        or_(_q.c.answered_at.is_(None), _q.c.answered_at > bindparam("t")),
    )
    .values(answered_at=bindparam("t"), answer_member_id=bindparam("m"))
)
_TIMES = select(_m.c.id, _m.c.occurred_at).where(_m.c.id.in_(bindparam("ids", expanding=True)))


def write_scores(
    conn: Connection,
    rows: list[MsgRow],
    feats: dict[int, TextFeatures],
    scores: dict[int, MessageValue],
    links: dict[int, tuple[int, bool, float]],
    *,
    absent: bool = False,
    encoded: dict[int, Any] | None = None,
) -> set[int]:
    """Insert each message's score row unless it has one; returns the ids inserted now.
    ``absent``: the caller read the rows as unscored in this transaction (a first catch-up,
    which holds the writer's lock), so none has one. ``encoded``: SQLite, the points of
    scores written before, by the score's id (the caller keeps those scores alive)."""
    s = table_of(MessageScore)
    if conn.dialect.name == "sqlite":
        return write_scores_sqlite(conn, s, rows, feats, scores, links, absent, encoded)
    out: list[dict[str, Any]] = []
    for r in rows:
        scored = scores[r.id]
        link = links.get(r.id)
        out.append(
            {
                "message_id": r.id,
                "community_id": r.community_id,
                "group_id": r.group_id,
                "member_id": r.member_id,
                "day": r.day,
                "value": scored.value,
                "text_hash": feats[r.id].text_hash,
                "points": scored.points,
                "reply_to_id": link[0] if link else None,
                "reply_inferred": link[1] if link else False,
                "reply_probability": link[2] if link else None,
            }
        )
    new_ids: set[int] = set()
    for part in chunked(out, 2000):
        new_ids.update(i for (i,) in insert_ignoring_conflicts(conn, s, part, s.c.message_id))
    return new_ids


def write_batch_credits(
    conn: Connection,
    batch: BatchCredits,
    rows: Sequence[MsgRow] = (),
    open_questions: OpenQuestions | None = None,
    *,
    values: bool = True,
) -> None:
    """The batch's questions, answers, values and credits. With ``open_questions`` (a
    first catch-up, ``rows`` its batch) the answers are applied in memory, written at the
    catch-up's end (:mod:`qunzhu.engines.answered`). ``values=False``: the messages' values
    are left to the caller (a first catch-up copies them from the score rows at its end,
    :func:`copy_values`)."""
    if conn.dialect.name == "sqlite":  # one per question: spare the dict a row
        write_questions_sqlite(conn, batch.questions)
    else:
        insert_ignoring_conflicts(
            conn,
            table_of(Question),
            [
                {
                    "message_id": q.message_id,
                    "community_id": q.community_id,
                    "group_id": q.group_id,
                    "member_id": q.member_id,
                    "asked_at": q.asked_at,
                    "answered_at": None,
                    "answer_member_id": None,
                }
                for q in batch.questions
            ],
        )
    if open_questions is not None:
        open_questions.add(batch.questions)
        open_questions.answer(conn, rows, batch.answers)
    elif batch.answers:
        _write_answers(conn, batch.answers)
    if not values:
        pass
    elif batch.values and conn.dialect.name == "sqlite":  # one per message: spare SQLAlchemy
        raw_executemany(conn, _SET_VALUE_SQLITE, [(v, i) for i, v in batch.values.items()])
    elif batch.values:
        conn.execute(_SET_VALUE, [{"b_id": i, "b_value": v} for i, v in batch.values.items()])
    write_credits(conn, batch.credits)


def copy_values(conn: Connection, community_id: int) -> None:
    """Each scored message of the community gets the value of its score row, in one
    statement: what :func:`write_batch_credits` writes a message at a time, for a first
    catch-up, where every score row of the community is one it inserted (the rows it
    skipped the values of)."""
    s = table_of(MessageScore)
    conn.execute(
        update(_m)
        .values(value=s.c.value)
        .where(s.c.message_id == _m.c.id, s.c.community_id == community_id)
    )


def _write_answers(conn: Connection, answers: list[Answer]) -> None:
    """Mark the questions answered; the earliest answer stays, a later one changes nothing."""
    if conn.dialect.name == "sqlite":
        write_answers_sqlite(conn, answers)
        return
    times: dict[int, datetime] = {}
    for part in chunked(sorted({a.question_id for a in answers})):
        times.update((i, at) for i, at in conn.execute(_TIMES, {"ids": part}))
    params = [
        {
            "g": a.group_id,
            "a": a.asker_id,
            "since": times[a.question_id] - ASKING_SPELL,
            "t": a.at,
            "m": a.member_id,
        }
        for a in answers
        if a.question_id in times
    ]
    if params:
        conn.execute(_ANSWERED, params)


def write_credits(conn: Connection, credits: Credits) -> None:
    """Add the credits to the daily rollups, one upsert per table."""
    if conn.dialect.name == "sqlite":  # a row per member and day: spare the dict a row
        write_credits_sqlite(conn, credits)
        return
    upsert_adding(
        conn,
        table_of(MemberDaily),
        [
            {
                "community_id": c,
                "group_id": g,
                "member_id": m,
                "day": d,
                "value": v,
                **_ZERO_MEMBER,
            }
            for (c, g, m, d), v in credits.member_value.items()
        ],
        ("group_id", "member_id", "day"),
        ("value",),
    )
    upsert_adding(
        conn,
        table_of(GroupDaily),
        [
            {"community_id": c, "group_id": g, "day": d, "value": v, **_ZERO_GROUP}
            for (c, g, d), v in credits.group_value.items()
        ],
        ("group_id", "day"),
        ("value",),
    )
    upsert_adding(
        conn,
        table_of(MemberDayStats),
        [
            {"community_id": c, "group_id": g, "member_id": m, "day": d, **counts}
            for (c, g, m, d), counts in credits.stats.items()
        ],
        ("group_id", "member_id", "day"),
        STAT_COUNTERS,
    )
    upsert_adding(
        conn,
        table_of(ReplyEdgeDaily),
        [
            {
                "community_id": c,
                "group_id": g,
                "day": d,
                "from_member_id": f,
                "to_member_id": t,
                "replies": n,
            }
            for (c, g, d, f, t), n in credits.edges.items()
        ],
        ("group_id", "day", "from_member_id", "to_member_id"),
        ("replies",),
    )
