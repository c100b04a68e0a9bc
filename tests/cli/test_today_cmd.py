"""`qunzhu today`: the dashboard's Today sections on the command line, in the operator's
language, with the calendar's drafts among them."""

from __future__ import annotations

import json

from qunzhu.cli.main import app
from qunzhu.store.community import Community, Group


def test_today_lists_the_sections_and_a_draft_of_the_calendar(store, cli, cli_env):
    with store.unit_of_work() as session:
        community = Community(slug="acme", name="读书会", spec_yaml="name: 读书会\npurpose: x\n")
        session.add(community)
        session.flush()
        session.add(
            Group(community_id=community.id, platform="qq", platform_group_id="1", name="一群")
        )
    added = cli.invoke(
        app,
        ["calendar", "add", "-c", "acme", "-t", "周一话题", "--at", "2031-01-06T09:00",
         "--all-groups", "--title", "周一话题", "--json"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    shown = cli.invoke(app, ["today", "-c", "acme", "--json"])
    assert shown.exit_code == 0, shown.output
    printed = json.loads(shown.output)
    assert printed["plan"]["open"] == 0 and printed["plan"]["overdue"] == []
    sections = {s["key"]: s for s in printed["sections"]}
    assert {"review", "applications", "questions", "at_risk", "calendar"} <= set(sections)
    assert sections["calendar"]["count"] == 1
    assert sections["calendar"]["items"][0]["title"] == "周一话题"
    human = cli.invoke(app, ["--lang", "zh-CN", "today", "-c", "acme"])
    assert human.exit_code == 0 and "群日历" in human.output and "周一话题" in human.output
    wrong = cli.invoke(app, ["today", "-c", "nope"])
    assert wrong.exit_code == 2
