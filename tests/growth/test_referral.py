"""Referral: qualification after the stay window, the ladder paid once, clawback, fraud
holds, codes, leaderboards, the attribution tree and K-factor."""

from __future__ import annotations

from qunzhu_tests_growth import T0, days, rows
from sqlalchemy import select

from qunzhu.growth import referrals
from qunzhu.growth.referral_settle import settle
from qunzhu.store.growth import ReferralReward
from qunzhu.store.models import Quarantine, Referral

LADDER = """
referral:
  enabled: true
  ladder:
    - {invitees: 5, reward: {kind: points, value: 100}}
    - {invitees: 20, reward: {kind: coupon, value: BOOK20}}
  qualification: {stay_days: 7, must_speak: true}
  clawback_days: 30
"""


def _rewards(store):
    return rows(
        store,
        select(ReferralReward.member_id, ReferralReward.rung, ReferralReward.status).order_by(
            ReferralReward.id
        ),
    )


def _statuses(store):
    return sorted(s for (s,) in rows(store, select(Referral.status)))


def test_six_invitees_five_qualify_one_leaves_first_rung_granted_once(store, town):
    t = town(LADDER)
    cid = t.community_id
    t.join("boss", at=T0 - days(60))
    for i in range(6):
        t.join(f"v{i}", at=T0 + days(i / 10), inviter="boss")
    t.leave("v5", at=T0 + days(2))  # inside the stay window: never qualifies
    for i in range(5):
        t.say(f"v{i}", at=T0 + days(1))
    with store.engine.begin() as conn:
        assert settle(conn, cid, now=T0 + days(3)).granted == 0  # window not over
    assert _statuses(store) == ["disqualified"] + ["pending"] * 5
    for _ in range(2):  # settling again grants nothing twice
        with store.engine.begin() as conn:
            settle(conn, cid, now=T0 + days(8))
    assert _statuses(store) == ["disqualified"] + ["qualified"] * 5
    assert _rewards(store) == [(t.member_id("boss"), 5, "granted")]


def test_invitee_leaving_within_clawback_window_takes_the_rung_back(store, town):
    t = town(LADDER)
    cid = t.community_id
    t.join("boss", at=T0 - days(60))
    for i in range(5):
        t.join(f"v{i}", at=T0, inviter="boss")
        t.say(f"v{i}", at=T0 + days(1))
    with store.engine.begin() as conn:
        settle(conn, cid, now=T0 + days(8))
    assert [r.status for r in _rewards(store)] == ["granted"]
    t.leave("v0", at=T0 + days(10))  # the reactor settles the referrer at once
    assert sorted(_statuses(store)) == ["clawed_back"] + ["qualified"] * 4
    assert [r.status for r in _rewards(store)] == ["clawed_back"]


def test_silent_invitee_does_not_qualify(store, town):
    t = town(LADDER)
    cid = t.community_id
    t.join("boss", at=T0 - days(60))
    t.join("quiet", at=T0, inviter="boss")
    with store.engine.begin() as conn:
        settle(conn, cid, now=T0 + days(20))
    assert _statuses(store) == ["pending"]
    t.say("quiet", at=T0 + days(21))  # speaking later qualifies at once
    assert _statuses(store) == ["qualified"]


def test_rejoin_and_ring_are_not_paid(store, town):
    ring = LADDER.replace("invitees: 5,", "invitees: 1,")
    t = town(ring)
    cid = t.community_id
    # a ring: a brings b, b brings c, c brings a back into another group
    t.join("a", at=T0 - days(30))
    t.join("b", at=T0, inviter="a")
    t.join("c", at=T0, inviter="b")
    t.join("a", group="g2", at=T0 + days(1), inviter="c")
    for who in ("a", "b", "c"):
        t.say(who, at=T0 + days(2))
    trio = {t.member_id(x) for x in ("a", "b", "c")}
    with store.engine.begin() as conn:
        # only the referrers an event touched, as the reactor does: rings found by walking up
        settle(conn, cid, now=T0 + days(9), inviters=trio)
    reasons = dict(rows(store, select(Referral.invitee_member_id, Referral.status_reason)))
    assert reasons[t.member_id("a")] == "rejoin"  # a was in the community before
    got = {(m, s) for m, _, s in _rewards(store)}
    assert got == {(t.member_id("a"), "held"), (t.member_id("b"), "held")}
    signals = rows(store, select(ReferralReward.signals))
    assert all(s["ring"] for (s,) in signals)


def test_burst_of_joins_holds_the_reward_for_review_and_approval_grants_it(store, town):
    burst = LADDER + "  fraud: {max_invites_per_day: 3}\n"
    t = town(burst)
    cid = t.community_id
    t.join("boss", at=T0 - days(60))
    for i in range(5):
        t.join(f"v{i}", at=T0, inviter="boss")
        t.say(f"v{i}", at=T0 + days(1))
    with store.engine.begin() as conn:
        report = settle(conn, cid, now=T0 + days(8))
    assert (report.granted, report.held) == (0, 1)
    (reward_id,) = rows(store, select(ReferralReward.id))[0]
    with store.engine.begin() as conn:
        assert referrals.decide_reward(conn, cid, reward_id, "approve") == "granted"
        assert referrals.decide_reward(conn, cid, reward_id, "redeem") == "redeemed"


def test_join_with_personal_code_is_attributed_and_unknown_code_is_recorded(store, town):
    t = town(LADDER)
    cid = t.community_id
    t.join("boss", at=T0 - days(60))
    boss = t.member_id("boss")
    with store.engine.begin() as conn:
        codes = referrals.ensure_invite_codes(conn, cid, [boss])
        again = referrals.ensure_invite_codes(conn, cid, [boss])
    assert codes == again  # a member keeps one code
    code = codes[boss]
    t.join("fan", at=T0, code=code.lower())
    assert rows(store, select(Referral.inviter_member_id, Referral.code)) == [
        (t.member_id("boss"), code)
    ]
    report = t.join("stranger", at=T0, code="NOSUCHCODE")
    assert report.actions == []  # an open community still lets them in
    reasons = [r for (r,) in rows(store, select(Quarantine.reason))]
    assert any("unknown_referral_code" in r for r in reasons)


def test_leaderboard_tree_and_k_factor(store, town):
    t = town(LADDER)
    cid = t.community_id
    t.join("boss", at=T0 - days(60))
    t.join("mid", at=T0 - days(50))
    for i in range(3):
        t.join(f"v{i}", at=T0, inviter="boss")
    t.join("w0", at=T0 + days(1), inviter="v0")
    t.join("m0", at=T0, inviter="mid")
    boss = t.member_id("boss")
    with store.engine.begin() as conn:
        referrals.create_campaign(
            conn,
            cid,
            "spring",
            "春季裂变",
            [{"invitees": 2, "reward": {"kind": "points", "value": 5}}],
            T0 - days(1),
            T0 + days(30),
        )
        board = referrals.leaderboard(conn, cid, "spring")
        stats = referrals.campaign_stats(conn, cid, "spring")
        tree = referrals.attribution_tree(conn, cid, boss)
    assert [(r["member_id"], r["joined"], r["rank"]) for r in board][:2] == [
        (t.member_id("boss"), 3, 1),
        (t.member_id("mid"), 1, 2),
    ]
    assert stats["referred_joins"] == 5 and stats["base_members"] == 2
    assert stats["k_joined"] == 2.5
    assert tree["descendants"] == 4
    assert [k["descendants"] for k in tree["invited"]] == [1, 0, 0]


def test_tier_reward_sets_the_tier_when_granted(store, town):
    from qunzhu.store.intelligence import TierState

    tier = LADDER.replace(
        "{invitees: 5, reward: {kind: points, value: 100}}",
        "{invitees: 1, reward: {kind: tier, value: core}}",
    )
    t = town(tier)
    cid = t.community_id
    t.join("boss", at=T0 - days(60))
    t.join("v0", at=T0, inviter="boss")
    t.say("v0", at=T0 + days(1))
    with store.engine.begin() as conn:
        settle(conn, cid, now=T0 + days(8))
    assert rows(store, select(TierState.member_id, TierState.tier)) == [
        (t.member_id("boss"), "core")
    ]
