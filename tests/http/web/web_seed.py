"""A small community with something in every section of every page (fixture ``acme``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from qunzhu_tests_http import feed, joined, message
from sqlalchemy import select

ACME_PHONE = "13812345678"
ACME_REAL_NAME = "王小明"
SPAM = "加我微信 13812345678 领资料"


@pytest.fixture
def acme(personas: Any) -> dict[str, int]:
    """Events through the pipeline (joins, messages, a question nobody answered, a reply,
    an application, an invitation) and rows the other engines would write (a pending
    moderation action, a quarantined input, a tier), all in community ``acme``."""
    from datetime import UTC, datetime, timedelta

    from qunzhu.store.models import (
        Group,
        Member,
        Message,
        ModerationAction,
        Quarantine,
        Referral,
        TierChange,
    )

    now = datetime.now(UTC)
    items = [joined(f"u{i}") for i in range(6)]
    items += [message(n, member=f"u{n % 5}", days_ago=d) for d in (0, 1, 8, 9) for n in range(6)]
    items += [
        message(900, member="u1", text="有人知道怎么配置代理吗？"),
        message(901, member="u2", text=SPAM),
        message(902, group="g2", member="u3"),
    ]
    items.append(
        {
            "type": "application_submitted",
            "platform": "api",
            "community": "acme",
            "group": "g1",
            "member": "applicant",
            "application_id": "app-1",
            "answers": {"why": f"想学习，电话 {ACME_PHONE}"},
            "occurred_at": now.isoformat(),
        }
    )
    feed(personas.store, items)
    ids: dict[str, int] = {}
    acme_id = personas.communities["acme"]
    with personas.store.unit_of_work() as session:
        groups = {
            g.platform_group_id: g.id
            for g in session.scalars(select(Group).where(Group.community_id == acme_id))
        }
        ids["g1"], ids["g2"] = groups["g1"], groups["g2"]
        session.get_one(Group, ids["g1"]).cap = 10
        members = {
            m.display_name: m.id
            for m in session.scalars(select(Member).where(Member.community_id == acme_id))
        }
        u1 = session.get_one(Member, members["u1"])
        u1.phone, u1.real_name = ACME_PHONE, ACME_REAL_NAME
        ids["u1"], ids["u2"], ids["u3"] = members["u1"], members["u2"], members["u3"]
        spam = session.scalars(select(Message).where(Message.text == SPAM)).one()
        spam.flagged = True
        action = ModerationAction(
            community_id=acme_id,
            group_id=spam.group_id,
            member_id=spam.member_id,
            message_id=spam.id,
            key="t-flag",
            action="delete",
            rule="contact_solicitation",
            detector="phone",
            score=0.9,
            status="pending_review",
            evidence={"phone": ACME_PHONE},
        )
        session.add(action)
        session.add(
            Referral(
                community_id=acme_id,
                group_id=ids["g1"],
                inviter_member_id=members["u1"],
                invitee_member_id=members["u4"],
                key="ref-1",
                occurred_at=now - timedelta(days=2),
                status="held",
            )
        )
        session.add(
            Referral(
                community_id=acme_id,
                group_id=ids["g1"],
                inviter_member_id=members["u1"],
                invitee_member_id=members["u3"],
                key="ref-2",
                occurred_at=now - timedelta(days=3),
                status="qualified",
            )
        )
        session.add(
            Quarantine(
                community_id=acme_id,
                key="q-1",
                source="import/wechat.csv",
                location="line 7",
                reason="no timestamp on the line",
                payload=f"bad line {ACME_PHONE}",
                created_at=now,
            )
        )
        session.add(
            TierChange(
                community_id=acme_id,
                member_id=members["u2"],
                tier="core",
                previous_tier="basic",
                reason="test",
            )
        )
        ids["reward"] = _held_reward(session, acme_id, members["u1"], now)
        session.flush()
        ids["action"] = action.id
        ids["spam_message"] = spam.id
    return ids


def _held_reward(session: Any, community_id: int, member_id: int, now: Any) -> int:
    """A reward held by the fraud check, when the growth package's tables exist (0 if not)."""
    try:
        from qunzhu.store.growth import Campaign, ReferralReward
    except ImportError:
        return 0
    campaign = Campaign(
        community_id=community_id,
        slug="spring",
        name="春季裂变",
        starts_at=now - timedelta(days=20),
        ends_at=None,
        ladder=[{"invitees": 1, "reward": {"kind": "points", "value": 100}}],
    )
    session.add(campaign)
    session.flush()
    reward = ReferralReward(
        community_id=community_id,
        campaign_id=campaign.id,
        member_id=member_id,
        rung=1,
        kind="points",
        value="100",
        status="held",
        signals={"quick_leave_share": 0.6},
    )
    session.add(reward)
    session.flush()
    return int(reward.id)
