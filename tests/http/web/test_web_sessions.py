"""Server-side sessions: listed, revoked one by one or all at once, dead for good once revoked
(an old cookie replayed is refused), ended by logout, a password change or turning on 2FA;
owners reach only the sessions of operators of their own community."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select, update

from qunzhu.auth.operators import set_password
from qunzhu.auth.sessions import COOKIE, IDLE_SECONDS
from qunzhu.auth.twofactor import enable_2fa
from qunzhu.store.models import AuditEntry, OperatorSession, utcnow

SESSION_ROW = re.compile(r'name="session" value="(\d+)"')


@pytest.fixture
def app(app_factory: Any) -> Any:
    return app_factory()


def _signed_in(app: Any, who: str, agent: str) -> TestClient:
    browser = TestClient(app, headers={"user-agent": agent})
    assert log_in(browser, who).status_code == 303
    return browser


def _signed_out(browser: TestClient) -> bool:
    answer = browser.get("/", follow_redirects=False)
    assert answer.status_code in (200, 303)
    return answer.status_code == 303 and answer.headers["location"].startswith("/login")


def _rows(store: Any, operator_id: int) -> list[OperatorSession]:
    with store.reading() as session:
        return list(
            session.scalars(
                select(OperatorSession)
                .where(OperatorSession.operator_id == operator_id)
                .order_by(OperatorSession.id)
            )
        )


def _revokes(store: Any) -> list[AuditEntry]:
    with store.reading() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "session.revoke")
                .order_by(AuditEntry.id)
            )
        )


def test_two_sign_ins_listed_revoke_one_and_the_other_still_works(app, personas):
    laptop = _signed_in(app, "moderator", "Laptop Firefox")
    phone = _signed_in(app, "moderator", "Phone Safari")
    page = laptop.get("/sessions")
    assert page.status_code == 200
    assert "Laptop Firefox" in page.text and "Phone Safari" in page.text
    ids = SESSION_ROW.findall(page.text)
    assert len(ids) == 2
    rows = _rows(personas.store, personas["moderator"].operator_id)
    phone_id = next(r.id for r in rows if r.user_agent == "Phone Safari")
    assert all(len(r.key_hash) == 64 for r in rows)  # a hash, not the key in the cookie
    assert rows[0].key_hash not in str(laptop.cookies.get(COOKIE))

    answer = laptop.post(
        "/sessions/revoke",
        data={"csrf_token": csrf_from(page.text), "session": str(phone_id)},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and "done=session_revoked" in answer.headers["location"]
    assert _signed_out(phone)
    assert not _signed_out(laptop)
    assert log_in(phone, "moderator").status_code == 303  # signing in again makes a new one
    assert not _signed_out(phone)
    listed = SESSION_ROW.findall(laptop.get("/sessions").text)
    assert len(listed) == 2 and str(phone_id) not in listed  # the laptop and the new one
    entry = _revokes(personas.store)[-1]
    assert entry.operator_id == personas["moderator"].operator_id
    assert entry.detail == {"sessions": [phone_id], "reason": "revoked by self"}


def test_a_revoked_session_cookie_replayed_is_refused(app, personas):
    browser = _signed_in(app, "analyst", "A")
    stolen = browser.cookies.get(COOKIE)
    other = _signed_in(app, "analyst", "B")
    token = csrf_from(other.get("/sessions").text)
    other.post("/sessions/revoke", data={"csrf_token": token, "others": "true"})
    with TestClient(app) as thief:
        thief.cookies.set(COOKIE, stolen)
        assert _signed_out(thief)
        assert thief.get("/api/v1/communities").status_code == 401
    assert not _signed_out(other)  # "all the others" kept the one asking


def test_logout_revokes_the_session_on_the_server(app, personas):
    browser = _signed_in(app, "owner", "A")
    cookie = browser.cookies.get(COOKIE)
    token = csrf_from(browser.get("/").text)
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 200
    (row,) = _rows(personas.store, personas["owner"].operator_id)
    assert row.revoked_at is not None
    with TestClient(app) as replay:
        replay.cookies.set(COOKIE, cookie)
        assert _signed_out(replay)
    assert _revokes(personas.store)[-1].detail["reason"] == "signed out"


def test_changing_the_password_revokes_the_other_sessions(app, personas):
    here = _signed_in(app, "admin", "here")
    there = _signed_in(app, "admin", "there")
    rows = _rows(personas.store, personas["admin"].operator_id)
    keep = next(r.id for r in rows if r.user_agent == "here")
    with personas.store.unit_of_work() as session:
        set_password(session, "admin", "a brand new password", keep_session=keep, source="web")
    after = {
        r.user_agent: r.revoked_at for r in _rows(personas.store, personas["admin"].operator_id)
    }
    assert after["here"] is None and after["there"] is not None
    assert _signed_out(there)
    assert _signed_out(here)  # its cookie carries the old password's fingerprint
    assert _revokes(personas.store)[-1].detail["reason"] == "password changed"


def test_turning_on_two_factor_revokes_the_sessions_begun_without_it(app, personas, settings):
    browser = _signed_in(app, "analyst", "A")
    secret = pyotp.random_base32()
    with personas.store.unit_of_work() as session:
        enable_2fa(session, settings, "analyst", secret, pyotp.TOTP(secret).now(), source="cli")
    assert _signed_out(browser)
    assert _revokes(personas.store)[-1].detail["reason"] == "two-factor enabled"


def test_a_session_idle_too_long_on_the_server_is_signed_out(app, personas):
    browser = _signed_in(app, "analyst", "A")
    with personas.store.unit_of_work() as session:
        session.execute(
            update(OperatorSession).values(
                last_seen_at=utcnow() - timedelta(seconds=IDLE_SECONDS + 60)
            )
        )
    assert _signed_out(browser)


def test_last_seen_is_written_once_a_minute_not_on_every_request(app, personas):
    browser = _signed_in(app, "analyst", "A")
    (row,) = _rows(personas.store, personas["analyst"].operator_id)
    browser.get("/")
    (again,) = _rows(personas.store, personas["analyst"].operator_id)
    assert again.last_seen_at == row.last_seen_at  # seconds ago: not written again
    earlier = utcnow() - timedelta(minutes=5)
    with personas.store.unit_of_work() as session:
        session.execute(update(OperatorSession).values(last_seen_at=earlier))
    browser.get("/")
    (touched,) = _rows(personas.store, personas["analyst"].operator_id)
    assert touched.last_seen_at > earlier + timedelta(minutes=4)


def test_owner_sees_and_revokes_the_sessions_of_their_communitys_operators(app, personas):
    analyst = _signed_in(app, "analyst", "Analyst Browser")
    analyst_two = _signed_in(app, "analyst", "Analyst Phone")
    owner = _signed_in(app, "owner", "Owner Browser")
    page = owner.get("/c/acme/operators")
    assert "Analyst Browser" in page.text and "testclient" not in page.text
    target = personas["analyst"].operator_id
    rows = _rows(personas.store, target)
    first = next(r.id for r in rows if r.user_agent == "Analyst Browser")
    answer = owner.post(
        f"/c/acme/operators/{target}/sessions/revoke",
        data={"csrf_token": csrf_from(page.text), "session": str(first)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert _signed_out(analyst) and not _signed_out(analyst_two)
    owner.post(
        f"/c/acme/operators/{target}/sessions/revoke",
        data={"csrf_token": csrf_from(page.text), "all": "true"},
    )
    assert _signed_out(analyst_two) and not _signed_out(owner)
    entries = _revokes(personas.store)[-2:]
    assert all(e.community_id == personas.communities["acme"] for e in entries)
    assert all(e.operator_id == personas["owner"].operator_id for e in entries)


def test_sessions_of_an_operator_of_another_community_are_out_of_reach(app, personas):
    outsider = _signed_in(app, "outsider", "Rival Browser")
    (theirs,) = _rows(personas.store, personas["outsider"].operator_id)
    foreign = personas["outsider"].operator_id
    analyst = personas["analyst"].operator_id
    for who in ("owner", "admin"):
        browser = _signed_in(app, who, who)
        token = csrf_from(browser.get("/sessions").text)
        data = {"csrf_token": token, "session": str(theirs.id)}
        assert "Rival Browser" not in browser.get("/c/acme/operators").text
        tries = [
            (f"/c/acme/operators/{foreign}/sessions/revoke", data),
            (f"/c/acme/operators/{foreign}/sessions/revoke", {"csrf_token": token, "all": "1"}),
            (f"/c/acme/operators/{analyst}/sessions/revoke", data),  # not the analyst's
            ("/sessions/revoke", data),  # not the caller's own
        ]
        for path, form in tries:
            if who == "admin" and path.endswith(f"{analyst}/sessions/revoke"):
                continue  # acme's analyst is acme's: the admin gets 403 (owners only), not 404
            answer = browser.post(path, data=form)
            assert answer.status_code == 404, f"{who}: {path} → {answer.status_code}"
        assert browser.post(
            f"/c/acme/operators/{analyst}/sessions/revoke", data=data
        ).status_code == (404 if who == "owner" else 403)
    assert not _signed_out(outsider)
    assert _rows(personas.store, foreign)[0].revoked_at is None


def test_revoke_form_needs_its_csrf_token(app, personas):
    analyst = _signed_in(app, "analyst", "A")
    (row,) = _rows(personas.store, personas["analyst"].operator_id)
    answer = analyst.post("/sessions/revoke", data={"session": str(row.id)})
    assert answer.status_code == 403
    assert not _signed_out(analyst)
