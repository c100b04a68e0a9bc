"""The connectors page: each connector's state, last event and error, disabled groups with
reasons, recent actions and open alerts; analysts read, only admins enable or disable."""

from __future__ import annotations

from datetime import UTC, datetime

from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select

from qunzhu.store.connectors import Connector, ConnectorAction, ConnectorAlert, ConnectorGroup
from qunzhu.store.models import AuditEntry

AT = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)


def _seed(personas) -> tuple[int, int]:
    acme, rival = personas.communities["acme"], personas.communities["rival"]
    with personas.store.unit_of_work() as session:
        bot = Connector(
            community_id=acme,
            platform="telegram",
            name="acme-bot",
            status="connected",
            last_event_at=AT,
            last_error="deleteMessage: 500 Internal Server Error",
            last_error_at=AT,
            events_received=1234,
            actions_sent=56,
        )
        other = Connector(community_id=rival, platform="qq", name="rival-qq")
        session.add_all([bot, other])
        session.flush()
        session.add(
            ConnectorGroup(
                community_id=acme,
                connector_id=bot.id,
                platform_group_id="-100777",
                name="读书一群",
                status="disabled",
                reason="Forbidden: bot was kicked from the supergroup chat",
            )
        )
        session.add(
            ConnectorAction(
                community_id=acme,
                connector_id=bot.id,
                community="acme",
                platform="telegram",
                platform_group_id="-100555",
                member="4242",
                kind="delete_message",
                key="k1",
                status="sent",
            )
        )
        session.add(
            ConnectorAlert(
                community_id=acme,
                connector_id=bot.id,
                platform="telegram",
                platform_group_id="-100777",
                kind="connector_disabled",
                text="group -100777 is disabled: bot was kicked",
                key="alert-1",
            )
        )
        session.add(
            ConnectorAlert(
                community_id=acme,
                connector_id=bot.id,
                platform="telegram",
                platform_group_id="-100777",
                kind="mute",
                text="an alert already handled",
                key="alert-2",
                status="done",
            )
        )
        return int(bot.id), int(other.id)


def test_an_analyst_sees_state_groups_actions_and_alerts(client, personas):
    bot, _ = _seed(personas)
    log_in(client, "analyst")
    client.cookies.set("qz_lang", "en")
    page = client.get("/c/acme/connectors")
    assert page.status_code == 200
    html = page.text
    assert f'id="connector-{bot}"' in html
    assert "acme-bot" in html and "connected" in html
    assert "deleteMessage: 500 Internal Server Error" in html  # last error
    assert "读书一群" in html and "bot was kicked from the supergroup chat" in html
    assert "delete_message" in html and "-100555" in html  # a recent action
    assert "group -100777 is disabled: bot was kicked" in html
    assert "an alert already handled" not in html  # handled alerts leave the page
    assert "rival-qq" not in html  # another community's connector
    assert "/connectors/" not in html.split("</nav>", 1)[1]  # no enable/disable form
    assert 'href="/c/acme/connectors"' in html  # the tab


def test_the_page_speaks_chinese(client, personas):
    _seed(personas)
    log_in(client, "analyst")
    client.cookies.set("qz_lang", "zh-CN")
    html = client.get("/c/acme/connectors").text
    assert "连接器" in html and "已连接" in html and "最近错误" in html


def test_only_admins_disable_and_enable_and_it_is_audited(client, personas):
    bot, other = _seed(personas)
    for who in ("analyst", "moderator"):
        client.cookies.clear()
        log_in(client, who)
        token = csrf_from(client.get("/c/acme").text)
        denied = client.post(f"/c/acme/connectors/{bot}/disable", data={"csrf_token": token})
        assert denied.status_code == 403
    client.cookies.clear()
    log_in(client, "admin")
    page = client.get("/c/acme/connectors")
    assert f'action="/c/acme/connectors/{bot}/disable"' in page.text
    token = csrf_from(page.text)
    assert client.post(f"/c/acme/connectors/{bot}/disable", data={}).status_code == 403  # CSRF
    done = client.post(
        f"/c/acme/connectors/{bot}/disable", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303 and "done=connector_disabled" in done.headers["location"]
    with personas.store.reading() as session:
        row = session.get(Connector, bot)
        assert row is not None and not row.enabled and row.status == "disabled"
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == "acme-bot")
        ).all()
    assert audited == ["connector.disable"]
    again = client.post(f"/c/acme/connectors/{bot}/enable", data={"csrf_token": token})
    assert again.status_code == 200 and 'action="/c/acme/connectors/' in again.text
    with personas.store.reading() as session:
        row = session.get(Connector, bot)
        assert row is not None and row.enabled
    # a connector of another community is not found from here
    stranger = client.post(f"/c/acme/connectors/{other}/disable", data={"csrf_token": token})
    assert stranger.status_code == 404


def test_a_stranger_cannot_see_the_page(client, personas):
    _seed(personas)
    log_in(client, "outsider")
    assert client.get("/c/acme/connectors").status_code == 404


def test_today_links_to_the_connectors_page(client, personas):
    _seed(personas)
    log_in(client, "analyst")
    html = client.get("/c/acme").text
    assert 'href="/c/acme/connectors"' in html.split('id="todo-connectors"', 1)[1]


def test_no_connectors_says_how_to_connect_one(client, personas):
    log_in(client, "analyst")
    client.cookies.set("qz_lang", "en")
    assert "qunzhu connect telegram" in client.get("/c/acme/connectors").text
