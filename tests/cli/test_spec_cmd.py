"""`qunzhu spec init|check` and `community create --spec`: output shape and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from qunzhu.cli.main import app
from qunzhu.spec import template
from qunzhu.store import Store
from qunzhu.store.models import Community

runner = CliRunner()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "community.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_init_writes_the_template_that_checks_clean(tmp_path: Path) -> None:
    path = tmp_path / "community.yaml"
    result = runner.invoke(app, ["spec", "init", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"file": str(path), "written": True}
    assert path.read_text(encoding="utf-8") == template()
    checked = runner.invoke(app, ["spec", "check", str(path), "--json"])
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout) == {
        "file": str(path),
        "ok": True,
        "errors": [],
        "findings": [],
    }


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = _write(tmp_path, "mine\n")
    refused = runner.invoke(app, ["spec", "init", str(path)])
    assert refused.exit_code == 1
    assert "--force" in refused.output
    assert path.read_text(encoding="utf-8") == "mine\n"
    forced = runner.invoke(app, ["spec", "init", str(path), "--force"])
    assert forced.exit_code == 0, forced.output
    assert path.read_text(encoding="utf-8") == template()


def test_check_schema_errors_exit_2_with_line_column_and_path(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\npurpose: y\nsize:\n  cap: '300'\n  polcy: waitlist\n")
    result = runner.invoke(app, ["spec", "check", str(path), "--json"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["findings"] == []
    assert [(e["path"], e["line"], e["column"]) for e in report["errors"]] == [
        ("size.cap", 4, 8),
        ("size.polcy", 5, 3),
    ]
    keys = {"path", "line", "column", "message", "message_en", "message_zh"}
    assert all(set(e) == keys for e in report["errors"])
    assert report["errors"][1]["message_zh"].startswith("未知字段")


def test_check_yaml_syntax_error_is_named_in_text_output(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\npurpose: y\n  oops: 1\n")
    result = runner.invoke(app, ["spec", "check", str(path)])
    assert result.exit_code == 2
    assert f"{path}:3:7" in result.output
    assert "YAML syntax" in result.output


def test_check_lint_errors_exit_1_with_codes(tmp_path: Path) -> None:
    text = (
        template()
        .replace("  cap: 300", "  cap: 800")
        .replace("  qualification: {stay_days", "  # qualification: {stay_days")
    )
    path = _write(tmp_path, text)
    result = runner.invoke(app, ["spec", "check", str(path), "--json", "--lang", "zh"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["errors"] == []
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [
        ("QZ501", "error"),
        ("QZ201", "warning"),
    ]
    first = report["findings"][0]
    assert set(first) == {"code", "severity", "path", "line", "message", "message_zh", "message_en"}
    assert first["message"] == first["message_zh"] != first["message_en"]
    assert text.splitlines()[report["findings"][1]["line"] - 1].strip() == "cap: 800"


def test_check_warnings_only_exit_0_and_print_a_summary(tmp_path: Path) -> None:
    path = _write(tmp_path, template().replace("  cap: 300", "  cap: 800"))
    result = runner.invoke(app, ["spec", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "QZ201 warning" in result.output
    assert "1 warning" in result.output


def test_check_missing_file_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["spec", "check", str(tmp_path / "nope.yaml"), "--json"])
    assert result.exit_code == 2
    assert "cannot read" in json.loads(result.stdout)["errors"][0]["message"]


# community create --spec: checked first, stored verbatim


def test_create_with_spec_stores_it(
    cli: CliRunner, cli_env: dict[str, str], store: Store, tmp_path: Path
) -> None:
    path = _write(tmp_path, template())
    result = cli.invoke(app, ["community", "create", "ai-pm", "--spec", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "AI 产品经理实战营"
    with store.reading() as session:
        community = session.scalars(select(Community).where(Community.slug == "ai-pm")).one()
        assert community.spec_yaml == template()


@pytest.mark.parametrize(
    "text", ["name: x\npurpose: y\nsize: {cap: '300'}\n", "name: x\n  bad: 1\n"]
)
def test_create_with_broken_spec_creates_nothing(
    cli: CliRunner, cli_env: dict[str, str], store: Store, tmp_path: Path, text: str
) -> None:
    path = _write(tmp_path, text)
    result = cli.invoke(app, ["community", "create", "broken", "--spec", str(path), "--json"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["errors"][0]["line"] >= 1 and "line" in report["error"]
    with store.reading() as session:
        assert session.scalars(select(Community)).all() == []


def test_create_with_non_utf8_spec_is_a_clear_error(
    cli: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "community.yaml"
    path.write_bytes(b"name: \xff\xfe\npurpose: y\n")
    result = cli.invoke(app, ["community", "create", "gbk", "--spec", str(path), "--json"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 2
    assert "UTF-8" in result.stdout


def test_create_refuses_a_spec_with_lint_errors_unless_forced(
    cli: CliRunner, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "community.yaml"
    assert cli.invoke(app, ["spec", "init", str(path)]).exit_code == 0
    text = path.read_text(encoding="utf-8").replace("kind: long_term", "kind: campaign", 1)
    path.write_text(text, encoding="utf-8")  # a campaign with no end date: QZ101
    refused = cli.invoke(app, ["community", "create", "camp", "--spec", str(path), "--json"])
    assert refused.exit_code == 1
    body = json.loads(refused.stdout)
    assert "QZ101" in body["error"] and body["findings"][0]["code"] == "QZ101"
    forced = cli.invoke(app, ["community", "create", "camp", "--spec", str(path), "--force"])
    assert forced.exit_code == 0, forced.output
