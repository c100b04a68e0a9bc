"""`qunzhu recompute | health | funnel | report weekly | members list | explain | lock-tier`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from qunzhu import events as ev
from qunzhu.cli.main import app
from qunzhu.pipeline import Pipeline

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def _history(store) -> None:
    events: list[ev.Event] = []
    for day in range(40):
        at = T0 + timedelta(days=day)
        for i, who in enumerate(("ann", "bob", "cat")):
            if who == "cat" and day > 20:
                continue  # cat goes quiet
            events.append(
                ev.MessagePosted(
                    platform="telegram",
                    community="c1",
                    group="g1",
                    member=who,
                    member_name=who,
                    occurred_at=at + timedelta(minutes=i),
                    message_id=f"{day}-{i}",
                    text=f"how do we deploy service {day}?"
                    if who == "ann"
                    else f"deploy it with docker compose and a health check, step {day}",
                )
            )
    Pipeline(store, create_communities=True).run(events, source="test")


def test_recompute_then_health_and_members_as_json(cli, cli_env, store):
    _history(store)
    done = cli.invoke(app, ["recompute", "-c", "c1", "--backfill", "3", "--json"])
    assert done.exit_code == 0, done.output
    (report,) = json.loads(done.stdout)
    assert report["scored_messages"] == 101 and report["day"] == "2026-04-10"
    health = json.loads(cli.invoke(app, ["health", "-c", "c1", "--json"]).stdout)
    assert {"group", "death_risk", "reasons", "active_share", "value_per_day"} <= set(health[0])
    listed = cli.invoke(app, ["members", "list", "-c", "c1", "--group", "g1", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert {r["names"][0] for r in rows} == {"ann", "bob", "cat"}
    assert {"member", "names", "messages", "value", "role", "tier"} <= set(rows[0])
    by_name = {r["names"][0]: r for r in rows}
    assert by_name["bob"]["value"] > by_name["cat"]["value"]  # cat went quiet
    bob = str(by_name["bob"]["member"])
    explained = cli.invoke(app, ["members", "explain", bob, "-c", "c1", "--lang", "en"])
    assert explained.exit_code == 0 and "answers another member's question" in explained.stdout
    # without --lang: QUNZHU_LANG, else the dashboard's language (zh-CN by default)
    in_chinese = cli.invoke(app, ["members", "explain", bob, "-c", "c1"])
    assert "回答他人问题" in in_chinese.stdout and "等级：成员" in in_chinese.stdout
    assert "回答他人问题" not in cli.invoke(app, ["--lang", "en", "members", "explain", bob,
                                           "-c", "c1"]).stdout  # fmt: skip
    funnel = json.loads(cli.invoke(app, ["funnel", "-c", "c1", "--json"]).stdout)
    assert "cohorts" in funnel


def test_report_weekly_writes_html_with_charts_and_a_pdf(cli, cli_env, store, tmp_path):
    _history(store)
    cli.invoke(app, ["recompute", "-c", "c1"])
    out = tmp_path / "week.html"
    made = cli.invoke(
        app,
        ["report", "weekly", "-c", "c1", "--out", str(out), "--pdf", "--lang", "zh-CN", "--json"],
    )
    assert made.exit_code == 0, made.output
    html = out.read_text(encoding="utf-8")
    assert "社群周报" in html and html.count("data:image/svg+xml;base64,") == 4
    assert (tmp_path / "week.pdf").read_bytes().startswith(b"%PDF")


def test_errors_name_the_problem(cli, cli_env, store):
    _history(store)
    unknown = cli.invoke(app, ["health", "-c", "nope", "--json"])
    assert unknown.exit_code == 2 and "unknown community" in json.loads(unknown.stdout)["error"]
    early = cli.invoke(app, ["health", "-c", "c1", "--json"])
    assert early.exit_code == 2 and "qunzhu recompute" in json.loads(early.stdout)["error"]
    lang = cli.invoke(app, ["report", "weekly", "-c", "c1", "-o", "x.html", "--lang", "fr"])
    assert lang.exit_code == 2


def test_lock_tier_keeps_the_member_there_through_a_recompute(cli, cli_env, store):
    _history(store)
    cli.invoke(app, ["recompute", "-c", "c1"])
    rows = json.loads(cli.invoke(app, ["members", "list", "-c", "c1", "--json"]).stdout)
    mid = str(rows[0]["member"])
    bad = cli.invoke(
        app, ["members", "lock-tier", mid, "-c", "c1", "--tier", "gold", "--reason", "x", "--json"]
    )
    assert bad.exit_code == 2 and "没有等级 gold" in json.loads(bad.stdout)["error"]
    args = ["--lang", "en", "members", "lock-tier", mid, "-c", "c1", "--tier", "gold"]
    bad = cli.invoke(app, [*args, "--reason", "x", "--json"])
    assert bad.exit_code == 2 and "unknown tier" in json.loads(bad.stdout)["error"]
    locked = cli.invoke(
        app,
        [
            "members",
            "lock-tier",
            mid,
            "-c",
            "c1",
            "--tier",
            "member",
            "--reason",
            "founder",
            "--json",
        ],
    )
    assert locked.exit_code == 0, locked.output
    cli.invoke(app, ["recompute", "-c", "c1"])
    why = json.loads(cli.invoke(app, ["members", "explain", mid, "-c", "c1", "--json"]).stdout)
    assert why["tier"]["locked"] and why["tier"]["tier"] == "member"
    assert why["tier_history"][-1]["reason"] == "founder"
    assert cli.invoke(app, ["members", "unlock-tier", mid, "-c", "c1"]).exit_code == 0
