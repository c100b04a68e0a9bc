"""The daily recompute's decisions on snapshots built in code: no database."""

from __future__ import annotations

import math
from datetime import date, timedelta

from qunzhu.engines.daily import DayView
from qunzhu.engines.daily_decide import (
    GroupBefore,
    decide_health,
    decide_roles,
    decide_values_and_tiers,
)
from qunzhu.engines.health import GroupSnapshot, HealthConfig
from qunzhu.engines.roles import RoleDecision
from qunzhu.engines.snapshot import Membership_, MemberTotals
from qunzhu.spec.members import RoleTargets, Tier

DAY = date(2025, 6, 30)
CFG = HealthConfig()


def test_a_role_that_holds_keeps_its_since_and_adds_no_history():
    view = DayView(DAY, roles={(1, 7): (RoleDecision("core", {"rule": "r"}), 31.23456)})
    (row,) = decide_roles(view, {(1, 7): ("core", DAY - timedelta(days=40))}, DAY)
    assert row.since == DAY - timedelta(days=40) and not row.changed
    assert row.previous == "core" and row.value == 31.235


def test_a_new_or_changed_role_starts_today_and_goes_into_the_history():
    view = DayView(
        DAY,
        roles={
            (1, 7): (RoleDecision("kol", {}), 90.0),
            (1, 8): (RoleDecision("newcomer", {}), 0.0),
        },
    )
    rows = {r.member_id: r for r in decide_roles(view, {(1, 7): ("core", date(2025, 1, 1))}, DAY)}
    assert rows[7].changed and rows[7].since == DAY and rows[7].previous == "core"
    assert rows[8].changed and rows[8].previous is None


def _group(values: list[float], **over: object) -> GroupSnapshot:
    base: dict[str, object] = dict(
        group_id=3,
        name="tg",
        value=values,
        joins_30d=2,
        leaves_30d=9,
        members=50,
        speakers_7d=2,
        speakers_30d=10,
        role_counts={"lurker": 45, "active": 5},
        member_values_30d=[1.0] * 10,
        questions_14d=10,
        unanswered_14d=8,
        first_answer_minutes=[300.0],
        newcomers=5,
        newcomers_activated=0,
    )
    base.update(over)
    return GroupSnapshot(**base)  # type: ignore[arg-type]


FADING = [50.0] * 60 + [50.0 * math.exp(-i / 4) for i in range(30)]


def test_a_group_crossing_both_lines_raises_both_alerts_once():
    view = DayView(DAY, groups={3: _group(FADING)})
    out = decide_health(view, RoleTargets(), CFG, before={}, alerted=set())
    (row,) = out.rows
    assert row.members == 50 and row.result.death_risk >= CFG.dying_risk
    assert {a.kind for a in out.alerts} == {"death_risk", "below_living"}
    assert all(a.group_id == 3 and a.message.startswith("tg: ") for a in out.alerts)


def test_a_group_already_over_the_line_yesterday_raises_nothing_new():
    view = DayView(DAY, groups={3: _group(FADING)})
    before = {3: GroupBefore(death_risk=95.0, value_per_day=0.1, living_threshold=10.0)}
    out = decide_health(view, RoleTargets(), CFG, before=before, alerted=set())
    assert out.alerts == []


def test_an_alert_in_the_quiet_days_is_not_raised_again():
    view = DayView(DAY, groups={3: _group(FADING)})
    out = decide_health(view, RoleTargets(), CFG, before={}, alerted={(3, "death_risk")})
    assert [a.kind for a in out.alerts] == ["below_living"]


def test_a_steady_group_raises_no_alert():
    view = DayView(DAY, groups={3: _group([50.0] * 90, speakers_7d=30, leaves_30d=0)})
    assert decide_health(view, RoleTargets(), CFG, before={}, alerted=set()).alerts == []


TIERS = [
    Tier(id="friend", name_zh="群友"),
    Tier.model_validate(
        {"id": "core", "name_zh": "核心", "promote": {"min_value": 10, "min_days_active": 2}}
    ),
]


def _member(mid: int) -> Membership_:
    return Membership_(1, mid, True, DAY - timedelta(days=100), None, "link", None)


def test_member_value_decays_by_the_half_life():
    totals = MemberTotals()
    totals.days[7] = [(DAY, 4.0, 2), (DAY - timedelta(days=30), 8.0, 3)]
    out = decide_values_and_tiers(totals, [_member(7)], {}, TIERS, 30.0, DAY)
    (value,) = out.values
    assert value.value == 8.0  # 4 today, 8 a half-life ago: 4 + 4
    assert (value.raw_value, value.messages, value.days_active) == (12.0, 5, 2)


def test_a_member_without_a_tier_gets_the_highest_they_qualify_for():
    totals = MemberTotals()
    totals.days[7] = [(DAY, 6.0, 1), (DAY - timedelta(days=1), 6.0, 1)]
    out = decide_values_and_tiers(totals, [_member(7), _member(8)], {}, TIERS, 30.0, DAY)
    tiers = {t.member_id: t for t in out.tiers}
    assert tiers[7].decision.tier == "core" and tiers[7].new and tiers[7].moves
    assert tiers[8].decision.tier == "friend"  # a member who never spoke has a tier too


def test_a_tier_that_holds_does_not_move():
    totals = MemberTotals()
    totals.states[8] = ("friend", None, False)
    out = decide_values_and_tiers(totals, [_member(8)], {}, TIERS, 30.0, DAY)
    (tier,) = out.tiers
    assert not tier.new and not tier.decision.changed and not tier.moves


def test_moderation_points_count_against_a_tier_that_caps_them():
    capped = [
        TIERS[0],
        Tier.model_validate(
            {"id": "core", "name_zh": "核心", "promote": {"max_moderation_points": 2}}
        ),
    ]
    totals = MemberTotals()
    out = decide_values_and_tiers(totals, [_member(7), _member(8)], {8: 5.0}, capped, 30.0, DAY)
    tiers = {t.member_id: t.decision.tier for t in out.tiers}
    assert tiers == {7: "core", 8: "friend"}
