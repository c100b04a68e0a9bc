"""Capacity: the 70th joiner of a 69-cap group meets the spec's policy; seats free up for
the waitlist; one-in-one-out proposes or removes the lowest-value unprotected member."""

from __future__ import annotations

from datetime import date

import pytest
from qunzhu_tests_growth import T0, days, rows
from sqlalchemy import insert, select, update

from qunzhu import events as ev
from qunzhu.growth import capacity
from qunzhu.growth.seats import count_holders, occupancy
from qunzhu.store.growth import EvictionProposal, MemberTag, WaitlistEntry
from qunzhu.store.intelligence import MemberValue


def _sixty_nine(t, cap: int = 69) -> None:
    t.feed(
        *[
            ev.MemberJoined(
                platform="test",
                community="acme",
                group="g1",
                member=f"m{i}",
                occurred_at=T0 + days(i / 100),
            )
            for i in range(cap)
        ]
    )


def _kinds(report) -> list[str]:
    return [a.kind for a in report.actions]


def test_join_over_cap_goes_to_waitlist_and_gets_the_freed_seat(store, town):
    t = town("size: {cap: 69, policy: waitlist, protected: [owner]}\n")
    _sixty_nine(t)
    gid = t.group_id()
    with store.engine.connect() as conn:
        assert occupancy(conn, gid) == (69, 69)
    report = t.join("late", at=T0 + days(2))
    assert _kinds(report) == ["decline_join", "send_message"]
    assert "第 1 位" in (report.actions[1].text or "")
    t.join("later", at=T0 + days(2.1))
    assert rows(store, select(WaitlistEntry.status).order_by(WaitlistEntry.id)) == [
        ("waiting",),
        ("waiting",),
    ]
    t.join("late", at=T0 + days(2))  # the same join told again: nothing new
    freed = t.leave("m3", at=T0 + days(3))
    assert _kinds(freed) == ["approve_join", "send_message"]
    assert freed.actions[0].member == "late"
    assert rows(store, select(WaitlistEntry.status).order_by(WaitlistEntry.id)) == [
        ("offered",),
        ("waiting",),
    ]
    with store.engine.connect() as conn:
        assert occupancy(conn, gid) == (69, 69)  # the seat is held for "late"
        assert count_holders(conn, gid) == 69
    assert _kinds(t.join("late", at=T0 + days(3.5))) == []  # comes in on the held seat


@pytest.mark.parametrize("auto", [False, True])
def test_one_in_one_out_picks_the_lowest_value_unprotected_member(store, town, auto):
    flag = str(auto).lower()
    t = town(f"size: {{cap: 69, policy: one_in_one_out, auto: {flag}, protected: [owner]}}\n")
    _sixty_nine(t)
    cid = t.community_id
    ids = [t.member_id(f"m{i}") for i in range(69)]
    with store.engine.begin() as conn:
        conn.execute(
            insert(MemberValue),
            [
                {"member_id": mid, "community_id": cid, "day": date(2025, 3, 1), "value": 10.0 + i}
                for i, mid in enumerate(ids)
            ],
        )
        conn.execute(
            insert(MemberTag), [{"member_id": ids[5], "tag": "owner", "community_id": cid}]
        )
        conn.execute(update(MemberValue).where(MemberValue.member_id == ids[5]).values(value=0.0))
    report = t.join("newbie", at=T0 + days(2))
    proposal = rows(store, select(EvictionProposal.member_id, EvictionProposal.status))
    assert proposal == [(ids[0], "removed" if auto else "proposed")]  # m5 is protected
    if auto:
        assert _kinds(report) == ["remove"] and report.actions[0].member == "m0"
    else:
        assert _kinds(report) == ["alert"]
        (pid,) = rows(store, select(EvictionProposal.id))[0]
        with store.engine.begin() as conn:
            acted = capacity.decide_eviction(conn, cid, pid, approve=True)
        assert [a.kind for a in acted] == ["remove"]
    gid = t.group_id()
    with store.engine.connect() as conn:
        assert occupancy(conn, gid) == (69, 69)
        assert count_holders(conn, gid) == 69


def test_full_group_routes_to_next_group_of_segment_then_asks_for_a_new_group(store, town):
    t = town(
        "size: {cap: 2, policy: new_group}\n"
        "segments:\n  - {id: starter, name: 入门班, groups: [g1, g2]}\n"
    )
    t.join("seed2", group="g2", at=T0)
    t.join("a", at=T0)
    t.join("b", at=T0)
    routed = t.join("c", at=T0 + days(1))
    assert _kinds(routed) == ["decline_join", "create_invite_link"]
    assert routed.actions[1].group == "g2"
    full = t.join("d", at=T0 + days(1))
    assert _kinds(full) == ["decline_join", "alert"]
    assert full.actions[1].reason == "open_new_group"


def test_everyone_protected_alerts_instead_of_removing(store, town):
    t = town("size: {cap: 2, policy: one_in_one_out, auto: true, protected: [vip]}\n")
    t.join("a", at=T0)
    t.join("b", at=T0)
    cid = t.community_id
    a, b = t.member_id("a"), t.member_id("b")
    with store.engine.begin() as conn:
        conn.execute(
            insert(MemberTag), [{"member_id": m, "tag": "vip", "community_id": cid} for m in (a, b)]
        )
    report = t.join("c", at=T0 + days(1))
    assert _kinds(report) == ["alert"] and report.actions[0].reason == "everyone_protected"
