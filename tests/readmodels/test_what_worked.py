"""What worked, on both databases: the posts of a period ranked by the value their 24 hours
earned, a calendar post's occurrences averaged under its title, broadcasts alone, the same
figures as the calendar's per-post effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from qunzhu.events import event_from_json
from qunzhu.readmodels.message_effects import calendar_effects
from qunzhu.readmodels.what_worked import ranking
from qunzhu.store import Store
from qunzhu.store.community import Community
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.messaging import Broadcast, PlannedPost
from qunzhu.store.models import Message
from qunzhu.wiring import build_pipeline

MONDAY = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def _msg(member: str, at: datetime, key: str, text: str, reply_to: str | None = None) -> dict:
    event = {
        "type": "message_posted",
        "platform": "telegram",
        "community": "acme",
        "group": "-1001",
        "member": member,
        "occurred_at": at.isoformat(),
        "message_id": key,
        "text": text,
    }
    return {**event, "reply_to": reply_to} if reply_to else event


def _broadcast(session, cid: int, created_by: str, text: str, sent: datetime, said: int) -> None:
    b = Broadcast(
        community_id=cid,
        created_by=created_by,
        texts={"zh-CN": text},
        audience={},
        targets=1,
        created_at=sent,
    )
    session.add(b)
    session.flush()
    session.add(
        OutboxAction(
            community_id=cid,
            origin=f"broadcast:{b.id}",
            key=f"b{b.id}",
            kind="send_message",
            platform="telegram",
            action={"group": "-1001", "detail": {}},
            status="sent",
            result={"message_id": said},
            done_at=sent,
        )
    )


def _seed(store: Store) -> tuple[int, int]:
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会", spec_yaml="name: x\npurpose: y\n"))
    tuesday, thursday = MONDAY + timedelta(days=1), MONDAY + timedelta(days=3)
    events = [
        # the Monday topic (calendar post, sent twice): 2 repliers the first time, 1 the next
        _msg("a", MONDAY + timedelta(minutes=5), "r1", "我在读三体", "901"),
        _msg("b", MONDAY + timedelta(minutes=9), "r2", "置身事内", "901"),
        _msg("a", thursday + timedelta(minutes=5), "r3", "还在读", "903"),
        # the hand broadcast on Tuesday: one message, much value
        _msg("c", tuesday + timedelta(hours=1), "r4", "这本书的第三章讲得最好，推荐先读它"),
    ]
    build_pipeline(store, "history").run([event_from_json(e) for e in events], source="test")
    with store.unit_of_work() as session:
        cid = int(session.scalar(select(Community.id).where(Community.slug == "acme")))
        for key, value in (("r1", 1.0), ("r2", 1.0), ("r3", 1.0), ("r4", 6.0)):
            session.execute(
                update(Message)
                .where(Message.community_id == cid, Message.platform_message_id == key)
                .values(value=value)
            )
        post = PlannedPost(
            community_id=cid,
            kind="topic",
            title="每周话题",
            texts={"zh-CN": "这周在读什么？"},
            audience={"every_group": True},
            starts_at=MONDAY,
            timezone="Asia/Shanghai",
            status="approved",
            created_by="t",
            sent=2,
            missed=0,
        )
        session.add(post)
        session.flush()
        _broadcast(session, cid, f"calendar:{post.id}", "这周在读什么？", MONDAY, 901)
        _broadcast(session, cid, f"calendar:{post.id}", "这周在读什么？", thursday, 903)
        _broadcast(session, cid, "ops", "周末线下读书会报名开始了，名额二十个", tuesday, 902)
        return cid, int(post.id)


def test_posts_are_ranked_by_the_value_of_the_day_after(store: Store) -> None:
    cid, post = _seed(store)
    now = MONDAY + timedelta(days=7)
    with store.reading() as session:
        ranked = ranking(session, cid, MONDAY, MONDAY + timedelta(days=7), now=now)
        per_post = calendar_effects(session, cid, post, now=now)
    assert [(r["rank"], r["kind"], r["title"]) for r in ranked] == [
        (1, "broadcast", "周末线下读书会报名开始了，名额二十个"),
        (2, "topic", "每周话题"),
    ]
    hand, topic = ranked
    assert (hand["worked_value"], hand["worked_speakers"], hand["worked_replies"]) == (6.0, 1, 0)
    assert topic["occurrences"] == 2 and topic["complete"]
    assert topic["worked_replies"] == 1.5 and topic["worked_speakers"] == 1.5
    # the calendar page's effect of the post: the same means, under the same definitions
    assert topic["worked_replies"] == per_post["mean_replies"]
    assert topic["worked_speakers"] == per_post["mean_speakers"]
    assert topic["worked_value"] == per_post["mean_value"]
    assert topic["worked_leaves"] == per_post["mean_leaves"] == 0


def test_only_posts_sent_in_the_period_count_and_a_fresh_one_says_so(store: Store) -> None:
    cid, _ = _seed(store)
    with store.reading() as session:
        tuesday_only = ranking(
            session,
            cid,
            MONDAY + timedelta(days=1),
            MONDAY + timedelta(days=2),
            now=MONDAY + timedelta(days=1, hours=2),
        )
        other = ranking(session, cid + 1000, MONDAY, MONDAY + timedelta(days=7), now=MONDAY)
    assert [r["kind"] for r in tuesday_only] == ["broadcast"]
    assert tuesday_only[0]["complete"] is False  # its 24 hours are not over
    assert other == []
