"""Capacity: seats taken (the seat counter), members, the waitlist — one definition read by
``qunzhu capacity show --json``, ``GET …/capacity`` and the dashboard's group page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from qunzhu_tests_http import log_in
from qunzhu_tests_readmodels import feed, ids, join
from sqlalchemy import update

from qunzhu import events as ev
from qunzhu.cli.main import app
from qunzhu.growth.capacity import size_policy
from qunzhu.readmodels.capacity import (
    UnknownGroup,
    community_capacity,
    effective_caps,
    group_capacity,
    waitlist,
)
from qunzhu.store.models import Community, Group

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
ONE_IN_ONE_OUT = """
name: 栗子读书会
purpose: read together
size: {cap: 2, policy: one_in_one_out, auto: false}
"""


def test_a_seat_held_for_someone_offered_it_counts_as_taken_not_waiting(store, full_group):
    with store.engine.connect() as conn:
        g1 = group_capacity(conn, full_group["acme"], full_group["g1"])
        queue = waitlist(conn, full_group["acme"], full_group["g1"])
    # the joins admission declined are memberships until the platform says otherwise
    assert (g1.cap, g1.seats_taken, g1.members, g1.waitlist) == (3, 3, 4, 1)
    assert (g1.free, g1.percent) == (0, 100)
    assert [(p.position, p.member_id, p.status) for p in queue] == [
        (1, full_group["d"], "offered"),
        (2, full_group["e"], "waiting"),
    ]


def test_before_the_seat_counter_starts_seats_taken_are_the_active_members(store, personas):
    feed(store, join("a", T0), join("b", T0 + timedelta(hours=1)))
    found = ids(store)
    with store.engine.connect() as conn:
        g1 = group_capacity(conn, found["acme"], found["g1"])
    assert (g1.cap, g1.seats_taken, g1.members, g1.waitlist, g1.free) == (None, 2, 2, 0, None)


def test_capacity_is_scoped_by_community(store, full_group, personas):
    rival = personas.communities["rival"]
    with store.engine.connect() as conn:
        assert community_capacity(conn, rival).groups == ()
        with pytest.raises(UnknownGroup):
            group_capacity(conn, rival, full_group["g1"])
        with pytest.raises(UnknownGroup):
            waitlist(conn, rival, full_group["g1"])


def test_cli_api_and_dashboard_show_the_same_seats_taken(
    store, full_group, personas, client, cli, cli_env
):
    with store.engine.connect() as conn:
        expected = group_capacity(conn, full_group["acme"], full_group["g1"])

    shown = cli.invoke(app, ["capacity", "show", "-c", "acme", "--json"])
    assert shown.exit_code == 0, shown.output
    from_cli = json.loads(shown.stdout)["groups"][0]

    answer = client.get("/api/v1/communities/acme/capacity", headers=personas["analyst"].headers)
    assert answer.status_code == 200, answer.text
    from_api = answer.json()["groups"][0]

    log_in(client, "analyst")
    page = client.get(f"/c/acme/groups/{full_group['g1']}").text
    meter = re.search(r'aria-valuemax="(\d+)" aria-valuenow="(\d+)"', page)
    assert meter is not None
    line = re.search(r'data-figure="waitlist" data-key="\d+" data-value="(\d+)"', page)
    assert line is not None
    queued = int(line.group(1))

    figures = (expected.seats_taken, expected.cap, expected.waitlist)
    assert (from_cli["seats_taken"], from_cli["cap"], from_cli["waitlist"]) == figures
    assert (from_api["seats_taken"], from_api["cap"], from_api["waitlist"]) == figures
    assert (int(meter.group(2)), int(meter.group(1)), queued) == figures
    assert figures == (3, 3, 1)
    assert from_cli["members"] == from_api["members"] == expected.members


def test_the_waitlist_of_the_api_is_the_clis(store, full_group, personas, client, cli, cli_env):
    shown = cli.invoke(app, ["capacity", "waitlist", "g1", "-c", "acme", "--json"])
    assert shown.exit_code == 0, shown.output
    answer = client.get(
        f"/api/v1/communities/acme/groups/{full_group['g1']}/waitlist",
        headers=personas["analyst"].headers,
    )
    assert answer.status_code == 200
    pick = [(p["position"], p["member_id"], p["status"]) for p in answer.json()]
    assert pick == [(p["position"], p["member_id"], p["status"]) for p in json.loads(shown.stdout)]
    assert len(pick) == 2
    stranger = client.get(
        f"/api/v1/communities/rival/groups/{full_group['g1']}/waitlist",
        headers=personas["outsider"].headers,
    )
    assert stranger.status_code == 404


def test_open_one_in_one_out_proposals_are_listed(store, personas):
    with store.unit_of_work() as session:
        session.execute(
            update(Community).where(Community.slug == "acme").values(spec_yaml=ONE_IN_ONE_OUT)
        )
    feed(store, *(join(name, T0 + timedelta(minutes=i)) for i, name in enumerate("abc")))
    found = ids(store)
    with store.engine.connect() as conn:
        shown = community_capacity(conn, found["acme"])
    assert (shown.policy, shown.cap, shown.auto) == ("one_in_one_out", 2, False)
    assert [(g.platform_group_id, g.seats_taken) for g in shown.groups] == [("g1", 2)]
    assert [(p.group_id, p.for_member_id) for p in shown.proposals] == [(found["g1"], found["c"])]
    assert shown.proposals[0].member_id in (found["a"], found["b"])


def test_the_cap_is_the_one_admission_enforces_everywhere(store, personas, client):
    with store.unit_of_work() as session:
        session.execute(
            update(Community).where(Community.slug == "acme").values(spec_yaml=ONE_IN_ONE_OUT)
        )
    feed(store, join("a", T0), join("b", T0, group="g2"))
    feed(
        store,
        ev.MemberJoined(platform="test", community="rival", group="r1", member="z", occurred_at=T0),
    )
    found = ids(store)
    with store.unit_of_work() as session:
        session.get_one(Group, found["g2"]).cap = 10
    with store.engine.connect() as conn:
        caps = effective_caps(conn, [found["acme"], personas.communities["rival"]])
        enforced = {g: size_policy(conn, g)[2] for g in caps}
    assert caps == enforced == {found["g1"]: 2, found["g2"]: 10, found["r1"]: None}

    listed = client.get("/api/v1/communities/acme/groups", headers=personas["analyst"].headers)
    capacity = client.get("/api/v1/communities/acme/capacity", headers=personas["analyst"].headers)
    assert {g["id"]: g["cap"] for g in listed.json()} == {
        g["group_id"]: g["cap"] for g in capacity.json()["groups"]
    }
