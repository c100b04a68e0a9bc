"""The pipeline's two writer strategies store the same rows alike: the memberships speaking
makes, reply links, members and rollups (one implementation, qunzhu.store.speaking), on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.pipeline import Pipeline
from qunzhu.store import write_strategies
from qunzhu.store.batch import Place
from qunzhu.store.messages_write import Posted
from qunzhu.store.models import Community, Identity, MemberDaily, Membership, Message
from qunzhu.store.write_strategies import BulkWriter, PerEventWriter

T = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _row(n: int, member: str, minutes: int, reply_to: str | None = None) -> Posted:
    return Posted(
        key=f"k{n}",
        message_id=f"m{n}",
        member=member,
        member_name=member.upper(),
        occurred_at=T + timedelta(minutes=minutes),
        text=f"line {n}",
        reply_to=reply_to,
    )


def _records(community: str) -> list[object]:
    """Messages in file order, some out of time order; replies to the same chunk, to an
    earlier chunk, and to nothing stored; a join of someone who then speaks."""
    return [
        _row(1, "ann", 10),
        _row(2, "bo", 30),
        _row(3, "bo", 5, reply_to="m1"),  # bo's earliest message comes later in the file
        ev.MemberJoined(
            platform="irc",
            community=community,
            group="#g",
            member="cy",
            occurred_at=T,
            via="link",
        ),
        _row(4, "cy", 40, reply_to="m2"),
        _row(5, "ann", 41, reply_to="m404"),  # its target was never stored
        _row(6, "dee", 50, reply_to="m4"),
        _row(7, "bo", 1),  # bo's earliest: in the first chunk when the chunk is the file
    ]


def _stored(store, community: str) -> dict[str, list[tuple[object, ...]]]:
    with store.reading() as s:
        cid = s.scalar(select(Community.id).where(Community.slug == community))
        users = dict(
            s.execute(
                select(Identity.member_id, Identity.platform_user_id).where(
                    Identity.community_id == cid
                )
            ).all()
        )
        pids = dict(
            s.execute(
                select(Message.id, Message.platform_message_id).where(Message.community_id == cid)
            ).all()
        )
        messages = s.execute(
            select(
                Message.member_id,
                Message.platform_message_id,
                Message.reply_to_platform_id,
                Message.reply_to_id,
            ).where(Message.community_id == cid)
        ).all()
        memberships = s.execute(
            select(
                Membership.member_id,
                Membership.status,
                Membership.joined_at,
                Membership.left_at,
                Membership.join_via,
            ).where(Membership.community_id == cid)
        ).all()
        daily = s.execute(
            select(MemberDaily.member_id, MemberDaily.messages, MemberDaily.replies_sent).where(
                MemberDaily.community_id == cid
            )
        ).all()
    return {
        "messages": sorted((users[m], p, r, pids.get(t)) for m, p, r, t in messages),
        "memberships": sorted((users[m], *rest) for m, *rest in memberships),
        "daily": sorted((users[m], *rest) for m, *rest in daily),
    }


@pytest.mark.parametrize("per_chunk", [2, 100])
def test_both_writers_store_the_same_memberships_and_reply_links(store, monkeypatch, per_chunk):
    monkeypatch.setattr(write_strategies, "BULK_BATCH_RECORDS", per_chunk)
    for community, writer in (("each", PerEventWriter()), ("bulk", BulkWriter(per_chunk * 2))):
        pipeline = Pipeline(store, create_communities=True, chunk_size=per_chunk, writer=writer)
        report = pipeline.run(_records(community), source="t", place=Place(community, "irc", "#g"))
        assert report.added == 8 and report.count("message_posted") == 7, community
        assert report.replies == 3, community
    each, bulk = _stored(store, "each"), _stored(store, "bulk")
    assert bulk == each
    memberships = {m[0]: m for m in each["memberships"]}
    # bo's earliest message of the chunk that first has bo speak; later chunks change nothing
    assert memberships["bo"][2] == T + timedelta(minutes=1 if per_chunk == 100 else 30)
    assert memberships["cy"][2:] == (T, None, "link")  # the join, not the later speaking
    assert memberships["dee"][1:] == ("active", T + timedelta(minutes=50), None, "unknown")
    linked = {m[1]: m[3] for m in each["messages"]}
    assert linked == {"m1": None, "m2": None, "m3": "m1", "m4": "m2", "m5": None, "m6": "m4",
                      "m7": None}  # fmt: skip


def test_a_second_run_through_either_writer_adds_nothing(store):
    place = Place("c", "irc", "#g")
    for writer in (BulkWriter(3), PerEventWriter(), BulkWriter(100)):
        Pipeline(store, create_communities=True, writer=writer).run(
            _records("c"), source="t", place=place
        )
    report = Pipeline(store, create_communities=True, writer=BulkWriter(100)).run(
        _records("c"), source="t", place=place
    )
    assert report.added == 0 and report.duplicates == 8
    assert len(_stored(store, "c")["messages"]) == 7


def test_a_pipeline_that_moderates_or_reacts_refuses_the_bulk_writer(store):
    with pytest.raises(ValueError, match="no moderator or reactor sees"):
        Pipeline(store, reactors=[lambda conn, written: []], writer=BulkWriter(10))


def test_rows_without_a_place_are_quarantined_with_the_reason(store):
    report = Pipeline(store, create_communities=True, writer=BulkWriter(10)).run(
        [_row(1, "ann", 0)], source="t"
    )
    assert report.added == 0
    assert "rows need the run's place" in report.quarantined[0]["reason"]
