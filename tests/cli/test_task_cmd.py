"""`qunzhu operator assign`, `qunzhu task add|generate|done|snooze|reassign` and the plan in
`qunzhu today`: a task written by hand goes to the group's operator, is listed overdue
first, and is done once; bad input names what is wrong."""

from __future__ import annotations

import json

from qunzhu.auth.operators import create_operator, grant
from qunzhu.cli.main import app
from qunzhu.store.community import Community, Group, Member
from qunzhu.store.models import ModerationAction


def _community(store) -> None:
    with store.unit_of_work() as session:
        community = Community(slug="acme", name="读书会", spec_yaml="name: 读书会\npurpose: x\n")
        session.add(community)
        session.flush()
        group = Group(community_id=community.id, platform="qq", platform_group_id="1", name="一群")
        member = Member(community_id=community.id, display_name="ann")
        session.add_all([group, member])
        session.flush()
        session.add(
            ModerationAction(
                community_id=community.id,
                group_id=group.id,
                key="k1",
                member_id=member.id,
                action="delete",
                rule="spam",
                status="pending_review",
                evidence={},
            )
        )
        for name, role in (("mo", "moderator"), ("lin", "admin"), ("an", "analyst")):
            create_operator(session, name, "pw-" + "x" * 12, source="cli")
            session.flush()
            grant(session, name, "acme", role, source="cli")


def _json(cli, *args: str) -> dict:
    result = cli.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_tasks_from_the_command_line(store, cli, cli_env):
    _community(store)
    assert _json(cli, "operator", "assign", "mo", "一群", "-c", "acme")["groups"] == ["一群"]
    refused = cli.invoke(app, ["operator", "assign", "an", "一群", "-c", "acme"])
    assert refused.exit_code == 2 and "analyst" in refused.output  # readers own no task
    unknown = cli.invoke(app, ["operator", "assign", "mo", "二群", "-c", "acme"])
    assert unknown.exit_code == 2 and "二群" in unknown.output

    made = _json(cli, "task", "generate", "-c", "acme")
    assert made["review"] == 1 and _json(cli, "task", "generate", "-c", "acme")["n"] == 0
    added = _json(cli, "task", "add", "给 ann 打电话", "-c", "acme", "--due",
                  "2020-01-01T09:00", "--group", "1")  # fmt: skip
    day = _json(cli, "today", "-c", "acme", "--operator", "mo")["plan"]
    assert [t["id"] for t in day["overdue"]] == [added["id"]]  # due long ago: first
    assert [t["kind"] for t in day["today"] + day["later"]] == ["review"]
    assert {t["owner"] for t in day["overdue"] + day["today"]} == {"mo"}  # the group's operator

    human = cli.invoke(app, ["--lang", "zh-CN", "today", "-c", "acme"])
    assert human.exit_code == 0 and "今日计划" in human.output and "给 ann 打电话" in human.output
    assert f"#{added['id']}" in human.output and "已逾期" in human.output

    assert (
        _json(cli, "task", "reassign", str(added["id"]), "lin", "-c", "acme")["operator"] == "lin"
    )
    snoozed = _json(cli, "task", "snooze", str(added["id"]), "-c", "acme", "--until", "tomorrow")
    assert snoozed["until"].endswith("09:00")
    bad = cli.invoke(app, ["task", "snooze", str(added["id"]), "-c", "acme", "--until", "later"])
    assert bad.exit_code == 2 and "1h" in bad.output
    assert _json(cli, "task", "done", str(added["id"]), "-c", "acme")["state"] == "done"
    again = cli.invoke(app, ["task", "done", str(added["id"]), "-c", "acme"])
    assert again.exit_code == 2 and "done already" in again.output
    missing = cli.invoke(app, ["task", "done", "999999", "-c", "acme"])
    assert missing.exit_code == 2 and "no task 999999" in missing.output
    assert _json(cli, "operator", "unassign", "mo", "一群", "-c", "acme")["groups"] == []


def test_where_the_digest_goes(store, cli, cli_env):
    _community(store)
    set_ = _json(cli, "operator", "contact", "mo", "--email", "mo@acme.test", "--telegram", "4242")
    assert set_ == {"operator": "mo", "email": "mo@acme.test", "telegram": "4242"}
    bad = cli.invoke(app, ["operator", "contact", "mo", "--email", "mo at acme"])
    assert bad.exit_code == 2 and "--email" in bad.output
    cleared = _json(cli, "operator", "contact", "mo", "--telegram", "")
    assert cleared["telegram"] is None and cleared["email"] == "mo@acme.test"
