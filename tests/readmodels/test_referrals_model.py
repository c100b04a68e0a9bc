"""The referral leaderboard and rewards: one definition of joined / qualified / pending /
held and of the rank, for a campaign's window (CLI, API) and the dashboard's 30 days."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from qunzhu_tests_readmodels import feed, ids, join

from qunzhu.cli.main import app
from qunzhu.growth.common import GrowthError
from qunzhu.readmodels import referrals
from qunzhu.store.growth import Campaign, ReferralReward
from qunzhu.store.models import Referral

T0 = datetime(2025, 3, 1, tzinfo=UTC)
LADDER = [
    {"invitees": 1, "reward": {"kind": "points", "value": 5}},
    {"invitees": 3, "reward": {"kind": "points", "value": 50}},
]


def _seed(store) -> dict[str, int]:
    """boss invited v0..v3 (2 qualified, 1 pending, 1 held), mid invited m0 (qualified),
    and boss's v9 joined before the campaign."""
    names = ["boss", "mid", "v0", "v1", "v2", "v3", "m0", "v9"]
    feed(store, *(join(n, T0 - timedelta(days=60)) for n in names))
    found = ids(store)
    cid = found["acme"]
    referred = [
        ("boss", "v0", "qualified", T0 + timedelta(days=1)),
        ("boss", "v1", "qualified", T0 + timedelta(days=2)),
        ("boss", "v2", "pending", T0 + timedelta(days=3)),
        ("boss", "v3", "held", T0 + timedelta(days=4)),
        ("mid", "m0", "qualified", T0 + timedelta(days=1)),
        ("boss", "v9", "qualified", T0 - timedelta(days=5)),
    ]
    with store.unit_of_work() as session:
        campaign = Campaign(
            community_id=cid,
            slug="spring",
            name="春季裂变",
            starts_at=T0,
            ends_at=T0 + timedelta(days=30),
            ladder=LADDER,
        )
        session.add(campaign)
        session.flush()
        for inviter, invitee, status, at in referred:
            session.add(
                Referral(
                    community_id=cid,
                    group_id=found["g1"],
                    inviter_member_id=found[inviter],
                    invitee_member_id=found[invitee],
                    key=f"{inviter}:{invitee}",
                    occurred_at=at,
                    status=status,
                )
            )
        session.add(
            ReferralReward(
                community_id=cid,
                campaign_id=campaign.id,
                member_id=found["boss"],
                rung=1,
                kind="points",
                value="5",
                status="held",
                signals={"same_device": 2},
            )
        )
    return found


def test_the_campaign_leaderboard_counts_its_window_and_ranks_by_qualified(store, personas):
    found = _seed(store)
    with store.engine.connect() as conn:
        board = referrals.campaign_leaderboard(conn, found["acme"], "spring")
    assert [
        (b.rank, b.member_id, b.joined, b.qualified, b.pending, b.held, b.rung, b.next_at)
        for b in board.leaders
    ] == [
        (1, found["boss"], 4, 2, 1, 1, 1, 3),
        (2, found["mid"], 1, 1, 0, 0, 1, 3),
    ]


def test_a_window_without_an_end_counts_everything_since(store, personas):
    found = _seed(store)
    with store.engine.connect() as conn:
        board = referrals.leaderboard(conn, found["acme"], T0 - timedelta(days=10), None, LADDER)
    assert next((b.member_id, b.joined, b.qualified, b.rung) for b in board) == (
        found["boss"],
        5,
        3,
        2,
    )


def test_leaderboards_and_rewards_are_scoped_by_community(store, personas):
    _seed(store)
    rival = personas.communities["rival"]
    with store.engine.connect() as conn:
        assert referrals.leaderboard(conn, rival, T0 - timedelta(days=99)) == ()
        assert referrals.rewards(conn, rival) == ()
        assert referrals.reward_counts(conn, rival) == {}
        with pytest.raises(GrowthError):
            referrals.campaign_leaderboard(conn, rival, "spring")


def test_cli_and_api_show_the_same_leaderboard_and_rewards(store, personas, client, cli, cli_env):
    found = _seed(store)
    with store.engine.connect() as conn:
        expected = [
            (b.member_id, b.joined, b.qualified, b.pending, b.held)
            for b in referrals.campaign_leaderboard(conn, found["acme"], "spring").leaders
        ]
        held = [
            (r.id, r.member_id, r.status) for r in referrals.rewards(conn, found["acme"], "held")
        ]

    def pick(rows: list[dict]) -> list[tuple]:
        return [
            (r["member_id"], r["joined"], r["qualified"], r["pending"], r["held"]) for r in rows
        ]

    shown = cli.invoke(app, ["referral", "leaderboard", "spring", "-c", "acme", "--json"])
    assert shown.exit_code == 0, shown.output
    answer = client.get(
        "/api/v1/communities/acme/referral/campaigns/spring", headers=personas["analyst"].headers
    )
    assert answer.status_code == 200, answer.text
    assert pick(json.loads(shown.stdout)) == pick(answer.json()["leaderboard"]) == expected

    cli_rewards = cli.invoke(
        app, ["referral", "rewards", "-c", "acme", "--status", "held", "--json"]
    )
    api_rewards = client.get(
        "/api/v1/communities/acme/referral/rewards?status=held",
        headers=personas["analyst"].headers,
    )
    assert [(r["id"], r["member_id"], r["status"]) for r in json.loads(cli_rewards.stdout)] == held
    assert [(r["id"], r["member_id"], r["status"]) for r in api_rewards.json()] == held
    assert held == [(held[0][0], found["boss"], "held")]
