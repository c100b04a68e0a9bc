"""Personal invite links: asked for once, queued in the outbox bound to the member's code,
refused with a reason for bad input; invitations recorded apart from the join (``invite_used``)
settle their referrer's ladder like joins do."""

from __future__ import annotations

import pytest
from qunzhu_tests_growth import T0, days, rows
from sqlalchemy import select, update

from qunzhu import events as ev
from qunzhu.growth import referrals
from qunzhu.growth.common import GrowthError
from qunzhu.store import outbox
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.growth import InviteCode, ReferralReward
from qunzhu.store.models import Community, Referral

LADDER = """
referral:
  enabled: true
  ladder:
    - {invitees: 2, reward: {kind: points, value: 100}}
  qualification: {stay_days: 7, must_speak: true}
  clawback_days: 30
"""


def test_a_link_is_queued_once_with_the_members_code_and_platform_id(store, town):
    t = town()
    t.join("boss", at=T0)
    cid, boss, group = t.community_id, t.member_id("boss"), t.group_id()
    with store.engine.begin() as conn:
        first = referrals.request_invite_link(conn, cid, boss, group, 5)
    with store.engine.begin() as conn:
        again = referrals.request_invite_link(conn, cid, boss, group, 5)
    assert first == again and first["status"] == "queued" and first["link"] is None
    [row] = rows(store, select(OutboxAction.origin, OutboxAction.action))
    assert row.origin == f"invite:{boss}:{group}:5"
    detail = row.action["detail"]
    assert detail == {
        "name": f"ref:boss:{first['code']}",
        "member_limit": 5,
        "referrer": "boss",
        "code": first["code"],
    }
    with store.engine.begin() as conn:  # another limit is another link
        other = referrals.request_invite_link(conn, cid, boss, group, None)
    assert other["outbox_id"] != first["outbox_id"]


def test_a_link_made_is_stored_on_the_code_and_a_failed_one_asked_again(store, town):
    t = town()
    t.join("boss", at=T0)
    cid, boss, group = t.community_id, t.member_id("boss"), t.group_id()
    with store.engine.begin() as conn:
        asked = referrals.request_invite_link(conn, cid, boss, group, 3)
    [action] = outbox.claim(store, "test")
    outcome = outbox.outcome_of(action, "failed", 5, "bot is not an admin", None)
    assert outcome is not None
    outbox.record_outcomes(store, [outcome])
    with store.engine.begin() as conn:
        retried = referrals.request_invite_link(conn, cid, boss, group, 3)
    assert retried["outbox_id"] == asked["outbox_id"] and retried["status"] == "queued"
    [action] = outbox.claim(store, "test")
    made = outbox.outcome_of(action, "sent", 1, None, {"invite_link": "https://t.me/+abc"})
    assert made is not None
    outbox.record_outcomes(store, [made])
    assert rows(store, select(InviteCode.link)) == [("https://t.me/+abc",)]
    assert rows(store, select(OutboxAction.status, OutboxAction.attempts)) == [("sent", 6)]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"member": 10**9}, "unknown_member"),
        ({"group": 10**9}, "unknown_group"),
        ({"limit": 0}, "bad_member_limit"),
        ({"limit": 100_000}, "bad_member_limit"),
        ({"other_community": True}, "unknown_member"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(store, town, change, reason):
    t = town()
    t.join("boss", at=T0)
    cid, boss, group = t.community_id, t.member_id("boss"), t.group_id()
    if change.get("other_community"):
        with store.unit_of_work() as session:
            rival = Community(slug="rival", name="Rival")
            session.add(rival)
            session.flush()
            cid = rival.id
    with store.engine.begin() as conn, pytest.raises(GrowthError) as refused:
        referrals.request_invite_link(
            conn, cid, change.get("member", boss), change.get("group", group), change.get("limit")
        )
    assert refused.value.reason == reason
    assert rows(store, select(OutboxAction.id)) == []


def test_invitations_recorded_apart_from_the_join_settle_the_referrer(store, town):
    t = town(LADDER)
    t.join("boss", at=T0 - days(60))
    for name in ("v1", "v2"):
        t.join(name, at=T0)
        t.say(name, at=T0 + days(1))
    # a chat export tells later who invited them (a WeChat system line, at the join's time),
    # in a batch whose clock is past the stay window: that batch settles boss's ladder
    invited = [
        ev.InviteUsed(
            platform="test",
            community="acme",
            group="g1",
            member=name,
            inviter="boss",
            occurred_at=T0,
        )
        for name in ("v1", "v2")
    ]
    later = ev.MessagePosted(
        platform="test",
        community="acme",
        group="g1",
        member="boss",
        occurred_at=T0 + days(8),
        message_id="boss-later",
        text="欢迎两位新朋友",
    )
    t.feed(*invited, later)
    assert sorted(s for (s,) in rows(store, select(Referral.status))) == ["qualified"] * 2
    assert rows(store, select(ReferralReward.member_id, ReferralReward.status)) == [
        (t.member_id("boss"), "granted")
    ]


def test_a_code_without_a_platform_identity_names_no_referrer(store, town):
    t = town()
    t.join("boss", at=T0)
    cid, boss = t.community_id, t.member_id("boss")
    with store.engine.begin() as conn:
        conn.execute(update(InviteCode).values(link=None))
        from qunzhu.store.models import Group

        # a telegram group of the community: boss has no telegram identity
        conn.execute(
            Group.__table__.insert().values(
                community_id=cid, platform="telegram", platform_group_id="-100", name="tg"
            )
        )
        tg = conn.execute(select(Group.id).where(Group.platform == "telegram")).scalar_one()
        asked = referrals.request_invite_link(conn, cid, boss, tg, None)
    [(detail,)] = rows(store, select(OutboxAction.action))
    assert detail["detail"]["referrer"] is None
    assert detail["detail"]["name"] == f"ref::{asked['code']}"
