"""The questions a first catch-up asks, answered in memory and written once at its end.

A batch marks questions answered with one UPDATE per answer, each searching the asker's
questions of the asking spell (:func:`~qunzhu.engines.score_writes.write_batch_credits`):
tens of thousands over a first recompute. When the community had no questions before the
run, every question an answer can reach is one the run itself inserted, and nothing reads
``answered_at`` until the catch-up ends; so the same updates are applied here, in the same
order and with the same conditions, and each answered question is written once by its key.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select, update

from qunzhu.engines.fastio import fetch_all
from qunzhu.engines.scoring_reads import ASKING_SPELL, MsgRow, chunked
from qunzhu.store.base import table_of
from qunzhu.store.bulk import _sqlite_datetime, raw_executemany
from qunzhu.store.intelligence import Question
from qunzhu.store.models import Message

if TYPE_CHECKING:
    from qunzhu.engines.scoring import Answer, Asked

_m, _q = table_of(Message), table_of(Question)
_ASKED_AT = itemgetter(0)
_TIMES = select(_m.c.id, _m.c.occurred_at)
_SET_SQLITE = f"UPDATE {_q.name} SET answered_at = ?, answer_member_id = ? WHERE message_id = ?"
_SET = (
    update(_q)
    .where(_q.c.message_id == bindparam("b_id"))
    .values(answered_at=bindparam("b_at"), answer_member_id=bindparam("b_member"))
)


@dataclass
class OpenQuestions:
    """Each asker's questions of this run, by (group, member), sorted by time: entries
    ``[asked_at, message_id, answered_at, answer_member_id]``."""

    by_asker: dict[tuple[int, int], list[list[Any]]] = field(default_factory=dict)
    answered: dict[int, list[Any]] = field(default_factory=dict)  # message id → its entry

    def add(self, questions: Sequence[Asked]) -> None:
        """Questions inserted now (a batch's, before its answers, as the store gets them)."""
        for q in questions:
            entry = [q.asked_at, q.message_id, None, None]
            insort(self.by_asker.setdefault((q.group_id, q.member_id), []), entry, key=_ASKED_AT)

    def answer(self, conn: Connection, rows: Sequence[MsgRow], answers: Sequence[Answer]) -> None:
        """What the UPDATE per answer does: the asker's questions from the asking spell
        before the message replied to up to the reply, unless answered earlier, get the
        reply's time and author."""
        times = {r.id: r.occurred_at for r in rows}
        missing = sorted({a.question_id for a in answers} - times.keys())
        for part in chunked(missing):
            times.update(fetch_all(conn, _TIMES.where(_m.c.id.in_(part))))
        for a in answers:
            replied = times.get(a.question_id)
            asked = self.by_asker.get((a.group_id, a.asker_id))
            if replied is None or not asked:
                continue
            t: datetime = a.at
            lo = bisect_left(asked, replied - ASKING_SPELL, key=_ASKED_AT)
            hi = bisect_right(asked, t, lo, key=_ASKED_AT)
            for entry in asked[lo:hi]:
                if entry[2] is None or entry[2] > t:
                    entry[2], entry[3] = t, a.member_id
                    self.answered[entry[1]] = entry

    def write(self, conn: Connection) -> None:
        """Each answered question once, by its key."""
        if not self.answered:
            return
        done = self.answered.values()
        if conn.dialect.name == "sqlite":
            rows = [(_sqlite_datetime(e[2]), e[3], e[1]) for e in done]
            raw_executemany(conn, _SET_SQLITE, rows)
        else:
            conn.execute(_SET, [{"b_id": e[1], "b_at": e[2], "b_member": e[3]} for e in done])
        self.answered.clear()
