"""`qunzhu calendar` on both databases: add a draft, approve it, list it with its next
occurrences, cancel it; the feed's address; a bad rule names its field."""

from __future__ import annotations

import json

from qunzhu.cli.main import app
from qunzhu.store.community import Community, Group


def _seed(store) -> None:
    with store.unit_of_work() as session:
        community = Community(slug="acme", name="读书会", spec_yaml="name: 读书会\npurpose: x\n")
        session.add(community)
        session.flush()
        session.add(
            Group(community_id=community.id, platform="qq", platform_group_id="1", name="一群")
        )


def _run(cli, *args: str):
    return cli.invoke(app, ["calendar", *args, "-c", "acme", "--json"])


def test_add_approve_list_cancel_and_feed(store, cli, cli_env):
    _seed(store)
    added = _run(
        cli,
        "add",
        "-t",
        "{group} 周一话题",
        "--at",
        "2031-01-06T09:00",
        "--tz",
        "Asia/Shanghai",
        "--every",
        "FREQ=WEEKLY;BYDAY=MO",
        "-g",
        "一群",
        "--title",
        "周一话题",
    )
    assert added.exit_code == 0, added.output
    post = json.loads(added.output)
    assert post["status"] == "draft" and post["next"][1] == "2031-01-13T01:00:00+00:00"
    approved = json.loads(_run(cli, "approve", str(post["id"])).output)
    assert approved["status"] == "approved" and approved["approved_by"] == "cli"
    assert _run(cli, "approve", str(post["id"])).exit_code == 2
    [listed] = json.loads(_run(cli, "list").output)
    assert listed["title"] == "周一话题" and len(listed["next"]) == 3
    cancelled = json.loads(_run(cli, "cancel", str(post["id"])).output)
    assert cancelled["status"] == "cancelled"
    shown = json.loads(_run(cli, "feed").output)
    assert shown["path"].startswith("/c/acme/calendar.ics?token=") and len(shown["token"]) == 32


def test_a_bad_rule_or_time_names_its_field(store, cli, cli_env):
    _seed(store)
    for args, field in (
        (["--every", "FREQ=SECONDLY"], "rrule"),
        (["--at", "tomorrow"], "at"),
        (["--tz", "Mars/Base"], "timezone"),
        (["--kind", "poem"], "kind"),
    ):
        base = ["add", "-t", "话题", "--at", "2031-01-06T09:00", "--all-groups"]
        answer = _run(cli, *base, *args)
        assert answer.exit_code == 2, (args, answer.output)
        assert json.loads(answer.output)["field"] == field, args
