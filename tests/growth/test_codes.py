"""A code given by a platform or a person names the stored code of that exact text first;
ignoring case only when that names one code."""

from __future__ import annotations

from qunzhu_tests_growth import T0, rows
from sqlalchemy import insert, select

from qunzhu.growth.codes import resolve_code
from qunzhu.store.base import table_of
from qunzhu.store.growth import InviteCode, JoinCode
from qunzhu.store.models import Referral

OPEN = "threshold: {kind: open}\n"


def _codes(store, cid, **member_codes):
    with store.engine.begin() as conn:
        conn.execute(
            insert(table_of(InviteCode)),
            [{"community_id": cid, "member_id": m, "code": c} for c, m in member_codes.items()],
        )


def test_a_case_sensitive_platform_code_credits_its_own_owner(store, town):
    t = town(OPEN)
    t.join("ann", at=T0)
    t.join("bob", at=T0)
    ann, bob = t.member_id("ann"), t.member_id("bob")
    # two platform codes that differ only in case: upper-casing found neither of them
    _codes(store, t.community_id, qzAbc=ann, QZABC=bob)
    t.join("fan", at=T0, code="qzAbc")
    t.join("pal", at=T0, code=" QZABC ")
    credited = rows(store, select(Referral.invitee_member_id, Referral.inviter_member_id))
    assert sorted(credited) == sorted([(t.member_id("fan"), ann), (t.member_id("pal"), bob)])


def test_a_code_in_another_case_counts_only_when_it_names_one_code(store, town):
    t = town(OPEN)
    for who in ("ann", "bob", "cy"):
        t.join(who, at=T0)
    ann, bob, cy = (t.member_id(w) for w in ("ann", "bob", "cy"))
    _codes(store, t.community_id, wxState7=ann, qzAbc=bob, QZABC=cy)
    t.join("fan", at=T0, code="WXSTATE7")  # one code ignoring case: it is that one
    t.join("odd", at=T0, code="QzAbC")  # two codes ignoring case: neither is guessed
    credited = rows(
        store, select(Referral.invitee_member_id, Referral.inviter_member_id, Referral.code)
    )
    assert credited == [(t.member_id("fan"), ann, "wxState7")]


def test_exact_matches_in_every_table_come_before_any_match_ignoring_case(store, town):
    t = town(OPEN)
    t.join("ann", at=T0)
    cid = t.community_id
    _codes(store, cid, JOIN42=t.member_id("ann"))
    invite, join = table_of(InviteCode), table_of(JoinCode)
    with store.engine.begin() as conn:
        conn.execute(insert(join), [{"community_id": cid, "code": "join42", "note": ""}])
        assert resolve_code(conn, [invite, join], cid, "join42") == (join, "join42")
        assert resolve_code(conn, [invite, join], cid, "JOIN42") == (invite, "JOIN42")
        assert resolve_code(conn, [invite, join], cid, "Join42") is None  # two: no guess
        assert resolve_code(conn, [invite, join], cid + 1, "JOIN42") is None  # other community
        assert resolve_code(conn, [invite, join], cid, "  ") is None


def test_a_join_code_typed_in_lower_case_is_spent_as_stored(store, town):
    from qunzhu.growth import admission

    t = town("threshold: {kind: join_code}\n")
    cid = t.community_id
    with store.engine.begin() as conn:
        (code,) = admission.issue_join_codes(conn, cid, 1)
    assert t.join("ann", at=T0, code=code.lower()).actions == []
    ((used_by, stored),) = rows(store, select(JoinCode.used_by_member_id, JoinCode.code))
    assert (used_by, stored) == (t.member_id("ann"), code)
