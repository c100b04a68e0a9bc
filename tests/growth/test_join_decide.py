"""decide_join on snapshots built in code: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from qunzhu.growth.join_decide import (
    JoinCodeState,
    JoinSnapshot,
    ReferralCredit,
    decide_join,
)

AT = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
JOIN = JoinSnapshot(
    community_id=1, group_id=10, member_id=100, at=AT, code="", inviter=None, threshold="open"
)
FREE = JoinCodeState(group_id=None, used_at=None, used_by=None, expires_at=None)


def test_an_open_join_without_a_code_takes_a_seat_and_credits_nobody():
    decision = decide_join(JOIN)
    assert decision.seat and decision.referral is None and decision.settle is None
    assert decision.code_refusal is None and decision.redeem is None


def test_the_platforms_inviter_is_settled():
    decision = decide_join(replace(JOIN, inviter=7))
    assert decision.seat and decision.settle == 7 and decision.referral is None


def test_a_referral_code_credits_its_owner():
    decision = decide_join(replace(JOIN, code="ABC", referral_owner=7))
    assert decision.referral == ReferralCredit(7, "ABC")
    assert decision.settle == 7 and decision.seat


def test_the_platforms_inviter_wins_over_a_referral_code():
    decision = decide_join(replace(JOIN, code="ABC", referral_owner=7, inviter=8))
    assert decision.referral is None and decision.settle == 8


def test_nobody_refers_themself():
    decision = decide_join(replace(JOIN, code="ABC", referral_owner=JOIN.member_id))
    assert decision.referral is None and decision.settle is None and decision.seat


def test_a_free_join_code_is_spent_and_admits():
    snap = replace(JOIN, threshold="join_code", code="J1", join_code=FREE)
    decision = decide_join(snap)
    assert decision.redeem == "J1" and decision.seat and decision.code_refusal is None


def test_a_join_code_spent_by_the_same_member_admits_again_without_spending():
    used = replace(FREE, used_at=AT - timedelta(days=1), used_by=JOIN.member_id)
    decision = decide_join(replace(JOIN, threshold="join_code", code="J1", join_code=used))
    assert decision.seat and decision.code_refusal is None


def test_a_join_code_used_by_someone_else_declines_the_join():
    used = replace(FREE, used_at=AT - timedelta(days=1), used_by=5)
    decision = decide_join(replace(JOIN, threshold="join_code", code="J1", join_code=used))
    assert not decision.seat and decision.redeem is None
    assert decision.decline is not None and decision.decline.reason == "join_code_used"
    assert decision.code_refusal == decision.decline and decision.settle is None


def test_an_expired_join_code_declines_the_join():
    old = replace(FREE, expires_at=AT - timedelta(seconds=1))
    decision = decide_join(replace(JOIN, threshold="join_code", code="J1", join_code=old))
    assert decision.decline is not None and decision.decline.reason == "join_code_expired"


def test_a_join_code_community_declines_a_join_without_a_code():
    decision = decide_join(replace(JOIN, threshold="join_code"))
    assert decision.decline is not None and decision.decline.reason == "join_code_missing"


def test_an_unknown_code_in_an_open_community_is_kept_as_an_unknown_referral_code():
    decision = decide_join(replace(JOIN, code="NOPE"))
    assert decision.seat  # an open community admits anyway
    assert decision.code_refusal is not None
    assert decision.code_refusal.reason == "unknown_referral_code"
    assert "NOPE" in decision.code_refusal.message


def test_an_unknown_code_in_a_join_code_community_is_an_unknown_join_code():
    decision = decide_join(replace(JOIN, threshold="join_code", code="NOPE"))
    assert decision.decline is not None and decision.decline.reason == "unknown_join_code"


def test_a_paid_community_declines_a_member_who_has_not_paid_but_keeps_the_referral():
    snap = replace(JOIN, threshold="paid", code="ABC", referral_owner=7)
    decision = decide_join(snap)
    assert not decision.seat and decision.decline is not None
    assert decision.decline.reason == "not_paid" and decision.paid_refusal == decision.decline
    assert decision.referral == ReferralCredit(7, "ABC")
    assert decision.settle is None  # a declined join moves nobody's ladder


def test_a_paid_community_admits_a_member_who_paid():
    decision = decide_join(replace(JOIN, threshold="paid", paid=True, inviter=7))
    assert decision.seat and decision.settle == 7


def test_a_paid_community_keeps_both_refusals_of_a_bad_code_and_no_payment():
    decision = decide_join(replace(JOIN, threshold="paid", code="NOPE"))
    assert decision.code_refusal is not None and decision.paid_refusal is not None
    assert decision.code_refusal.reason == "unknown_referral_code"
    assert not decision.seat


def test_a_refusal_is_recorded_with_the_code_when_the_code_was_refused():
    decision = decide_join(replace(JOIN, code="NOPE"))
    assert decision.code_refusal is not None
    reason, what = decision.code_refusal.record(replace(JOIN, code="NOPE"), with_code=True)
    assert reason.startswith("unknown_referral_code: ")
    assert what == "member 100 joined group 10 with 'NOPE'"
