"""How the API knows who asks: bearer tokens, and session cookies with a CSRF header."""

from __future__ import annotations

from datetime import timedelta

from qunzhu_tests_http import log_in, message
from sqlalchemy import select

from qunzhu.auth.operators import create_token, revoke_token
from qunzhu.store.models import ApiToken, utcnow


def test_request_without_credentials_gets_401_json(client, personas):
    answer = client.get("/api/v1/communities")
    assert answer.status_code == 401
    assert answer.json() == {
        "error": {"code": "not_authenticated", "message": "authentication required"}
    }
    assert answer.headers["www-authenticate"] == "Bearer"


def test_wrong_token_is_refused(client, personas):
    forged = personas["owner"].token[:-4] + "AAAA"
    for header in (f"Bearer {forged}", "Bearer not-a-token", "Basic b3duZXI6cHc="):
        answer = client.get("/api/v1/me", headers={"Authorization": header})
        assert answer.status_code == 401, header


def test_revoked_token_is_refused(client, personas):
    store = personas.store
    with store.unit_of_work() as session:
        token_id = session.scalar(
            select(ApiToken.id).where(ApiToken.operator_id == personas["owner"].operator_id)
        )
        revoke_token(session, token_id, source="system")
    assert client.get("/api/v1/me", headers=personas["owner"].headers).status_code == 401


def test_expired_token_is_refused(client, personas):
    with personas.store.unit_of_work() as session:
        issued = create_token(
            session,
            "owner",
            "short-lived",
            expires_at=utcnow() - timedelta(seconds=1),
            source="system",
        )
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.token}"})
    assert answer.status_code == 401


def test_token_use_is_recorded(client, personas):
    client.get("/api/v1/me", headers=personas["analyst"].headers)
    with personas.store.reading() as session:
        used = session.scalar(
            select(ApiToken.last_used_at).where(
                ApiToken.operator_id == personas["analyst"].operator_id
            )
        )
    assert used is not None


def test_session_cookie_reads_the_api(client, personas):
    assert log_in(client, "analyst").status_code == 303
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["via"] == "session"


def test_api_post_with_session_cookie_needs_csrf_header(client, personas):
    log_in(client, "moderator")
    refused = client.post("/api/v1/events", json=[message(1)])
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    page = client.get("/")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    accepted = client.post("/api/v1/events", json=[message(1)], headers={"X-CSRF-Token": token})
    assert accepted.status_code == 200
    assert accepted.json()["added"] == 1


def test_bearer_token_needs_no_csrf(client, personas):
    answer = client.post("/api/v1/events", headers=personas["moderator"].headers, json=[message(1)])
    assert answer.status_code == 200


def test_deactivated_operator_is_refused(client, personas):
    from qunzhu.store.models import Operator

    with personas.store.unit_of_work() as session:
        session.get_one(Operator, personas["owner"].operator_id).active = False
    assert client.get("/api/v1/me", headers=personas["owner"].headers).status_code == 401
