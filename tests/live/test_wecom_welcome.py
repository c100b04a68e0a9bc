"""The WeCom group welcome: `qunzhu connect wecom --welcome` and `qunzhu connectors welcome`
store the text, the connector registers it as a template once, and a new text edits that
same template."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from connector_fakes import wecom as wc
from connector_fakes.liveserver import LiveServer
from qunzhu_tests_connectors import rows
from sqlalchemy import select

from qunzhu.adapters.state import StateBook
from qunzhu.adapters.wecom.adapter import WeComConnector
from qunzhu.cli.main import app
from qunzhu.live.hub import load_infos
from qunzhu.store.connectors import Connector

WELCOME = "欢迎加入读书会！请先看群公告。"


@pytest.fixture
def fake() -> Iterator[wc.FakeWeCom]:
    platform = wc.FakeWeCom()
    with LiveServer(platform.app) as server:
        platform.url = server.url  # type: ignore[attr-defined]
        yield platform


@pytest.fixture
def wecom_env(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUNZHU_WECOM_SECRET", wc.SECRET)
    monkeypatch.setenv("QUNZHU_WECOM_TOKEN", wc.TOKEN)
    monkeypatch.setenv("QUNZHU_WECOM_AES_KEY", wc.AES_KEY)


def _connect(cli: Any, fake: wc.FakeWeCom, *extra: str) -> Any:
    return cli.invoke(
        app,
        [
            "connect",
            "wecom",
            "acme",
            "--name",
            "wecom1",
            "--corp-id",
            wc.CORP_ID,
            "--api-base",
            fake.url,  # type: ignore[attr-defined]
            "--sync-interval",
            "0",
            *extra,
            "--json",
        ],
    )


def _config(store: Any) -> dict[str, Any]:
    [(config,)] = rows(store, select(Connector.config))
    return dict(config)


def _connector(store: Any) -> WeComConnector:
    [info] = load_infos(store)
    return WeComConnector(info, store, StateBook(store), lambda events: None)


def test_connect_stores_the_welcome_and_the_connector_registers_it_once(
    store, community, cli, wecom_env, fake
):
    done = _connect(cli, fake, "--welcome", WELCOME)
    assert done.exit_code == 0, done.output
    assert _config(store)["welcome"] == WELCOME
    assert fake.called("group_welcome_template/add") == []  # not before it runs
    bot = _connector(store)
    template = bot.ensure_welcome()
    assert template is not None and fake.welcomes == {template: WELCOME}
    assert _config(store)["welcome_template_id"] == template
    again = _connector(store)  # a restart of qunzhu serve
    assert again.ensure_welcome() == template
    assert len(fake.called("group_welcome_template/add")) == 1


def test_the_welcome_command_registers_now_and_edits_the_same_template(
    store, community, cli, wecom_env, fake
):
    assert _connect(cli, fake).exit_code == 0
    first = cli.invoke(app, ["connectors", "welcome", "wecom1", WELCOME, "--json"])
    assert first.exit_code == 0, first.output
    template = json.loads(first.output)["template_id"]
    assert fake.welcomes == {template: WELCOME}
    second = cli.invoke(app, ["connectors", "welcome", "wecom1", "新朋友你好", "--json"])
    assert json.loads(second.output)["template_id"] == template
    assert fake.welcomes == {template: "新朋友你好"}
    assert [c["template_id"] for c in fake.called("group_welcome_template/edit")] == [template]
    cleared = cli.invoke(app, ["connectors", "welcome", "wecom1", "--clear", "--json"])
    assert cleared.exit_code == 0 and "welcome" not in _config(store)
    assert _connector(store).ensure_welcome() is None


def test_a_welcome_wecom_refuses_is_kept_for_later(store, community, cli, wecom_env, fake):
    assert _connect(cli, fake).exit_code == 0
    fake.failures["group_welcome_template/add"] = [{"errcode": -1, "errmsg": "system busy"}]
    answer = cli.invoke(app, ["connectors", "welcome", "wecom1", WELCOME, "--json"])
    assert answer.exit_code == 0, answer.output
    data = json.loads(answer.output)
    assert data["template_id"] is None and "qunzhu serve registers it" in data["note"]
    assert _config(store)["welcome"] == WELCOME
    template = _connector(store).ensure_welcome()  # the next run takes it
    assert fake.welcomes == {template: WELCOME}


def test_bad_welcome_requests_are_refused_with_the_reason(store, community, cli, wecom_env, fake):
    assert _connect(cli, fake).exit_code == 0
    empty = cli.invoke(app, ["connectors", "welcome", "wecom1", "   "])
    assert empty.exit_code != 0 and "empty" in empty.output
    both = cli.invoke(app, ["connectors", "welcome", "wecom1", "hi", "--clear"])
    assert both.exit_code != 0 and "not both" in both.output
    unknown = cli.invoke(app, ["connectors", "welcome", "nobody", "hi"])
    assert unknown.exit_code != 0 and "no connector named 'nobody'" in unknown.output
    too_long = cli.invoke(app, ["connectors", "welcome", "wecom1", "长" * 4001])
    assert too_long.exit_code != 0 and "at most 4000" in too_long.output


def test_only_wecom_connectors_keep_a_welcome(store, community, cli, cli_env):
    from qunzhu.adapters.manage import save_connector

    save_connector(
        store,
        community="acme",
        platform="telegram",
        name="tgbot",
        config={"mode": "webhook"},
        credentials={"token": "1:x", "webhook_secret": "s"},
    )
    answer = cli.invoke(app, ["connectors", "welcome", "tgbot", "hi"])
    assert answer.exit_code != 0 and "only WeCom keeps a welcome template" in answer.output
    [(config,)] = rows(store, select(Connector.config))
    assert "welcome" not in config
