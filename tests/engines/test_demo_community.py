"""The sample community: the English group is dying and says why; the main group lives."""

from __future__ import annotations

from sqlalchemy import select

from qunzhu.engines import views
from qunzhu.engines.roles import ROLES
from qunzhu.store.intelligence import IntelAlert, RoleAssignment, TierState


def _health(store) -> dict[str, dict]:
    with store.engine.connect() as conn:
        rows = views.health_rows(conn, views.community_id_of(conn, "demo"))
    return {r["group"]: r for r in rows}


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
