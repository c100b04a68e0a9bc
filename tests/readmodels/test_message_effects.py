"""What a broadcast caused, on both databases: the 24 hours after it in each group reached —
direct replies, messages, distinct speakers, value, leaves — beside the same hours a week
earlier; private messages and deliveries not sent are not measured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from qunzhu.events import event_from_json
from qunzhu.readmodels.message_effects import calendar_effects, effects_of, summary
from qunzhu.store import Store
from qunzhu.store.community import Community, Group
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.messaging import Broadcast
from qunzhu.wiring import build_pipeline

SENT = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def _event(kind: str, member: str, at: datetime, **extra) -> dict:
    return {
        "type": kind,
        "platform": "telegram",
        "community": "acme",
        "group": "-1001",
        "member": member,
        "occurred_at": at.isoformat(),
        **extra,
    }


def _seed(store: Store) -> tuple[int, int]:
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会", spec_yaml="name: x\npurpose: y\n"))
    before = SENT - timedelta(days=7)
    events = [
        _event("message_posted", "a", before + timedelta(hours=1), message_id="u1", text="早"),
        # after the broadcast: two replies to it, one other message, one leave, and a message
        # after the 24 hours that does not count
        _event(
            "message_posted",
            "a",
            SENT + timedelta(minutes=5),
            message_id="r1",
            text="我在读三体",
            reply_to="777",
        ),
        _event(
            "message_posted",
            "b",
            SENT + timedelta(minutes=9),
            message_id="r2",
            text="置身事内",
            reply_to="777",
        ),
        _event("message_posted", "c", SENT + timedelta(hours=3), message_id="m3", text="好书"),
        _event("member_left", "d", SENT + timedelta(hours=5)),
        _event("message_posted", "c", SENT + timedelta(hours=30), message_id="m4", text="晚了"),
    ]
    build_pipeline(store, "history").run([event_from_json(e) for e in events], source="test")
    with store.unit_of_work() as session:
        cid = session.scalar(select(Community.id).where(Community.slug == "acme"))
        broadcast = Broadcast(
            community_id=cid,
            created_by="calendar:5",
            texts={"zh-CN": "话题"},
            audience={},
            targets=2,
        )
        session.add(broadcast)
        session.flush()
        for n, (chat, private, status) in enumerate(
            (("-1001", False, "sent"), ("42", True, "sent"), ("-1001", False, "failed"))
        ):
            session.add(
                OutboxAction(
                    community_id=cid,
                    origin=f"broadcast:{broadcast.id}",
                    key=f"k{n}",
                    kind="send_message",
                    platform="telegram",
                    action={"group": chat, "detail": {"private": private}},
                    status=status,
                    result={"message_id": 777},
                    done_at=SENT,
                )
            )
        return int(cid), int(broadcast.id)


def test_the_day_after_a_broadcast_beside_the_usual(store):
    cid, broadcast = _seed(store)
    with store.reading() as session:
        found = effects_of(session, cid, broadcast, now=SENT + timedelta(days=2))
        group = session.scalar(select(Group.name))
    [effect] = found
    assert effect.group == group and effect.complete and effect.replies == 2
    assert (effect.after.messages, effect.after.speakers, effect.after.leaves) == (3, 3, 1)
    assert (effect.usual.messages, effect.usual.speakers, effect.usual.leaves) == (1, 1, 0)
    total = summary(found)
    assert total["replies"] == 2 and total["after"]["messages"] == 3 and total["groups"] == 1
    with store.reading() as session:
        early = effects_of(session, cid, broadcast, now=SENT + timedelta(hours=2))
        assert not early[0].complete
        per_post = calendar_effects(session, cid, 5, now=SENT + timedelta(days=2))
    assert per_post == {
        "occurrences": 1,
        "mean_replies": 2.0,
        "mean_speakers": 3.0,
        "mean_value": per_post["mean_value"],
        "mean_leaves": 1.0,
    }
