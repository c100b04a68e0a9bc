"""Signing in to the dashboard with a second factor, and QUNZHU_REQUIRE_2FA."""

from __future__ import annotations

import time

import pyotp
from fastapi.testclient import TestClient
from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select

from qunzhu.auth.ratelimit import MemoryLimiter
from qunzhu.auth.sessions import COOKIE
from qunzhu.auth.twofactor import enable_2fa, new_secret
from qunzhu.http.app import create_app
from qunzhu.store.models import AuditEntry


def _with_2fa(personas, settings, name: str) -> str:
    """Turn on 2FA for ``name`` as of two minutes ago, so codes from now on are unused."""
    secret = new_secret()
    earlier = time.time() - 120
    with personas.store.unit_of_work() as session:
        code = pyotp.TOTP(secret).at(earlier)
        enable_2fa(session, settings, name, secret, code, now=earlier, source="cli")
    return secret


def _send_code(client: TestClient, code: str, next_path: str = "/") -> object:
    page = client.get(f"/login/code?next={next_path}")
    assert page.status_code == 200, page.text
    return client.post(
        "/login/code",
        data={"code": code, "csrf_token": csrf_from(page.text), "next": next_path},
        follow_redirects=False,
    )


def _signed_in(client: TestClient) -> bool:
    return client.get("/", follow_redirects=False).status_code == 200


def test_password_alone_only_leads_to_the_code_step(client, personas, settings):
    _with_2fa(personas, settings, "owner")
    answer = log_in(client, "owner", next_path="/?x=1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login/code?next=%2F%3Fx%3D1"
    assert not _signed_in(client)


def test_wrong_code_refused_right_code_in_replayed_code_refused(app_factory, personas, settings):
    secret = _with_2fa(personas, settings, "owner")
    app = app_factory()
    with TestClient(app) as first, TestClient(app) as second:
        log_in(first, "owner")
        wrong = pyotp.TOTP(secret).at(time.time() - 600)
        refused = _send_code(first, wrong)
        assert refused.status_code == 401
        assert "Wrong or already used code" in refused.text or "验证码错误" in refused.text
        assert not _signed_in(first)

        code = pyotp.TOTP(secret).now()
        answer = _send_code(first, code, next_path="/?tab=today")
        assert answer.status_code == 303 and answer.headers["location"] == "/?tab=today"
        assert _signed_in(first)

        log_in(second, "owner")  # someone who saw the code, with the password too
        assert _send_code(second, code).status_code == 401
        assert not _signed_in(second)
    with personas.store.reading() as session:
        logins = session.scalars(select(AuditEntry).where(AuditEntry.action == "operator.login"))
        assert [e.operator_id for e in logins] == [personas["owner"].operator_id]


def test_the_code_step_needs_the_password_step_first(client, personas, settings):
    _with_2fa(personas, settings, "owner")
    client.get("/login")
    answer = client.get("/login/code", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?")


def test_wrong_codes_count_toward_the_login_limit(app_factory, personas, settings):
    secret = _with_2fa(personas, settings, "owner")
    with TestClient(app_factory(login_limiter=MemoryLimiter(2))) as c:
        log_in(c, "owner")
        wrong = pyotp.TOTP(secret).at(time.time() - 600)
        assert _send_code(c, wrong).status_code == 401
        assert _send_code(c, wrong).status_code == 401
        limited = _send_code(c, pyotp.TOTP(secret).now())
        assert limited.status_code == 429
        assert not _signed_in(c)


def _requiring(settings, store):
    required = settings.model_copy(update={"require_2fa": True})
    return create_app(required, store, login_limiter=MemoryLimiter(settings.login_rate_limit))


def test_required_2fa_refuses_an_owner_without_it_and_says_how(personas, settings):
    with TestClient(_requiring(settings, personas.store)) as c:
        answer = log_in(c, "owner")
        assert answer.status_code == 403
        assert "qunzhu operator 2fa enable owner" in answer.text
        assert not _signed_in(c)
        assert log_in(c, "root").status_code == 403  # a superuser too
        assert log_in(c, "analyst").status_code == 303  # other roles may sign in


def test_required_2fa_lets_an_owner_with_it_in(personas, settings):
    secret = _with_2fa(personas, settings, "owner")
    with TestClient(_requiring(settings, personas.store)) as c:
        log_in(c, "owner")
        assert _send_code(c, pyotp.TOTP(secret).now()).status_code == 303
        assert _signed_in(c)


def test_required_2fa_ends_an_owners_earlier_session_but_not_api_tokens(client, personas, settings):
    log_in(client, "owner")
    cookie = client.cookies[COOKIE]
    with TestClient(_requiring(settings, personas.store)) as c:
        c.cookies.set(COOKIE, cookie)
        assert not _signed_in(c)
        token = {"Authorization": f"Bearer {personas['owner'].token}"}
        assert c.get("/api/v1/communities", headers=token).status_code == 200
