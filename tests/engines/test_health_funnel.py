"""Health and death risk from snapshots; the forecast; the funnel; suggested actions."""

from __future__ import annotations

import math
from datetime import date

from qunzhu.engines.funnel import JoinRecord, funnel
from qunzhu.engines.health import (
    GroupSnapshot,
    HealthConfig,
    compute_health,
    concentration,
    forecast,
)
from qunzhu.engines.suggestions import role_mix_findings, suggest
from qunzhu.spec.members import RoleTargets

CFG = HealthConfig()


def snapshot(values: list[float], **over) -> GroupSnapshot:
    base = dict(
        group_id=1,
        name="g",
        value=values,
        joins_30d=10,
        leaves_30d=2,
        members=100,
        speakers_7d=40,
        speakers_30d=60,
        role_counts={"active": 40, "lurker": 45, "core": 10, "kol": 3, "newcomer": 2},
        member_values_30d=[10.0] * 40,
        questions_14d=20,
        unanswered_14d=2,
        first_answer_minutes=[5.0, 12.0, 30.0],
        newcomers=10,
        newcomers_activated=6,
    )
    base.update(over)
    return GroupSnapshot(**base)


def test_a_steady_group_has_a_low_risk_and_no_forecast():
    h = compute_health(snapshot([50.0] * 90), RoleTargets(), CFG)
    assert h.death_risk < 20 and h.forecast_days is None and not h.reasons
    assert h.metrics["median_first_answer_minutes"] == 12.0


def test_a_fading_group_is_at_risk_with_reasons_and_a_forecast():
    values = [50.0] * 60 + [50.0 * math.exp(-i / 8) for i in range(30)]
    h = compute_health(
        snapshot(
            values,
            speakers_7d=5,
            unanswered_14d=15,
            role_counts={"lurker": 85, "active": 15},
            lost_top=[{"member": 7, "name": "Ada", "share": 0.4, "silent_days": 20}],
        ),
        RoleTargets(),
        CFG,
    )
    codes = [r["code"] for r in h.reasons]
    assert h.death_risk >= 70
    assert {
        "value_falling",
        "below_living",
        "few_speakers",
        "unanswered",
        "lurkers_over_target",
        "top_contributor_gone",
    } <= set(codes)
    assert all(r["en"] and r["zh"] for r in h.reasons)
    assert h.forecast_days == 0  # already below the living threshold


def test_forecast_counts_the_days_left_on_an_exponential_decline():
    values = [100.0 * math.exp(-i / 20) for i in range(40)]
    days = forecast(values, 10.0, 28)
    assert days is not None and 10 < days < 40
    assert forecast([5.0] * 40, 1.0, 28) is None


def test_concentration_counts_the_fewest_members_making_half():
    assert concentration([50, 30, 10, 10]) == (1, 0.5)
    assert concentration([10] * 10) == (5, 0.1)
    assert concentration([]) == (0, 0.0)


def test_funnel_shows_retention_only_for_cohorts_old_enough():
    as_of = date(2026, 5, 31)
    joins = [
        JoinRecord(1, date(2026, 4, 6), "invite", 9, date(2026, 5, 20), True),
        JoinRecord(2, date(2026, 4, 7), "qr", None, date(2026, 4, 9), False),
        JoinRecord(3, date(2026, 5, 28), "link", 9, date(2026, 5, 29), False),
    ]
    f = funnel(joins, as_of)
    assert f["by_source"] == {"invite": 1, "qr": 1, "link": 1}
    assert f["top_referrers"] == [{"member": 9, "joins": 2}]
    april = next(c for c in f["cohorts"] if c["cohort"] == "2026-04-06")
    assert (april["d7"], april["d30"], april["paid"]) == (0.5, 0.5, 0.5)
    last = f["cohorts"][-1]
    assert last["d7"] is None and last["d30"] is None  # too young to tell, not zero


def test_suggestions_name_the_number_and_the_action():
    reasons = [
        {
            "code": "lurkers_over_target",
            "points": 5,
            "en": "lurkers 82% > target 60%",
            "zh": "潜水党 82% 高于目标 60%",
            "data": {},
        }
    ]
    (s,) = suggest("main", reasons, "en")
    assert s["text"].startswith("lurkers 82% > target 60%:") and "check-in" in s["action"]
    assert "打卡" in suggest("main", reasons, "zh-CN")[0]["action"]
    assert role_mix_findings({"lurker": 0.82, "active": 0.1}, RoleTargets())[0] == (
        "lurker 82% > target 60%"
    )
