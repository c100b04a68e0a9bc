"""A member's profile: value, role, tier and what the next tier needs — the same from
``qunzhu members list|explain --json``, the API and the dashboard's member page, after a
real recompute; and the tier before the engines ran."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from qunzhu_tests_http import log_in
from qunzhu_tests_readmodels import feed, ids
from sqlalchemy import update

from qunzhu import events as ev
from qunzhu.cli.main import app
from qunzhu.readmodels.members import (
    UnknownMember,
    current_tier,
    member_profile,
    members_by_value,
    tier_standing,
)
from qunzhu.store.intelligence import TierState
from qunzhu.store.models import Community, TierChange

T0 = datetime(2025, 3, 2, 4, 0, tzinfo=UTC)
TIERED_SPEC = """
name: 栗子读书会
purpose: read together
tiers:
  - {id: member, name_zh: 成员, name_en: Member}
  - id: core
    name_zh: 核心
    name_en: Core
    promote: {min_days_active: 30, min_tenure_days: 5}
    demote: never
"""


def _history(store) -> dict[str, int]:
    with store.unit_of_work() as session:
        session.execute(
            update(Community).where(Community.slug == "acme").values(spec_yaml=TIERED_SPEC)
        )
    events: list[ev.Event] = []
    for day in range(12):
        for i, who in enumerate(("ann", "bob")):
            if who == "bob" and day % 3:
                continue
            events.append(
                ev.MessagePosted(
                    platform="test",
                    community="acme",
                    group="g1",
                    member=who,
                    member_name=who,
                    occurred_at=T0 + timedelta(days=day, minutes=i),
                    message_id=f"{day}-{i}",
                    text=f"how do we read chapter {day}?"
                    if who == "ann"
                    else f"read it twice and write notes on each section, step {day}",
                )
            )
    feed(store, *events)
    return ids(store)


def test_cli_api_and_dashboard_agree_on_value_tier_and_next_tier_needs(
    store, personas, client, cli, cli_env
):
    found = _history(store)
    done = cli.invoke(app, ["recompute", "-c", "acme", "--json"])
    assert done.exit_code == 0, done.output
    ann = found["ann"]
    with store.engine.connect() as conn:
        ranked = members_by_value(conn, found["acme"])
        profile = member_profile(conn, found["acme"], ann)
        standing = tier_standing(conn, found["acme"], ann, date(2025, 3, 13))

    listed = json.loads(cli.invoke(app, ["members", "list", "-c", "acme", "--json"]).stdout)
    by_api = client.get(
        "/api/v1/communities/acme/members/value", headers=personas["analyst"].headers
    ).json()["members"]
    pick = [(r["member"], r["value"], r["role"], r["tier"]) for r in listed]
    assert pick == [(r["member"], r["value"], r["role"], r["tier"]) for r in by_api]
    assert pick == [(r.member, r.value, r.role, r.tier) for r in ranked]

    explained = cli.invoke(app, ["members", "explain", str(ann), "-c", "acme", "--json"])
    assert explained.exit_code == 0, explained.output
    from_cli = json.loads(explained.stdout)
    from_api = client.get(
        f"/api/v1/communities/acme/members/{ann}/explain", headers=personas["analyst"].headers
    ).json()
    assert from_cli["value"] == from_api["value"] == profile.value
    assert from_cli["tier"]["tier"] == from_api["tier"]["tier"] == profile.tier == "member"
    needs = [(n["criterion"], n["need"], n["have"]) for n in from_cli["next_tier"]["needs"]]
    assert needs == [(n["criterion"], n["need"], n["have"]) for n in from_api["next_tier"]["needs"]]
    assert needs == [(n.criterion, n.need, n.have) for n in standing.needs]
    assert (standing.current, standing.next_tier, standing.ready) == ("member", "core", False)

    log_in(client, "analyst")
    page = client.get(f"/c/acme/members/{ann}").text
    days = re.search(
        r"活跃 ([\d.]+) 天（当前 ([\d.]+)）|([\d.]+) active days \(now ([\d.]+)\)", page
    )
    assert days is not None
    need, have = (days.group(1), days.group(2)) if days.group(1) else days.group(3, 4)
    expected = next(n for n in standing.needs if n.criterion == "min_days_active")
    assert (float(need), float(have)) == (expected.need, expected.have)


def test_before_the_engines_ran_the_newest_tier_change_is_the_tier(store, personas):
    found = _history(store)
    acme, ann = found["acme"], found["ann"]
    with store.unit_of_work() as session:
        for tier, at in (("member", T0), ("core", T0 + timedelta(days=3))):
            session.add(
                TierChange(
                    community_id=acme, member_id=ann, tier=tier, reason="import", changed_at=at
                )
            )
    with store.engine.connect() as conn:
        assert current_tier(conn, acme, ann) == "core"
        assert tier_standing(conn, acme, ann, date(2025, 3, 13)).next_tier is None  # top
    with store.unit_of_work() as session:
        session.add(TierState(community_id=acme, member_id=ann, tier="member", since=T0.date()))
    with store.engine.connect() as conn:
        assert current_tier(conn, acme, ann) == "member"  # the engines' state wins


def test_profiles_are_scoped_by_community(store, personas):
    found = _history(store)
    rival = personas.communities["rival"]
    with store.engine.connect() as conn:
        assert current_tier(conn, rival, found["ann"]) is None
        with pytest.raises(UnknownMember):
            member_profile(conn, rival, found["ann"])
        with pytest.raises(UnknownMember):
            tier_standing(conn, rival, found["ann"], date(2025, 3, 13))
        assert members_by_value(conn, rival) == ()
