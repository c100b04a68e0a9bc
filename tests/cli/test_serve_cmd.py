from __future__ import annotations

from typing import Any

import pytest

from qunzhu.cli.main import app


@pytest.fixture
def bound(monkeypatch, cli_env) -> dict[str, Any]:
    """`qunzhu serve` up to the server itself: what uvicorn was asked to bind."""
    import uvicorn

    from qunzhu.live import process

    for job in ("SETTLE", "SWEEP", "RECOMPUTE"):
        monkeypatch.setenv(f"QUNZHU_SCHEDULE_{job}_MINUTES", "0")
    monkeypatch.setattr(process, "freeze_startup_heap", lambda: None)
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda _app, **kw: seen.update(kw))
    return seen


def test_serve_prints_the_port_it_really_listens_on(cli, bound):
    result = cli.invoke(app, ["serve", "--port", "8011", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert (bound["host"], bound["port"]) == ("0.0.0.0", 8011)
    out = result.stdout
    assert "Log in at http://127.0.0.1:8011/login" in out  # the first run's login line
    assert "dashboard: http://127.0.0.1:8011/" in out
    assert ":8000" not in out


def test_serve_without_flags_listens_where_the_settings_say(cli, bound, monkeypatch):
    monkeypatch.setenv("QUNZHU_PORT", "8123")
    result = cli.invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert (bound["host"], bound["port"]) == ("127.0.0.1", 8123)
    assert "http://127.0.0.1:8123/login" in result.stdout
