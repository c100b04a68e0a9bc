"""`qunzhu referral|applications|capacity|membership|routing …`: a scenario driven end to end
through the commands, with --json, and the refusals they print."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from qunzhu import events as ev
from qunzhu.cli.main import app
from qunzhu.growth.reactor import GrowthReactor
from qunzhu.pipeline import Pipeline
from qunzhu.store.models import Community

SPEC = """
name: 栗子读书会
purpose: read together
tiers:
  - {id: member, name_zh: 成员}
  - {id: vip, name_zh: 会员}
monetization:
  plans:
    - {id: year, name: 年费, price_cents: 36500, period_days: 365, tier: vip,
       on_expiry: "downgrade_to:member"}
referral:
  enabled: true
  ladder: [{invitees: 2, reward: {kind: points, value: 50}}]
  qualification: {stay_days: 7, must_speak: true}
size: {cap: 3, policy: waitlist, protected: [owner]}
segments: [{id: starter, name: 入门, groups: [g1]}]
routing:
  holding_group: lobby
  rules: [{match: {tags: [newbie]}, segment: starter}]
"""
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _setup(store) -> None:
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="acme", spec_yaml=SPEC))
    items: list[ev.Event] = [
        ev.MemberJoined(
            platform="test",
            community="acme",
            group="g1",
            member="boss",
            occurred_at=T0 - timedelta(days=30),
        )
    ]
    for i in range(3):
        items.append(
            ev.MemberJoined(
                platform="test",
                community="acme",
                group="g1",
                member=f"v{i}",
                occurred_at=T0,
                inviter="boss",
            )
        )
        items.append(
            ev.MessagePosted(
                platform="test",
                community="acme",
                group="g1",
                member=f"v{i}",
                occurred_at=T0 + timedelta(days=1),
                message_id=f"m{i}",
                text="读完了，分享一下笔记",
            )
        )
    Pipeline(store, reactors=[GrowthReactor()]).run(items, source="test")


def test_referral_commands(cli, cli_env, store):
    _setup(store)
    settled = _json(
        cli.invoke(
            app, ["referral", "settle", "-c", "acme", "--now", "2025-03-20T00:00:00", "--json"]
        )
    )
    assert settled["granted"] == 1 and settled["decided"] == {"qualified": 3}
    again = _json(
        cli.invoke(
            app, ["referral", "settle", "-c", "acme", "--now", "2025-03-20T00:00:00", "--json"]
        )
    )
    assert again["granted"] == 0
    rewards = _json(cli.invoke(app, ["referral", "rewards", "-c", "acme", "--json"]))
    assert [(r["rung"], r["status"]) for r in rewards] == [(2, "granted")]
    redeemed = _json(
        cli.invoke(
            app, ["referral", "review", str(rewards[0]["id"]), "redeem", "-c", "acme", "--json"]
        )
    )
    assert redeemed["status"] == "redeemed"
    twice = cli.invoke(
        app, ["referral", "review", str(rewards[0]["id"]), "redeem", "-c", "acme", "--json"]
    )
    assert twice.exit_code == 2 and json.loads(twice.stdout)["reason"] == "wrong_status"
    board = _json(cli.invoke(app, ["referral", "leaderboard", "default", "-c", "acme", "--json"]))
    assert board[0]["qualified"] == 3 and board[0]["joined"] == 3
    codes = _json(cli.invoke(app, ["referral", "codes", "-c", "acme", "--json"]))
    assert len(codes) == 4 and len({c["code"] for c in codes}) == 4
    made = _json(
        cli.invoke(
            app,
            [
                "referral",
                "campaign",
                "spring",
                "-c",
                "acme",
                "--name",
                "春",
                "--ladder",
                '[{"invitees": 1, "reward": {"kind": "prize", "value": "书"}}]',
                "--starts",
                "2025-02-01",
                "--json",
            ],
        )
    )
    assert made["campaign"] == "spring"
    stats = _json(cli.invoke(app, ["referral", "stats", "spring", "-c", "acme", "--json"]))
    assert stats["referred_joins"] == 3 and stats["k_joined"] == 3.0
    tree = _json(
        cli.invoke(app, ["referral", "tree", str(board[0]["member_id"]), "-c", "acme", "--json"])
    )
    assert tree["descendants"] == 3
    bad = cli.invoke(
        app,
        [
            "referral",
            "campaign",
            "x",
            "-c",
            "acme",
            "--name",
            "x",
            "--ladder",
            '[{"invitees": 0}]',
            "--json",
        ],
    )
    assert bad.exit_code == 2 and "ladder" in json.loads(bad.stdout)["error"]


def test_capacity_membership_routing_commands(cli, cli_env, store):
    _setup(store)
    shown = _json(cli.invoke(app, ["capacity", "show", "-c", "acme", "--json"]))
    assert shown["groups"][0]["seats_taken"] == 3 and shown["groups"][0]["waitlist"] == 1
    queue = _json(cli.invoke(app, ["capacity", "waitlist", "g1", "-c", "acme", "--json"]))
    assert [q["position"] for q in queue] == [1]
    plans = _json(cli.invoke(app, ["membership", "plans", "-c", "acme", "--json"]))
    assert plans[0]["id"] == "year"
    order = _json(cli.invoke(app, ["membership", "order", "1", "year", "-c", "acme", "--json"]))
    paid = _json(
        cli.invoke(
            app,
            [
                "membership",
                "mark-paid",
                order["order_no"],
                "-c",
                "acme",
                "--ref",
                "bank-77",
                "--json",
            ],
        )
    )
    replay = _json(
        cli.invoke(
            app,
            [
                "membership",
                "mark-paid",
                order["order_no"],
                "-c",
                "acme",
                "--ref",
                "bank-77",
                "--json",
            ],
        )
    )
    assert (paid["new"], replay["new"]) == (True, False)
    members = _json(cli.invoke(app, ["membership", "list", "-c", "acme", "--json"]))
    assert [m["status"] for m in members] == ["active"]
    later = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    swept = _json(cli.invoke(app, ["membership", "sweep", "-c", "acme", "--now", later, "--json"]))
    assert swept["expired"][0]["on_expiry"] == "downgrade"
    unknown = cli.invoke(app, ["membership", "order", "1", "gold", "-c", "acme", "--json"])
    assert unknown.exit_code == 2 and json.loads(unknown.stdout)["reason"] == "unknown_plan"
    _json(cli.invoke(app, ["routing", "tag", "2", "-c", "acme", "--add", "newbie", "--json"]))
    preview = _json(cli.invoke(app, ["routing", "preview", "-c", "acme", "--json"]))
    assert {p["to"] for p in preview} == {None, "starter"}
    refused = cli.invoke(app, ["routing", "apply", "-c", "acme", "--json"])
    assert refused.exit_code == 2
    assert _json(cli.invoke(app, ["routing", "apply", "-c", "acme", "--yes", "--json"]))[
        "moved"
    ] == len(preview)
    codes = _json(
        cli.invoke(app, ["applications", "codes", "-c", "acme", "--count", "3", "--json"])
    )
    assert len(set(codes)) == 3
    assert _json(cli.invoke(app, ["applications", "list", "-c", "acme", "--json"])) == []
    nobody = cli.invoke(app, ["capacity", "show", "-c", "nope", "--json"])
    assert nobody.exit_code == 2 and "does not exist" in json.loads(nobody.stdout)["error"]
