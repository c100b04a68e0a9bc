"""`qunzhu import` of Telegram exports says what it decided: the group's Bot API id, and the
zone an old export's local times were read in."""

from __future__ import annotations

import json
from pathlib import Path

from qunzhu.cli.main import app

CORPUS = Path(__file__).parents[1] / "adapters" / "corpus" / "telegram"


def test_an_old_export_says_its_zone_and_the_group_it_went_to(cli, cli_env):
    path = CORPUS / "old_export.json"
    args = ["import", str(path), "-c", "old", "-g", "老群", "--tz", "Asia/Shanghai"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    said = " ".join(result.stdout.split())
    assert "stored as group -1001300000003" in said
    assert "4 record(s) carry no date_unixtime" in said and "Asia/Shanghai" in said


def test_the_json_summary_names_the_group_and_what_was_decided(cli, cli_env):
    path = CORPUS / "single_chat.json"
    args = ["import", str(path), "-c", "tg", "-g", "1482056085", "--json", "--no-recompute"]
    data = json.loads(cli.invoke(app, args).stdout)
    assert data["group"] == "-1001482056085" and data["messages"] == 7
    assert len(data["decided"]) == 1 and "history and live meet" in data["decided"][0]
