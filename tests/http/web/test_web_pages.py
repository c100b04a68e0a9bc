"""The start page and the language switch, as each persona sees them."""

from __future__ import annotations

from qunzhu_tests_http import csrf_from, feed, joined, log_in, message

from qunzhu.auth.sessions import LANG_COOKIE


def test_start_page_lists_the_operators_communities_and_groups(client, personas):
    feed(
        personas.store,
        [
            joined("u1"),
            joined("u2"),
            message(1, member="u1"),
            message(2, member="u1"),
            message(3, group="g2", member="u2"),
        ],
    )
    log_in(client, "analyst")
    page = client.get("/")
    assert page.status_code == 200
    assert "栗子读书会" in page.text
    assert "Rival Club" not in page.text
    assert "g1" in page.text and "g2" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_outsider_does_not_see_other_community_on_start_page(client, personas):
    log_in(client, "outsider")
    page = client.get("/")
    assert "Rival Club" in page.text
    assert "栗子读书会" not in page.text


def test_superuser_sees_every_community_on_start_page(client, personas):
    log_in(client, "root")
    page = client.get("/")
    assert "Rival Club" in page.text and "栗子读书会" in page.text


def test_operator_without_roles_gets_an_empty_state(client, personas, store):
    from qunzhu.store.models import OperatorRole

    with store.unit_of_work() as session:
        session.query(OperatorRole).filter_by(operator_id=personas["analyst"].operator_id).delete()
    log_in(client, "analyst")
    page = client.get("/")
    assert page.status_code == 200
    assert "<table" not in page.text


def test_language_switch_sticks_in_a_cookie(client, personas):
    login_page = client.get("/login")
    answer = client.post(
        "/lang",
        data={"lang": "en", "next": "/login", "csrf_token": csrf_from(login_page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert client.cookies.get(LANG_COOKIE) == "en"
    assert "Log in" in client.get("/login").text
    client.post(
        "/lang",
        data={
            "lang": "zh-CN",
            "next": "/login",
            "csrf_token": csrf_from(client.get("/login").text),
        },
    )
    assert "登录" in client.get("/login").text


def test_language_switch_without_csrf_is_refused(client):
    client.get("/login")
    assert client.post("/lang", data={"lang": "en"}).status_code == 403


def test_default_language_comes_from_settings(app_factory, personas, settings):
    from fastapi.testclient import TestClient

    from qunzhu.http.app import create_app

    english = settings.model_copy(update={"language": "en"})
    with TestClient(create_app(english, personas.store)) as c:
        assert '<html lang="en">' in c.get("/login").text
    with TestClient(app_factory()) as c:
        assert f'<html lang="{settings.language}">' in c.get("/login").text


def test_error_page_is_html_in_the_dashboard(client, personas):
    log_in(client, "analyst")
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "<h1>" in page.text
    assert 'action="/logout"' in page.text or "404" in page.text


def test_pages_work_on_a_phone_width_stylesheet(client):
    css = client.get("/static/qunzhu.css").text
    assert "@media (max-width: 640px)" in css
    page = client.get("/login")
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing external
