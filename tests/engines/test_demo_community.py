"""The sample community: the English group is dying and says why; the main group lives."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from qunzhu.engines import views
from qunzhu.engines.roles import ROLES
from qunzhu.engines.specs import SpecCache
from qunzhu.store.intelligence import (
    GroupHealth,
    IntelAlert,
    MemberValue,
    RoleAssignment,
    TierState,
)
from qunzhu.store.models import (
    GroupDaily,
    MemberDaily,
    Membership,
    ModerationAction,
    Payment,
)
from qunzhu.store.uncounted import uncounted_ids


def _health(store) -> dict[str, dict]:
    with store.engine.connect() as conn:
        rows = views.health_rows(conn, views.community_id_of(conn, "demo"))
    return {r["group"]: r for r in rows}


# one worker builds the module fixture: with --dist loadgroup an ungrouped module is spread
# over the workers and each would build it
pytestmark = pytest.mark.xdist_group("demo-community")


def test_the_english_group_is_dying_and_says_why(demo_store):
    tg = _health(demo_store)["tg-english"]
    assert tg["death_risk"] >= 70
    codes = set(tg["reason_codes"])
    assert {"value_falling", "below_living", "top_contributor_gone"} <= codes
    assert any("silent" in r for r in tg["reasons"])
    assert tg["forecast_days"] == 0  # already below the living threshold


def test_the_main_group_is_healthy(demo_store):
    health = _health(demo_store)
    assert health["wx-main"]["death_risk"] < 30
    assert health["wx-main"]["active_share"] > 0.3
    assert health["wx-main"]["value_per_day"] > 10 * health["tg-english"]["value_per_day"]


def test_crossing_into_danger_raised_an_alert_for_the_english_group_only(demo_store):
    with demo_store.engine.connect() as conn:
        alerts = conn.execute(select(IntelAlert.group_id, IntelAlert.kind)).all()
        tg = views.group_id_of(conn, views.community_id_of(conn, "demo"), "tg-english")
    assert alerts and {g for g, _ in alerts} == {tg}
    assert "death_risk" in {k for _, k in alerts}


def test_every_member_in_a_group_has_a_role_with_its_reason(demo_store):
    with demo_store.engine.connect() as conn:
        rows = conn.execute(select(RoleAssignment.role, RoleAssignment.reason)).all()
        tiers = conn.execute(select(TierState.tier)).scalars().all()
    assert {r for r, _ in rows} <= set(ROLES)
    assert {"lurker", "active", "core", "kol", "newcomer"} <= {r for r, _ in rows}
    assert all(reason["rule"] and "limits" in reason for _, reason in rows)
    # the demo spec's tiers: friend by default, member by paying, core by value and days
    assert {"friend", "core"} <= set(tiers) <= {"friend", "member", "core", "mentor"}


def test_a_member_is_explained(demo_store):
    with demo_store.engine.connect() as conn:
        cid = views.community_id_of(conn, "demo")
        top = views.members_list(conn, cid, limit=3)
        why = views.explain_member(conn, cid, top[0]["member"], "en")
    assert top[0]["value"] >= top[1]["value"] >= top[2]["value"] > 0
    assert why["value"] == top[0]["value"]
    assert why["value_explained"] and why["roles"] and why["top_messages"]
    assert why["roles"][0]["reason"]
    assert why["tier"]["tier"] in {"friend", "member", "core"}


def test_a_friend_is_told_what_the_next_tier_needs(demo_store):
    with demo_store.engine.connect() as conn:
        cid = views.community_id_of(conn, "demo")
        friend = conn.execute(
            select(TierState.member_id).where(TierState.tier == "friend").limit(1)
        ).scalar_one()
        why = views.explain_member(conn, cid, friend, "en")
    nxt = why["next_tier"]
    assert nxt is not None and nxt["tier"] == "member"
    assert nxt["needs"] == [{"criterion": "plan", "need": "annual", "have": [], "missing": 1}]


# The recompute's figures against the same figures found by plain queries over the rollups
# (not by the engines' code): member value, the role window's value, group health's members
# and value per day, and the tiers the spec's rules give.


def _demo_day(conn):
    cid = views.community_id_of(conn, "demo")
    return cid, conn.execute(
        select(func.max(MemberValue.day)).where(MemberValue.community_id == cid)
    ).scalar_one()


def test_member_value_is_the_decayed_sum_of_the_members_daily_value(demo_store):
    with demo_store.engine.connect() as conn:
        cid, day = _demo_day(conn)
        half = SpecCache().get(conn, cid).weights.half_life_days
        daily = conn.execute(
            select(
                MemberDaily.member_id, MemberDaily.day, MemberDaily.value, MemberDaily.messages
            ).where(MemberDaily.community_id == cid, MemberDaily.day <= day)
        ).all()
        stored = {
            r.member_id: r
            for r in conn.execute(select(MemberValue).where(MemberValue.community_id == cid))
        }
    per_day: dict[int, dict[date, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for member, d, value, messages in daily:
        per_day[member][d][0] += value
        per_day[member][d][1] += messages
    assert set(stored) == set(per_day) and len(stored) > 100
    for member, days in per_day.items():
        row = stored[member]
        decayed = sum(v * 0.5 ** ((day - d).days / half) for d, (v, _) in days.items())
        assert row.value == pytest.approx(decayed, abs=1e-3)
        assert row.raw_value == pytest.approx(sum(v for v, _ in days.values()), abs=1e-3)
        assert row.messages == sum(n for _, n in days.values())
        assert row.days_active == len(days)


def test_a_role_carries_the_members_value_in_the_role_window(demo_store):
    with demo_store.engine.connect() as conn:
        cid, day = _demo_day(conn)
        window = SpecCache().get(conn, cid).roles.window_days
        sums = {
            (g, m): v
            for g, m, v in conn.execute(
                select(MemberDaily.group_id, MemberDaily.member_id, func.sum(MemberDaily.value))
                .where(
                    MemberDaily.community_id == cid,
                    MemberDaily.day > day - timedelta(days=window),
                    MemberDaily.day <= day,
                )
                .group_by(MemberDaily.group_id, MemberDaily.member_id)
            )
        }
        roles = conn.execute(
            select(RoleAssignment.group_id, RoleAssignment.member_id, RoleAssignment.value)
        ).all()
    assert len(roles) > 100
    for g, m, value in roles:
        assert value == pytest.approx(sums.get((g, m), 0.0), abs=2e-3)


def test_group_health_counts_the_groups_members_and_its_weekly_value(demo_store):
    with demo_store.engine.connect() as conn:
        cid, day = _demo_day(conn)
        health = conn.execute(
            select(GroupHealth.group_id, GroupHealth.members, GroupHealth.value_per_day).where(
                GroupHealth.community_id == cid, GroupHealth.day == day
            )
        ).all()
        members = dict(
            conn.execute(
                select(RoleAssignment.group_id, func.count())
                .where(RoleAssignment.community_id == cid)
                .group_by(RoleAssignment.group_id)
            ).all()
        )
        week = dict(
            conn.execute(
                select(GroupDaily.group_id, func.sum(GroupDaily.value))
                .where(
                    GroupDaily.community_id == cid,
                    GroupDaily.day > day - timedelta(days=7),
                    GroupDaily.day <= day,
                )
                .group_by(GroupDaily.group_id)
            ).all()
        )
    assert len(health) == 3
    for g, n, per_day in health:
        assert n == members.get(g, 0)  # every member in the group on the day has a role
        assert per_day == pytest.approx(week.get(g, 0.0) / 7, abs=0.006)


def test_tiers_follow_the_specs_rules_for_payment_and_value(demo_store):
    with demo_store.engine.connect() as conn:
        cid, day = _demo_day(conn)
        tiers = dict(
            conn.execute(
                select(TierState.member_id, TierState.tier).where(TierState.community_id == cid)
            ).all()
        )
        paid = set(
            conn.execute(
                select(Payment.member_id).where(
                    Payment.community_id == cid, Payment.plan == "annual"
                )
            ).scalars()
        )
        joined = dict(
            conn.execute(
                select(Membership.member_id, func.min(Membership.joined_at))
                .where(Membership.community_id == cid)
                .group_by(Membership.member_id)
            ).all()
        )
        points = dict(
            conn.execute(
                select(ModerationAction.member_id, func.sum(ModerationAction.points))
                .where(
                    ModerationAction.community_id == cid,
                    ModerationAction.status.in_(("applied", "alerted")),
                )
                .group_by(ModerationAction.member_id)
            ).all()
        )
        values = conn.execute(
            select(MemberValue.member_id, MemberValue.value, MemberValue.days_active).where(
                MemberValue.community_id == cid
            )
        ).all()
    with demo_store.engine.connect() as conn:
        staff_and_bots = uncounted_ids(conn, cid)
    assert staff_and_bots and not staff_and_bots & set(tiers)  # they hold no tier
    values = [(m, value, days) for m, value, days in values if m not in staff_and_bots]
    assert paid and all(tiers[m] in {"member", "core", "mentor"} for m in paid)
    # core: min_value 40, min_days_active 20, min_tenure_days 30, max_moderation_points 2
    core = [
        m
        for m, value, days in values
        if value >= 40
        and days >= 20
        and joined.get(m) is not None
        and (day - joined[m].date()).days >= 30
        and (points.get(m) or 0) <= 2
    ]
    assert core and all(tiers[m] in {"core", "mentor"} for m in core)
