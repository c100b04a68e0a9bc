"""`qunzhu connect discord`: the token from the environment, sealed at rest; the steps."""

from __future__ import annotations

import json

from sqlalchemy import select

from qunzhu.cli.main import app
from qunzhu.store.connectors import Connector
from qunzhu.store.credentials import unseal
from qunzhu.store.models import Community


def test_connect_discord_seals_the_token_and_names_the_intents(store, cli, cli_env, monkeypatch):
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="读书会", spec_yaml="name: 读书会\n"))
    monkeypatch.setenv("QUNZHU_DISCORD_TOKEN", "discord-bot-token-123")
    done = cli.invoke(
        app, ["connect", "discord", "acme", "--home-channel", "710000000000000001", "--json"]
    )
    assert done.exit_code == 0, done.output
    out = json.loads(done.output)
    assert out["platform"] == "discord" and any("Message Content" in s for s in out["next"])
    with store.reading() as session:
        row = session.scalars(select(Connector)).one()
    assert row.platform == "discord" and row.config == {"home_channel": "710000000000000001"}
    assert "discord-bot-token-123" not in row.secret
    assert unseal(store.settings, row.secret) == {"token": "discord-bot-token-123"}


def test_connect_discord_refuses_an_unknown_community(store, cli, cli_env, monkeypatch):
    monkeypatch.setenv("QUNZHU_DISCORD_TOKEN", "t")
    done = cli.invoke(app, ["connect", "discord", "nope", "--json"])
    assert done.exit_code == 2 and "community 'nope' does not exist" in done.output
