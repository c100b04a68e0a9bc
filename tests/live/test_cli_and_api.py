"""`qunzhu connect ...` / `qunzhu connectors ...`, credentials at rest, and the API view of
connector state and alerts (with its permission checks)."""

from __future__ import annotations

import json

from connector_fakes import telegram as tg
from connector_fakes.liveserver import LiveServer
from fastapi.testclient import TestClient
from qunzhu_tests_connectors import rows
from sqlalchemy import select

from qunzhu.auth.credentials import hash_password
from qunzhu.auth.operators import create_token
from qunzhu.cli.main import app
from qunzhu.http.app import create_app
from qunzhu.settings import load_settings
from qunzhu.store import connector_records as records
from qunzhu.store.connectors import Connector
from qunzhu.store.credentials import CredentialsError, seal, unseal
from qunzhu.store.models import Operator, OperatorRole


def test_connect_telegram_registers_the_webhook_and_seals_the_token(
    store, community, cli, cli_env, monkeypatch
):
    fake = tg.FakeTelegram()
    monkeypatch.setenv("QUNZHU_TELEGRAM_TOKEN", fake.token)
    with LiveServer(fake.app) as server:
        done = cli.invoke(
            app,
            [
                "connect",
                "telegram",
                "acme",
                "--name",
                "tgbot",
                "--public-url",
                "https://bot.example.org",
                "--api-base",
                server.url,
                "--json",
            ],
        )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["webhook"] == "/hooks/telegram/tgbot"
    [hook] = fake.called("setWebhook")
    assert hook["url"] == "https://bot.example.org/hooks/telegram/tgbot"
    [(secret,)] = rows(store, select(Connector.secret))
    assert fake.token not in secret  # encrypted at rest
    creds = unseal(store.settings, secret)
    assert creds["token"] == fake.token and creds["webhook_secret"] == hook["secret_token"]
    listed = cli.invoke(app, ["connectors", "list", "--json"])
    [item] = json.loads(listed.output)
    assert item["status"] == "idle" and item["credentials"]["token"].startswith("…")
    assert fake.token not in listed.output


def test_connect_refuses_an_unknown_community_and_a_bad_key(
    store, community, cli, cli_env, monkeypatch
):
    monkeypatch.setenv("QUNZHU_ONEBOT_ACCESS_TOKEN", "tok")
    done = cli.invoke(app, ["connect", "onebot", "nope", "--json"])
    assert done.exit_code == 2 and "community 'nope' does not exist" in done.output
    monkeypatch.setenv("QUNZHU_WECOM_AES_KEY", "short")
    done = cli.invoke(
        app, ["connect", "wecom", "acme", "--corp-id", "ww1", "--json"], input="s\nt\n"
    )
    assert done.exit_code == 2 and "43 characters" in done.output


def test_credentials_need_the_secret_key_and_the_same_key(settings):
    sealed = seal(settings, {"token": "abc"})
    assert unseal(settings, sealed) == {"token": "abc"}
    other = load_settings(database_url=settings.database_url, secret_key="x" * 40)
    try:
        unseal(other, sealed)
    except CredentialsError as exc:
        assert "QUNZHU_SECRET_KEY changed" in str(exc)
    else:
        raise AssertionError("a token sealed under another key was read")
    keyless = load_settings(database_url=settings.database_url)
    try:
        seal(keyless, {"token": "abc"})
    except CredentialsError as exc:
        assert "QUNZHU_SECRET_KEY is not set" in str(exc)
    else:
        raise AssertionError("credentials were sealed without a secret key")


def _token(store, community_id: int, role: str | None) -> dict[str, str]:
    with store.unit_of_work() as session:
        operator = Operator(
            username=f"op-{role or 'stranger'}",
            display_name="Op",
            password_hash=hash_password("pw-pw-pw-pw-pw"),
            is_superuser=False,
            active=True,
        )
        session.add(operator)
        session.flush()
        if role:
            session.add(OperatorRole(operator_id=operator.id, community_id=community_id, role=role))
        issued = create_token(session, f"op-{role or 'stranger'}", "test", source="system")
    return {"Authorization": f"Bearer {issued.token}"}


def test_the_api_shows_state_and_alerts_to_those_allowed(
    store, community, cli, cli_env, monkeypatch
):
    monkeypatch.setenv("QUNZHU_ONEBOT_ACCESS_TOKEN", "tok-123456789")
    assert cli.invoke(app, ["connect", "onebot", "acme", "--name", "qq1"]).exit_code == 0
    cid = records.community_id(store, "acme")
    assert cid is not None
    records.add_alert(
        store,
        community="acme",
        connector_id=None,
        platform="wecom",
        group="g1",
        kind="remove",
        text="WeCom cannot remove wm3",
    )
    client = TestClient(create_app(store.settings, store))
    moderator, analyst = _token(store, cid, "moderator"), _token(store, cid, "analyst")
    stranger = _token(store, cid, None)
    seen = client.get("/api/v1/communities/acme/connectors", headers=analyst).json()
    [item] = seen["items"]
    assert item["name"] == "qq1" and item["status"] == "idle" and "credentials" not in item
    assert (
        client.get("/api/v1/communities/acme/connectors/alerts", headers=analyst).status_code == 403
    )
    assert client.get("/api/v1/communities/acme/connectors", headers=stranger).status_code == 404
    assert client.get("/api/v1/communities/acme/connectors").status_code == 401
    [alert] = client.get("/api/v1/communities/acme/connectors/alerts", headers=moderator).json()[
        "items"
    ]
    assert alert["text"] == "WeCom cannot remove wm3"
    done = client.post(
        f"/api/v1/communities/acme/connectors/alerts/{alert['id']}/done", headers=moderator
    )
    assert done.status_code == 200
    assert (
        client.get("/api/v1/communities/acme/connectors/alerts", headers=moderator).json()["items"]
        == []
    )


def test_a_connector_sealed_under_another_key_does_not_stop_the_others(store, community):
    from qunzhu.adapters.manage import describe, save_connector
    from qunzhu.live.hub import ConnectorHub

    save_connector(
        store,
        community="acme",
        platform="qq",
        name="good",
        config={},
        credentials={"access_token": "t1"},
    )
    bad = save_connector(
        store,
        community="acme",
        platform="qq",
        name="stale",
        config={},
        credentials={"access_token": "t2"},
    )
    other = load_settings(database_url=store.settings.database_url, secret_key="z" * 40)
    records.set_status(store, bad, secret=seal(other, {"access_token": "t2"}))
    hub = ConnectorHub.load(store)
    assert [c.info.name for c in hub.connectors.values()] == ["good"]
    shown = {c["name"]: c for c in describe(store)}
    assert shown["stale"]["status"] == "error"
    assert "QUNZHU_SECRET_KEY changed" in shown["stale"]["reason"]
    hub.stop()


def test_connect_wechat_through_a_onebot12_bridge(store, community, cli, cli_env, monkeypatch):
    monkeypatch.setenv("QUNZHU_ONEBOT_ACCESS_TOKEN", "bridge-token")
    args = ["connect", "wechat", "acme", "--bridge", "onebot12"]
    done = cli.invoke(app, [*args, "--host", "192.168.1.20", "--port", "8082", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["platform"] == "wechat"
    [(platform, config)] = rows(store, select(Connector.platform, Connector.config))
    assert platform == "wechat" and config["protocol"] == "onebot12"
    assert config["ws_url"] == "ws://192.168.1.20:8082/" and config["mode"] == "forward"
    bad = cli.invoke(app, [*args, "--host", "pc", "--port", "1", "--jitter", "-2", "--json"])
    assert bad.exit_code == 2 and "send_jitter" in bad.output
    other = cli.invoke(app, ["connect", "wechat", "acme", "--bridge", "wcf", "--json"])
    assert other.exit_code == 2 and "onebot12" in other.output
    v12 = cli.invoke(
        app, ["connect", "onebot", "acme", "--version", "12", "--name", "ob12", "--json"]
    )
    assert v12.exit_code == 0, v12.output
    assert json.loads(v12.output)["next"][0].startswith("in the bridge, set the reverse")
