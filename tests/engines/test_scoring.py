"""Scoring in the pipeline and in the catch-up: once per message, answers found, replies
and reactions credited to the author, nothing counted twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from qunzhu import events as ev
from qunzhu.engines.catchup import catch_up, reset_scores
from qunzhu.engines.reactor import ValueScorer
from qunzhu.pipeline import Pipeline
from qunzhu.store.intelligence import MemberDayStats, MessageScore, Question, ReplyEdgeDaily
from qunzhu.store.models import Community, Member, MemberDaily, Message

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


def conversation() -> list[ev.Event]:
    return [
        msg(1, "ann", "How do I make RAG retrieval better? My chunks are 1000 tokens", 0),
        msg(
            2, "bob", "split into 300 token chunks with overlap and add a reranker", 2, reply_to="1"
        ),
        msg(
            3,
            "cat",
            "we use hybrid search with BM25 plus embeddings for exactly that",
            3,
            reply_to="1",
        ),
        msg(4, "ann", "thanks", 4, reply_to="2"),
        msg(5, "dan", "收到", 5),
        msg(6, "eve", "free crypto signals join now", 6),
        msg(7, "eve", "free crypto signals join now", 7),
        ev.ReactionAdded(
            platform="telegram",
            community="c1",
            group="g1",
            member="cat",
            occurred_at=T0 + timedelta(minutes=8),
            message_id="2",
            emoji="👍",
        ),
        ev.CheckIn(
            platform="telegram",
            community="c1",
            group="g1",
            member="dan",
            occurred_at=T0 + timedelta(minutes=9),
            name="daily",
        ),
    ]


def _values(store) -> dict[str, float]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(Member.display_name, func.sum(MemberDaily.value))
            .join(MemberDaily, MemberDaily.member_id == Member.id)
            .group_by(Member.display_name)
        ).all()
    return {name: round(float(v), 3) for name, v in rows}


def test_pipeline_scores_answers_replies_reactions_and_check_ins(store):
    Pipeline(store, create_communities=True, reactors=[ValueScorer(store.settings.tz)]).run(
        conversation(), source="test"
    )
    values = _values(store)
    assert values["bob"] > values["dan"] and values["cat"] > values["dan"]
    assert values["eve"] < values["bob"]  # the repeat earns nothing
    with store.engine.connect() as conn:
        stats = {
            name: (q, a, r, re)
            for name, q, a, r, re in conn.execute(
                select(
                    Member.display_name,
                    MemberDayStats.questions,
                    MemberDayStats.answers,
                    MemberDayStats.replies_earned,
                    MemberDayStats.reactions_earned,
                ).join(MemberDayStats, MemberDayStats.member_id == Member.id)
            )
        }
        question = conn.execute(select(Question)).one()
        edges = conn.execute(select(func.sum(ReplyEdgeDaily.replies))).scalar()
        dup = conn.execute(select(MessageScore.points).where(MessageScore.value == 0)).all()
    assert stats["ann"][0] == 1 and stats["ann"][2] == 2  # asked; two members replied
    assert stats["bob"][1] == 1 and stats["cat"][1] == 1  # both answered
    assert stats["bob"][2] == 1 and stats["bob"][3] == 1  # thanked, and a reaction
    assert question.answered_at == T0 + timedelta(minutes=2)
    assert edges == 3
    assert any("duplicate" in p for (p,) in dup)


def test_the_same_events_again_change_nothing(store):
    pipeline = Pipeline(store, create_communities=True, reactors=[ValueScorer(store.settings.tz)])
    pipeline.run(conversation(), source="test")
    first = _values(store)
    pipeline.run(conversation(), source="test")
    assert _values(store) == first


def test_catch_up_scores_history_loaded_without_the_scorer_the_same_way(store):
    Pipeline(store, create_communities=True).run(conversation(), source="test")
    assert set(_values(store).values()) == {0.0}
    with store.engine.begin() as conn:
        cid = conn.execute(select(Community.id)).scalar_one()
        done = catch_up(conn, cid, store.settings.tz)
    assert (done.messages, done.reactions, done.check_ins) == (7, 1, 1)
    caught_up = _values(store)
    with store.engine.begin() as conn:
        again = catch_up(conn, cid, store.settings.tz)  # nothing left to do
    assert (again.messages, again.reactions, again.check_ins) == (0, 0, 0)
    assert _values(store) == caught_up
    with store.engine.begin() as conn:
        reset_scores(conn, cid)
        catch_up(conn, cid, store.settings.tz)
    assert _values(store) == caught_up
    assert caught_up["bob"] > caught_up["dan"] > 0


def test_an_answer_without_a_reply_link_is_inferred(store):
    events = [
        msg(1, "ann", "how do I mount an ntfs disk on ubuntu?", 0),
        msg(2, "bob", "install ntfs-3g and then mount the disk with it", 1),
    ]
    Pipeline(store, create_communities=True, reactors=[ValueScorer(store.settings.tz)]).run(
        events, source="test"
    )
    with store.engine.connect() as conn:
        inferred = conn.execute(
            select(MessageScore.reply_inferred, MessageScore.points).where(
                MessageScore.reply_to_id.isnot(None)
            )
        ).one()
        answered = conn.execute(select(Question.answered_at)).scalar()
    assert inferred[0] is True and "answer" in inferred[1]
    assert answered is not None and answered.date() == date(2026, 3, 2)


def test_questions_count_as_answered_when_another_member_replies_to_them(store):
    events = [
        msg(1, "ann", "how do I mount an ntfs disk on ubuntu?", 0),
        msg(2, "ann", "here is what dmesg says: ntfs signature is missing", 1),
        msg(3, "bob", "run ntfsfix on it first, then mount it again", 2, reply_to="2"),
        msg(4, "ann", "how do I make it mount at boot?", 40),
        msg(5, "bob", "add a line for it to /etc/fstab with the uuid", 41, reply_to="4"),
        msg(6, "cat", "why does my wifi drop every hour?", 42),
        msg(7, "cat", "anyone? it is the intel card on a thinkpad", 43, reply_to="6"),
    ]
    Pipeline(store, create_communities=True, reactors=[ValueScorer(store.settings.tz)]).run(
        events, source="test"
    )
    with store.engine.connect() as conn:
        asked = dict(
            conn.execute(
                select(Message.platform_message_id, Question.answered_at).join(
                    Message, Message.id == Question.message_id
                )
            ).all()
        )
    # the reply to ann's follow-up line answers her question; her second question of the
    # day, answered by the same member, is answered too; a reply to oneself answers nothing
    assert asked["1"] == T0 + timedelta(minutes=2)
    assert asked["4"] == T0 + timedelta(minutes=41)
    assert asked["6"] is None


def _points(store) -> dict[str, list[dict[str, float]]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(Member.display_name, MessageScore.points)
            .join(Member, Member.id == MessageScore.member_id)
            .join(Message, Message.id == MessageScore.message_id)
            .order_by(Message.occurred_at)
        ).all()
    out: dict[str, list[dict[str, float]]] = {}
    for name, points in rows:
        out.setdefault(name, []).append(points)
    return out


def test_helping_one_member_counts_once_a_day_and_a_reworded_question_once(store):
    events = [
        msg(1, "ann", "how do I mount an ntfs disk?", 0),
        msg(2, "ann", "it says wrong fs type, what does that mean?", 1),
        msg(3, "bob", "install ntfs-3g first, then mount it again", 2, reply_to="1"),
        msg(4, "bob", "and add the partition to fstab with the ntfs-3g type", 3, reply_to="2"),
        msg(5, "cat", "my wifi drops every hour, any idea why?", 4),
        msg(6, "bob", "check dmesg for the driver resetting the card", 5, reply_to="5"),
        msg(7, "ann", "how do I check which partition is which?", 90),  # a new question
    ]
    Pipeline(store, create_communities=True, reactors=[ValueScorer(store.settings.tz)]).run(
        events, source="test"
    )
    points = _points(store)
    bob = points["bob"]
    # ann and cat helped: one helped credit (and answer) each; the follow-up to ann has none
    assert ["helped" in p for p in bob] == [True, False, True]
    assert ["answer" in p for p in bob] == [True, False, True]
    # ann's second line restates her question; the one 90 minutes later is new
    assert ["question" in p for p in points["ann"]] == [True, False, True]


def test_the_link_probability_and_the_importers_guess(store):
    events = [
        msg(1, "ann", "how do I mount an ntfs disk?", 0),
        msg(2, "bob", "install ntfs-3g and then mount the disk with it", 1),
        # an importer's guess from addressing, beyond the model's window: it stands
        msg(3, "cat", "ann: did that work for you?", 60, reply_to="1", reply_inferred=True),
    ]
    Pipeline(store, create_communities=True, reactors=[ValueScorer(store.settings.tz)]).run(
        events, source="test"
    )
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                MessageScore.reply_to_id,
                MessageScore.reply_inferred,
                MessageScore.reply_probability,
            )
            .join(Message, Message.id == MessageScore.message_id)
            .order_by(Message.occurred_at)
        ).all()
    assert rows[0] == (None, False, None)
    assert rows[1][0] is not None and rows[1][1] is True and 0 < rows[1][2] < 1
    assert rows[2][0] is not None and rows[2][1] is True and rows[2][2] == 0.0


def test_the_daily_catch_up_reads_only_messages_after_its_cursor(store, monkeypatch):
    from qunzhu.engines import catchup
    from qunzhu.store.intelligence import ScoreCursor

    Pipeline(store, create_communities=True).run(conversation(), source="test")
    with store.engine.begin() as conn:
        cid = conn.execute(select(Community.id)).scalar_one()
        assert catch_up(conn, cid, store.settings.tz).messages == 7
        through = conn.execute(select(ScoreCursor.scored_through_id)).scalar_one()
        top = conn.execute(select(func.max(Message.id))).scalar_one()
    assert through == top
    later = [msg(20, "bob", "one more idea: cache the embeddings", 30)]
    Pipeline(store, create_communities=True).run(later, source="test")
    monkeypatch.setattr(catchup, "CURSOR_LAG", 0)
    with store.engine.begin() as conn:
        # an unscored message below the cursor is not read again (rescore reads it all)
        conn.execute(MessageScore.__table__.delete().where(MessageScore.message_id == top))
        assert catch_up(conn, cid, store.settings.tz).messages == 1
        reset_scores(conn, cid)
        assert conn.execute(select(ScoreCursor)).first() is None
        assert catch_up(conn, cid, store.settings.tz).messages == 8


def test_a_first_catch_up_in_pages_finds_duplicates_as_reading_the_store_does(store, monkeypatch):
    from qunzhu.engines import catchup

    Pipeline(store, create_communities=True).run(conversation(), source="test")
    monkeypatch.setattr(catchup, "PAGE", 2)  # eve's two ads land on different pages

    def scores() -> dict[int, tuple[float, str]]:
        with store.engine.begin() as conn:
            cid = conn.execute(select(Community.id)).scalar_one()
            reset_scores(conn, cid)
            assert catch_up(conn, cid, store.settings.tz).messages == 7
            rows = conn.execute(
                select(MessageScore.message_id, MessageScore.value, MessageScore.points)
            )
            return {i: (v, str(sorted(p))) for i, v, p in rows}

    remembered = scores()  # a first catch-up remembers what it scored (SaidThisRun)
    monkeypatch.setattr(catchup, "SaidThisRun", lambda: None)
    read = scores()  # every page reads the store
    assert remembered == read
    assert sum("duplicate" in p for _, p in read.values()) == 1


def test_a_first_catch_up_gives_each_message_the_value_of_its_score_row(store, monkeypatch):
    """A first catch-up copies the values from the score rows once at its end
    (copy_values); a catch-up that reads the store writes them a page at a time: the same
    values, and each message's is its score row's."""
    from qunzhu.engines import catchup

    Pipeline(store, create_communities=True).run(conversation(), source="test")
    other = [
        replace(msg(i, "zed", f"another community's line {i}", i), community="c2") for i in (21, 22)
    ]
    Pipeline(store, create_communities=True).run(other, source="test")
    monkeypatch.setattr(catchup, "PAGE", 3)

    def values() -> dict[int, float | None]:
        with store.engine.begin() as conn:
            cid = conn.execute(select(Community.id).where(Community.slug == "c1")).scalar_one()
            reset_scores(conn, cid)
            assert catch_up(conn, cid, store.settings.tz).messages == 7
            scored = dict(conn.execute(select(MessageScore.message_id, MessageScore.value)).all())
            out = dict(conn.execute(select(Message.id, Message.value)).all())
        for i, v in scored.items():
            assert out[i] == v
        return out

    first = values()
    assert sum(v is None for v in first.values()) == 2  # c2's messages: not scored here
    assert any(v for v in first.values())
    monkeypatch.setattr(catchup, "SaidThisRun", lambda: None)
    assert values() == first
