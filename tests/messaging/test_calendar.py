"""The content calendar on both databases: a draft waits for an admin; an approved Monday
topic goes out once on each Monday morning in its time zone; an occurrence missed by more
than an hour is counted, not sent late; a post whose group is gone goes back to a draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from qunzhu.growth.common import spec_of
from qunzhu.messaging import calendar
from qunzhu.messaging.calendar import CalendarError, PostRequest
from qunzhu.messaging.recurrence import zone
from qunzhu.store import Store
from qunzhu.store.community import Community, Group
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.messaging import Broadcast

SHANGHAI = zone("Asia/Shanghai")
MONDAY_9 = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)


def _seed(store: Store) -> int:
    with store.unit_of_work() as session:
        community = Community(slug="acme", name="读书会", spec_yaml="name: 读书会\npurpose: x\n")
        session.add(community)
        session.flush()
        for n in (1, 2):
            session.add(
                Group(
                    community_id=community.id,
                    platform="telegram",
                    platform_group_id=f"-100{n}",
                    name=f"读书{n}群",
                )
            )
        return int(community.id)


def _plan(store: Store, cid: int, now: datetime, **kw) -> int:
    with store.unit_of_work() as session:
        post = calendar.create(
            session,
            cid,
            PostRequest(
                texts={"zh-CN": "{group} 本周话题：你最近在读什么？"},
                starts_at=MONDAY_9,
                timezone="Asia/Shanghai",
                rrule="FREQ=WEEKLY;BYDAY=MO",
                every_group=True,
                **kw,
            ),
            now,
        )
        return int(post.id)


def _due(store: Store, cid: int, now: datetime) -> dict:
    with store.unit_of_work() as session:
        return calendar.due(session, cid, "acme", spec_of(session.connection(), cid), now)


def _sends(store: Store) -> list[str]:
    with store.reading() as session:
        rows = session.scalars(select(OutboxAction.action).order_by(OutboxAction.id)).all()
    return [r["text"] for r in rows]


def test_a_draft_waits_and_an_approved_monday_topic_goes_out_once_each_monday(store):
    cid = _seed(store)
    sunday = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    post = _plan(store, cid, sunday)
    monday = MONDAY_9.astimezone(UTC) + timedelta(minutes=1)
    assert _due(store, cid, monday) == {"sent": 0, "missed": 0, "failed": 0}  # a draft
    with store.unit_of_work() as session:
        calendar.approve(session, cid, post, "admin", sunday)
        with pytest.raises(CalendarError):
            calendar.approve(session, cid, post, "admin", sunday)
    assert _due(store, cid, MONDAY_9.astimezone(UTC) - timedelta(minutes=1))["sent"] == 0
    assert _due(store, cid, monday)["sent"] == 1
    assert _due(store, cid, monday + timedelta(minutes=5))["sent"] == 0  # once
    assert _sends(store) == [
        "读书1群 本周话题：你最近在读什么？",
        "读书2群 本周话题：你最近在读什么？",
    ]
    with store.reading() as session:
        [listed] = calendar.listing(session, cid, monday)
        audience = session.scalar(select(Broadcast.audience))
    assert listed["sent"] == 1 and listed["next"][0] == datetime(2026, 12, 14, 1, 0, tzinfo=UTC)
    assert audience["calendar"] == post
    assert _due(store, cid, datetime(2026, 12, 14, 1, 0, 30, tzinfo=UTC))["sent"] == 1
    assert len(_sends(store)) == 4


def test_an_occurrence_missed_by_more_than_an_hour_is_counted_not_sent(store):
    cid = _seed(store)
    _plan(store, cid, datetime(2026, 12, 6, tzinfo=UTC), approve=True)
    late = datetime(2026, 12, 21, 6, 0, tzinfo=UTC)  # 14:00 on the third Monday
    assert _due(store, cid, late) == {"sent": 0, "missed": 3, "failed": 0}
    with store.reading() as session:
        [listed] = calendar.listing(session, cid, late)
    assert listed["next"][0] == datetime(2026, 12, 28, 1, 0, tzinfo=UTC) and _sends(store) == []


def test_a_post_whose_group_is_gone_goes_back_to_a_draft_saying_why(store):
    cid = _seed(store)
    with store.unit_of_work() as session:
        post = calendar.create(
            session,
            cid,
            PostRequest(
                texts={"zh-CN": "公告"},
                starts_at=MONDAY_9,
                timezone="Asia/Shanghai",
                groups=["读书1群"],
                approve=True,
                kind="announcement",
            ),
            datetime(2026, 12, 6, tzinfo=UTC),
        )
        post_id = post.id
    with store.unit_of_work() as session:
        session.execute(delete(Group).where(Group.name == "读书1群"))
    assert _due(store, cid, MONDAY_9.astimezone(UTC))["failed"] == 1
    with store.reading() as session:
        [listed] = calendar.listing(session, cid, MONDAY_9)
        queued = session.scalar(select(func.count()).select_from(OutboxAction))
    assert listed["id"] == post_id and listed["status"] == "draft"
    assert "读书1群" in listed["problem"] and queued == 0


def test_bad_posts_are_refused_with_their_field(store):
    cid = _seed(store)
    now = datetime(2026, 12, 6, tzinfo=UTC)
    cases = [
        ({"kind": "poem"}, "kind"),
        ({"rrule": "FREQ=MINUTELY"}, "rrule"),
        ({"texts": {"zh-CN": "{name} 你好"}}, "text.zh-CN"),
        ({"groups": ["没有的群"], "every_group": False}, "groups"),
    ]
    for change, field in cases:
        base = {
            "texts": {"zh-CN": "ok"},
            "starts_at": MONDAY_9,
            "timezone": "Asia/Shanghai",
            "every_group": True,
        }
        with pytest.raises(ValueError) as caught, store.unit_of_work() as session:
            calendar.create(session, cid, PostRequest(**{**base, **change}), now)
        assert caught.value.field == field, change  # type: ignore[attr-defined]
