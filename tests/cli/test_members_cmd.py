"""`qunzhu members mark-bot | unmark-bot`: a bot leaves the value ranking, and comes back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.cli.main import app
from qunzhu.pipeline import Pipeline
from qunzhu.store.intelligence import RoleAssignment, TierState
from qunzhu.store.models import AuditEntry, Member

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def _history(store) -> None:
    events: list[ev.Event] = [
        ev.MessagePosted(
            platform="telegram",
            community="c1",
            group="g1",
            member=who,
            member_name=who,
            occurred_at=T0 + timedelta(days=day, minutes=i),
            message_id=f"{day}-{i}",
            text=f"deploy it with docker compose and a health check, step {day} ({who})",
        )
        for day in range(20)
        for i, who in enumerate(("ann", "digest"))
    ]
    Pipeline(store, create_communities=True).run(events, source="test")


def _ranked(cli) -> list[str]:
    rows = json.loads(cli.invoke(app, ["members", "list", "-c", "c1", "--json"]).stdout)
    return [r["names"][0] for r in rows]


def test_a_member_marked_as_bot_leaves_the_ranking_roles_and_tiers(cli, cli_env, store):
    _history(store)
    assert cli.invoke(app, ["recompute", "-c", "c1"]).exit_code == 0
    assert set(_ranked(cli)) == {"ann", "digest"}
    marked = cli.invoke(app, ["members", "mark-bot", "digest", "-c", "c1", "--json"])
    assert marked.exit_code == 0, marked.output
    assert json.loads(marked.stdout)["is_bot"] is True
    assert _ranked(cli) == ["ann"]  # at once, before any recompute
    assert cli.invoke(app, ["recompute", "-c", "c1"]).exit_code == 0
    with store.reading() as s:
        bot = s.scalars(select(Member.id).where(Member.display_name == "digest")).one()
        assert s.scalars(select(RoleAssignment.member_id)).all() != []
        assert bot not in s.scalars(select(RoleAssignment.member_id)).all()
        assert bot not in s.scalars(select(TierState.member_id)).all()
        assert "member.mark_bot" in s.scalars(select(AuditEntry.action)).all()
    explained = cli.invoke(app, ["members", "explain", str(bot), "-c", "c1"])
    assert "机器人：不计入排行" in explained.stdout
    zh = cli.invoke(app, ["members", "explain", str(bot), "-c", "c1", "--lang", "zh-CN"])
    assert "机器人：不计入排行" in zh.stdout
    back = cli.invoke(app, ["members", "unmark-bot", "digest", "-c", "c1"])
    assert back.exit_code == 0 and "no longer marked as a bot" in back.stdout
    assert set(_ranked(cli)) == {"ann", "digest"}


def test_mark_bot_names_an_unknown_member(cli, cli_env, store):
    _history(store)
    missing = cli.invoke(app, ["members", "mark-bot", "nobody", "-c", "c1", "--json"])
    assert missing.exit_code != 0 and "no member" in json.loads(missing.stdout)["error"]
