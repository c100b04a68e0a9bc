from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from qunzhu.cli.main import app
from qunzhu.store.models import Community, Group, Message

LOG = (
    "[10:00] <ann> hello\n=== bo [~b@h]  has joined #c\n[10:01] <bo> ann: hi\n"
    "not a log line\n=== bo [~b@h]  has left #c []\n"
)
KEYS = {"messages", "members", "joins", "leaves", "invites", "replies", "quarantined", "added"}


def _log(tmp_path: Path) -> Path:
    path = tmp_path / "2024-05-01.log"
    path.write_text(LOG, encoding="utf-8")
    return path


def test_import_prints_the_summary_as_json_and_creates_the_community(cli, cli_env, store, tmp_path):
    path = _log(tmp_path)
    args = ["import", str(path), "--community", "new-c", "--group", "#c", "--tz", "UTC", "--json"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= KEYS
    assert {k: data[k] for k in KEYS} == {
        "messages": 2, "members": 2, "joins": 1, "leaves": 1, "invites": 0, "replies": 1,
        "quarantined": 1, "added": 2,
    }  # fmt: skip
    assert data["quarantined_records"][0]["line"] == 4
    with store.reading() as session:
        assert session.scalar(select(Community.slug)) == "new-c"
        assert session.scalar(select(Group.platform_group_id)) == "#c"
    again = json.loads(cli.invoke(app, args).stdout)
    assert again["added"] == 0 and again["messages"] == 2
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 2


def test_import_shows_a_table_for_people(cli, cli_env, tmp_path):
    result = cli.invoke(app, ["import", str(_log(tmp_path)), "-c", "c", "-g", "g", "--tz", "UTC"])
    assert result.exit_code == 0, result.output
    assert "irc" in result.stdout and "not an IRC log line" in result.stdout


def test_import_of_an_unknown_format_fails_naming_the_file(cli, cli_env, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\nmilk\n", encoding="utf-8")
    result = cli.invoke(app, ["import", str(path), "-c", "c", "-g", "g", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert "notes.txt" in error["error"] and "not a chat export" in error["error"]


def test_import_refuses_a_bad_format_name_and_a_bad_zone(cli, cli_env, tmp_path):
    path = _log(tmp_path)
    bad_format = cli.invoke(app, ["import", str(path), "-c", "c", "-g", "g", "-f", "icq"])
    assert bad_format.exit_code == 2 and "--format 'icq'" in bad_format.stderr
    bad_zone = cli.invoke(app, ["import", str(path), "-c", "c", "-g", "g", "--tz", "Mars/Base"])
    assert bad_zone.exit_code == 2 and "not an IANA time zone" in bad_zone.stderr


def test_import_of_a_missing_file_fails(cli, cli_env, tmp_path):
    result = cli.invoke(app, ["import", str(tmp_path / "nope.csv"), "-c", "c", "-g", "g"])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_import_recomputes_what_it_added_so_the_report_is_not_flat(cli, cli_env, store, tmp_path):
    from qunzhu.store.intelligence import GroupHealth

    args = ["import", str(_log(tmp_path)), "-c", "new-c", "-g", "#c", "--tz", "UTC"]
    result = cli.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    recomputed = json.loads(result.stdout)["recompute"]
    assert recomputed["community_slug"] == "new-c" and recomputed["scored_messages"] == 2
    assert recomputed["day"] == "2024-05-01"
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(GroupHealth)) >= 1
    again = cli.invoke(app, args)  # nothing new: nothing to recompute
    assert again.exit_code == 0 and "recomputing" not in again.stdout


def test_import_says_it_recomputes_and_no_recompute_skips_it(cli, cli_env, store, tmp_path):
    from qunzhu.store.intelligence import GroupHealth

    path = _log(tmp_path)
    english = ["--lang", "en", "import"]
    skipped = cli.invoke(app, [*english, str(path), "-c", "c", "-g", "g", "--no-recompute"])
    assert skipped.exit_code == 0, skipped.output
    assert "not recomputed (--no-recompute)" in skipped.stdout
    assert "--backfill 28" in skipped.stdout
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(GroupHealth)) == 0
    other = tmp_path / "2024-05-02.log"
    other.write_text("[09:00] <cy> morning all\n", encoding="utf-8")
    shown = cli.invoke(app, [*english, str(other), "-c", "c", "-g", "g"])
    assert shown.exit_code == 0, shown.output
    assert "recomputing c: scoring the new messages" in shown.stdout
    assert "c 2024-05-02: scored 3 messages" in shown.stdout
    chinese = cli.invoke(app, ["--lang", "zh-CN", "import", str(path), "-c", "c", "-g", "g"])
    assert "新增" in chinese.stdout and "added" not in chinese.stdout, chinese.stdout


def test_import_reads_times_in_the_groups_zone_from_the_spec_unless_tz_says(
    cli, cli_env, store, tmp_path
):
    from datetime import UTC

    spec = tmp_path / "community.yaml"
    spec.write_text(
        "name: n\npurpose: p\ntimezone: Asia/Shanghai\n"
        "groups:\n  '#de': {timezone: Europe/Berlin}\n",
        encoding="utf-8",
    )
    made = cli.invoke(app, ["community", "create", "zc", "--spec", str(spec), "--force"])
    assert made.exit_code == 0, made.output
    log = tmp_path / "2024-05-01.log"
    log.write_text("[10:00] <ann> hello\n", encoding="utf-8")
    for group in ("#de", "#cn"):
        args = ["import", str(log), "-c", "zc", "-g", group, "--no-recompute"]
        assert cli.invoke(app, args).exit_code == 0
    other = tmp_path / "2024-05-02.log"
    other.write_text("[10:00] <ann> hello again\n", encoding="utf-8")
    args = ["import", str(other), "-c", "zc", "-g", "#de", "--tz", "UTC", "--no-recompute"]
    assert cli.invoke(app, args).exit_code == 0
    with store.reading() as session:
        stored = session.execute(
            select(Group.platform_group_id, Message.occurred_at)
            .join(Group, Group.id == Message.group_id)
            .order_by(Message.occurred_at)
        ).all()
    # a naive time from SQLite is UTC; PostgreSQL gives it aware
    utc = [(g, at if at.tzinfo else at.replace(tzinfo=UTC)) for g, at in stored]
    hours = {(g, at.astimezone(UTC).strftime("%d %H:%M")) for g, at in utc}
    assert hours == {("#cn", "01 02:00"), ("#de", "01 08:00"), ("#de", "02 10:00")}
