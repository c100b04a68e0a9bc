"""Logging in and out of the dashboard: sessions, CSRF, rate limit, safe redirects."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from qunzhu_tests_http import PASSWORD, csrf_from, log_in
from sqlalchemy import select

from qunzhu.auth.operators import set_password
from qunzhu.auth.sessions import COOKIE, IDLE_SECONDS, SessionCodec, login_session
from qunzhu.store.models import AuditEntry


def test_visitor_without_session_is_sent_to_login_with_next(client):
    answer = client.get("/?tab=today", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/%3Ftab%3Dtoday"


def test_login_sets_httponly_samesite_session_cookie_and_redirects(client, personas):
    answer = log_in(client, "owner", next_path="/?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?x=1"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here
    assert client.get("/").status_code == 200


def test_session_cookie_is_secure_over_https(app_factory, personas):
    with TestClient(app_factory(), base_url="https://qunzhu.example") as c:
        answer = log_in(c, "owner")
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(f"{COOKIE}="))
    assert "Secure" in cookie


def test_login_is_audited(client, personas):
    log_in(client, "analyst")
    with personas.store.reading() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "operator.login"))
    assert entry is not None and entry.operator_id == personas["analyst"].operator_id
    assert entry.source == "web"


def test_wrong_password_shows_the_form_again(client, personas):
    answer = log_in(client, "owner", password="not the password")
    assert answer.status_code == 401
    assert "Wrong username or password" in answer.text or "用户名或密码错误" in answer.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_form_without_csrf_token_is_refused(client, personas):
    client.get("/login")  # the browser has a session, but the form does not carry its token
    answer = client.post("/login", data={"username": "owner", "password": PASSWORD})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_form_with_another_browsers_csrf_token_is_refused(app_factory, personas):
    app = app_factory()
    with TestClient(app) as mallory, TestClient(app) as victim:
        stolen = csrf_from(mallory.get("/login").text)
        victim.get("/login")
        answer = victim.post(
            "/login", data={"username": "owner", "password": PASSWORD, "csrf_token": stolen}
        )
    assert answer.status_code == 403


def test_logout_needs_csrf_and_ends_the_session(client, personas):
    log_in(client, "owner")
    assert client.post("/logout", data={}).status_code == 403
    token = csrf_from(client.get("/").text)
    answer = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_must_be_a_local_path(client, personas, target):
    answer = log_in(client, "owner", next_path=target)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_login_rate_limited_after_failures(app_factory, personas, settings):
    with TestClient(app_factory()) as c:
        for _ in range(settings.login_rate_limit):
            assert log_in(c, "owner", password="wrong password!").status_code == 401
        limited = log_in(c, "owner")  # even the right password waits now
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        # another username from the same address is counted apart
        assert log_in(c, "analyst").status_code == 303


def test_successful_login_clears_earlier_failures(app_factory, personas, settings):
    with TestClient(app_factory()) as c:
        for _ in range(settings.login_rate_limit - 1):
            log_in(c, "owner", password="wrong password!")
        assert log_in(c, "owner").status_code == 303
        c.cookies.clear()
        for _ in range(settings.login_rate_limit - 1):
            log_in(c, "owner", password="wrong password!")
        assert log_in(c, "owner").status_code == 303


def test_session_expires_after_idle_time(client, personas, settings):
    old = SessionCodec(settings.signing_key(), clock=lambda: time.time() - IDLE_SECONDS - 60)
    client.cookies.set(
        COOKIE, old.dumps(login_session(personas["owner"].operator_id, "x", now=time.time() - 3600))
    )
    assert client.get("/", follow_redirects=False).status_code == 303


def test_changing_the_password_ends_open_sessions(client, personas):
    log_in(client, "owner")
    assert client.get("/").status_code == 200
    with personas.store.unit_of_work() as session:
        set_password(session, "owner", "a brand new password", source="system")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logged_in_operator_visiting_login_goes_on(client, personas):
    log_in(client, "owner")
    answer = client.get("/login?next=/api/docs", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/api/docs"
