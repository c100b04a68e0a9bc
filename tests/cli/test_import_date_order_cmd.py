"""`qunzhu import --date-order`: a WhatsApp export whose dates cannot tell their order stops
with a question; given the order, it is read so, and the summary says what was decided."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from qunzhu.cli.main import app
from qunzhu.store.models import Message

# one day, every number 12 or less: 5 January or 1 May?
ONE_DAY = "5/1/24, 10:00 - Ana: hello\n5/1/24, 10:05 - Ben: hi Ana\n"
# the same chat over days: the first number changes, the second does not, so days first
DAYS = ONE_DAY + "6/1/24, 09:00 - Ana: next day\n7/1/24, 09:00 - Ben: and the next\n"


def _chat(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "WhatsApp Chat with Runners.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_undecidable_file_stops_and_asks_for_the_date_order(cli, cli_env, store, tmp_path):
    path = _chat(tmp_path, ONE_DAY)
    result = cli.invoke(app, ["import", str(path), "-c", "c", "-g", "g", "--tz", "UTC", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert "WhatsApp Chat with Runners.txt" in error and "--date-order dmy" in error
    with store.reading() as session:
        assert session.scalars(select(Message)).first() is None


def test_the_date_order_given_is_used_and_said(cli, cli_env, store, tmp_path):
    path = _chat(tmp_path, ONE_DAY)
    args = ["import", str(path), "-c", "c", "-g", "g", "--tz", "UTC", "--date-order", "mdy"]
    result = cli.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    [decided] = json.loads(result.stdout)["decided"]
    assert decided.startswith("month-first (mdy): given")
    with store.reading() as session:
        times = session.scalars(select(Message.occurred_at)).all()
    assert {t.replace(tzinfo=UTC) if t.tzinfo is None else t for t in times} == {
        datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        datetime(2024, 5, 1, 10, 5, tzinfo=UTC),
    }


def test_the_decision_from_the_file_is_in_the_table(cli, cli_env, tmp_path):
    path = _chat(tmp_path, DAYS)
    result = cli.invoke(app, ["import", str(path), "-c", "c", "-g", "g", "--tz", "UTC"])
    assert result.exit_code == 0, result.output
    assert "day-first (dmy): the first number changes 2 times" in " ".join(result.stdout.split())


def test_a_bad_date_order_is_refused(cli, cli_env, tmp_path):
    path = _chat(tmp_path, ONE_DAY)
    result = cli.invoke(app, ["import", str(path), "-c", "c", "-g", "g", "--date-order", "dym"])
    assert result.exit_code == 2 and "--date-order 'dym'" in result.stderr
