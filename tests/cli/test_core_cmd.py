from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from qunzhu.cli.main import app
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.models import Community, Message, Quarantine

T = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).isoformat()


def _line(i: int, **over) -> str:
    data = {
        "type": "message_posted",
        "platform": "telegram",
        "community": "demo-c",
        "group": "-100123",
        "member": 555,
        "occurred_at": T,
        "message_id": str(i),
        "text": f"第{i}条",
    }
    data.update(over)
    return json.dumps(data, ensure_ascii=False)


def test_community_create_then_list_as_json(cli, cli_env):
    result = cli.invoke(app, ["community", "create", "demo-c", "--name", "演示", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["slug"] == "demo-c"
    listed = json.loads(cli.invoke(app, ["community", "list", "--json"]).stdout)
    assert [c["slug"] for c in listed] == ["demo-c"]


def test_community_create_twice_is_refused(cli, cli_env):
    cli.invoke(app, ["community", "create", "demo-c"])
    result = cli.invoke(app, ["community", "create", "demo-c", "--json"])
    assert result.exit_code == 2
    assert "exists already" in json.loads(result.stdout)["error"]


def test_ingest_keeps_good_lines_and_quarantines_bad_ones_with_line_numbers(
    cli, cli_env, tmp_path, store
):
    cli.invoke(app, ["community", "create", "demo-c"])
    path = tmp_path / "events.jsonl"
    path.write_text(
        "\n".join(
            [
                _line(1),
                "{not json",
                _line(2, occurred_at="2026-03-01T12:00:00"),
                _line(3, community="ghost"),
                "",
                _line(4),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    result = cli.invoke(app, ["ingest", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] == 2
    reasons = {q["line"]: q["reason"] for q in report["quarantined"]}
    assert set(reasons) == {2, 3, 0}
    assert "invalid JSON" in reasons[2]
    assert "occurred_at" in reasons[3]
    assert "ghost" in reasons[0]
    again = json.loads(cli.invoke(app, ["ingest", str(path), "--json"]).stdout)
    assert again["added"] == 0 and again["duplicates"] == 2
    with store.reading() as s:
        assert s.scalar(select(func.count()).select_from(Message)) == 2
        assert s.scalar(select(func.count()).select_from(Quarantine)) == 3


def test_config_show_masks_the_secret(cli, cli_env):
    result = cli.invoke(app, ["config", "show", "--json"])
    shown = json.loads(result.stdout)
    assert shown["QUNZHU_SECRET_KEY"] == "********"
    assert "t" * 40 not in result.stdout


def test_wrong_setting_fails_naming_the_variable(cli, cli_env, monkeypatch):
    monkeypatch.setenv("QUNZHU_PORT", "eighty")
    result = cli.invoke(app, ["config", "show"])
    assert result.exit_code == 2
    assert "QUNZHU_PORT" in result.output


def test_commands_refuse_a_database_without_schema(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("QUNZHU_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = cli.invoke(app, ["community", "list"])
    assert result.exit_code == 2
    assert "qunzhu db upgrade" in result.output
    assert cli.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert cli.invoke(app, ["community", "list", "--json"]).stdout.strip() == "[]"


def test_community_row_created_in_one_transaction(cli, cli_env, store):
    cli.invoke(app, ["community", "create", "bad slug!"])
    with store.reading() as s:
        assert s.scalar(select(func.count()).select_from(Community)) == 0


RULES = """\
name: 演示
purpose: ingest tests
rules:
  contact_solicitation:
    action: delete_warn
    severity: 2
  classifier:
    action: allow
    threshold_flag: 1.0
    threshold_act: 1.0
escalation:
  points_expire_days: 30
"""
SPAM = "加 薇 信 abc_123 了解赚钱项目"


def test_ingest_of_an_ad_queues_its_delete_and_prints_the_outbox_ids(cli, cli_env, tmp_path, store):
    cli.invoke(app, ["community", "create", "demo-c"])
    with store.unit_of_work() as s:
        s.execute(update(Community).where(Community.slug == "demo-c").values(spec_yaml=RULES))
    path = tmp_path / "events.jsonl"
    path.write_text(_line(1, text=SPAM) + "\n" + _line(2) + "\n", encoding="utf-8")
    result = cli.invoke(app, ["ingest", str(path), "--json"])
    assert result.exit_code == 0, result.output
    actions = json.loads(result.stdout)["actions"]
    assert [(a["kind"], a["message_id"]) for a in actions] == [
        ("delete_message", "1"),
        ("warn", None),
    ]
    with store.reading() as s:
        queued = s.execute(
            select(OutboxAction.id, OutboxAction.status).order_by(OutboxAction.id)
        ).all()
    assert [(a["outbox_id"], "queued") for a in actions] == [tuple(r) for r in queued]

    path.write_text(_line(3, text=SPAM + "!") + "\n", encoding="utf-8")
    shown = cli.invoke(app, ["ingest", str(path)])
    assert shown.exit_code == 0, shown.output
    assert "2 actions decided" in shown.output and "delete_message 555 message 3" in shown.output
    assert f"outbox #{queued[-1].id + 1}: delete_message" in shown.output


def test_the_default_database_is_one_file_in_the_data_directory_made_by_db_upgrade(
    cli, tmp_path, monkeypatch
):
    monkeypatch.delenv("QUNZHU_DATABASE_URL", raising=False)
    monkeypatch.setenv("QUNZHU_SECRET_KEY", "t" * 40)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    expected = tmp_path / "data" / "qunzhu" / "qunzhu.db"
    monkeypatch.chdir(tmp_path)
    shown = cli.invoke(app, ["config", "show"])
    assert f"database file: {expected} (not created yet" in shown.stdout
    made = cli.invoke(app, ["db", "upgrade"])
    assert made.exit_code == 0, made.output
    assert made.stderr.strip() == (
        f"creating a new database at {expected} (QUNZHU_DATABASE_URL chooses another)"
    )
    assert expected.is_file() and not (tmp_path / "qunzhu.db").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # another folder: the same database, nothing new made
    listed = cli.invoke(app, ["community", "list", "--json"])
    assert listed.exit_code == 0 and listed.stdout.strip() == "[]" and listed.stderr == ""
    assert list(elsewhere.iterdir()) == []
    assert f"database file: {expected}\n" in cli.invoke(app, ["config", "show"]).stdout


def test_a_command_never_makes_an_empty_database_where_there_is_none(cli, tmp_path, monkeypatch):
    path = tmp_path / "typo" / "qunzhu.db"
    monkeypatch.setenv("QUNZHU_DATABASE_URL", f"sqlite:///{path}")
    for command in (["community", "list"], ["db", "current"], ["demo"]):
        result = cli.invoke(app, command)
        assert result.exit_code == 2
        assert f"no database at {path}" in result.stderr and "qunzhu db upgrade" in result.stderr
    assert not path.parent.exists()
