"""`qunzhu backup` and `qunzhu restore` as an operator runs them."""

from __future__ import annotations

import json

from qunzhu_tests import table_checksums

from qunzhu.cli.main import app


def test_backup_then_restore_into_an_empty_database_gives_every_row_back(
    cli, cli_env, store, db_url, empty_db_url, tmp_path, monkeypatch
):
    cli.invoke(app, ["community", "create", "demo-c", "--name", "演示"])
    file = tmp_path / "nightly.backup"
    result = cli.invoke(app, ["backup", str(file), "--json"])
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)
    assert written["path"] == str(file) and written["bytes"] == file.stat().st_size
    assert written["tables"]["communities"] == 1 and written["rows"] >= 2
    assert "********" not in result.stdout and "password" not in result.stdout

    again = cli.invoke(app, ["backup", str(file), "--json"])
    assert again.exit_code == 2 and "--force" in json.loads(again.stdout)["error"]

    monkeypatch.setenv("QUNZHU_DATABASE_URL", empty_db_url)
    restored = cli.invoke(app, ["restore", str(file)])
    assert restored.exit_code == 0, restored.output
    assert f"restored {file}" in restored.stdout and "communities" in restored.stdout
    assert table_checksums(empty_db_url) == table_checksums(db_url)

    refused = cli.invoke(app, ["restore", str(file), "--json"])
    assert refused.exit_code == 2
    assert "holds data" in json.loads(refused.stdout)["error"]


def test_restore_of_a_file_that_is_not_a_backup_is_refused(cli, cli_env, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\xff" * 500)
    result = cli.invoke(app, ["restore", str(junk), "--json"])
    assert result.exit_code == 2
    assert "is not a" in json.loads(result.stdout)["error"]
