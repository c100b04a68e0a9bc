"""A first catch-up answers questions in memory (engines/answered.py): the same answers as
the scorer's UPDATE per answer, pages apart included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

import qunzhu.engines.catchup as catchup
from qunzhu import events as ev
from qunzhu.engines.reactor import ValueScorer
from qunzhu.pipeline import Pipeline
from qunzhu.store.intelligence import Question
from qunzhu.store.models import Community, Message

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def msg(i: int, member: str, text: str, minutes: float, **extra) -> ev.MessagePosted:
    return ev.MessagePosted(
        platform="telegram",
        community="c1",
        group="g1",
        member=member,
        occurred_at=T0 + timedelta(minutes=minutes),
        message_id=str(i),
        text=text,
        member_name=member,
        **extra,
    )


def _events():
    return [
        msg(1, "ann", "how do I mount an ntfs disk on ubuntu?", 0),
        msg(2, "ann", "here is what dmesg says: ntfs signature is missing", 1),
        msg(3, "bob", "run ntfsfix on it first, then mount it again", 2, reply_to="2"),
        msg(4, "cat", "try it from a live usb", 3, reply_to="2"),
        msg(5, "ann", "how do I make it mount at boot?", 40),
        msg(6, "bob", "add a line for it to /etc/fstab with the uuid", 41, reply_to="5"),
        msg(7, "cat", "why does my wifi drop every hour?", 42),
        msg(8, "cat", "anyone? it is the intel card on a thinkpad", 43, reply_to="7"),
        msg(9, "dan", "what does `iwconfig` say?", 44, reply_to="8"),
    ]


def _answered(store) -> dict[str, tuple[object, object]]:
    with store.engine.connect() as conn:
        return {
            pid: (at, who)
            for pid, at, who in conn.execute(
                select(
                    Message.platform_message_id, Question.answered_at, Question.answer_member_id
                ).join(Message, Message.id == Question.message_id)
            )
        }


def _catch_up_again(store) -> dict[str, tuple[object, object]]:
    with store.engine.begin() as conn:
        cid = conn.execute(select(Community.id)).scalar_one()
        catchup.reset_scores(conn, cid)
        catchup.catch_up(conn, cid, store.settings.tz)
    return _answered(store)


def test_a_first_catch_up_answers_as_an_update_per_answer_does(store, monkeypatch):
    Pipeline(store, create_communities=True, reactors=[ValueScorer(store.settings.tz)]).run(
        _events(), source="test"
    )
    scored = _answered(store)  # the scorer's UPDATE per answer, one batch
    assert scored["1"][0] == T0 + timedelta(minutes=2)
    assert scored["7"][0] == T0 + timedelta(minutes=44)
    assert _catch_up_again(store) == scored  # answered in memory
    monkeypatch.setattr(catchup, "PAGE", 2)  # answers a page after their questions
    in_memory = _catch_up_again(store)
    monkeypatch.setattr(catchup, "OpenQuestions", lambda: None)
    assert _catch_up_again(store) == in_memory  # an UPDATE per answer, page by page
