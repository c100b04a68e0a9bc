"""The app factory: health, OpenAPI, one error format, security headers, webhooks."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from qunzhu_tests_http import message

from qunzhu.adapters.webhook import WebhookRejected, WebhookRequest, WebhookResponse, WebhookRoute
from qunzhu.http.app import create_app
from qunzhu.pipeline import Pipeline
from qunzhu.settings import load_settings
from qunzhu.store import Store


def test_healthz_ok_when_schema_is_at_head(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["schema_revision"] == body["schema_head"]


def test_healthz_503_when_schema_is_behind(tmp_path):
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", secret_key="t" * 40)
    store = Store(settings)
    try:
        with TestClient(create_app(settings, store)) as c:
            answer = c.get("/healthz")
    finally:
        store.dispose()
    assert answer.status_code == 503
    assert answer.json()["detail"] == {"fix": "run `qunzhu db upgrade`"}


def _v1_operations(client) -> list[tuple[str, str]]:
    spec = client.get("/api/v1/openapi.json").json()
    return [(method.upper(), path) for path, item in spec["paths"].items() for method in item]


def test_openapi_lists_the_v1_routes(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert {
        "/api/v1/me",
        "/api/v1/communities",
        "/api/v1/communities/{slug}",
        "/api/v1/events",
    } <= set(spec["paths"])
    assert "token" in spec["components"]["securitySchemes"]


def test_every_v1_route_refuses_a_caller_without_credentials(client):
    """Security by construction: no route under /api/v1 answers an anonymous caller, except
    webhooks, which prove themselves by signature instead (and refuse a missing one)."""
    operations = _v1_operations(client)
    assert len(operations) >= 6
    for method, route in operations:
        path = re.sub(r"\{[^}]+\}", "1", route)
        answer = client.request(method, path)
        if "webhook" in route or "/hooks/" in route:
            assert answer.status_code in (400, 401, 403, 404), (method, route)
        else:
            assert answer.status_code == 401, (method, route, answer.status_code)


def test_api_reference_page_needs_no_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "/api/v1/events" in page.text
    assert "cdn" not in page.text.lower()


def test_unknown_api_path_answers_json_and_unknown_page_answers_html(client):
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"
    page = client.get("/nothing-here")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")


def test_every_response_carries_security_headers(client):
    for path in ("/login", "/api/v1/me", "/healthz"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_static_css_is_served(client):
    answer = client.get("/static/qunzhu.css")
    assert answer.status_code == 200
    assert "@media" in answer.text


def _echo(request: WebhookRequest) -> WebhookResponse:
    if request.headers.get("x-secret") != "s3cret":
        raise WebhookRejected(401, "bad secret")
    return WebhookResponse(body={"bot": request.params["bot"], "got": request.json()})


async def _async_ok(request: WebhookRequest) -> WebhookResponse:
    return WebhookResponse(status=204)


def test_webhooks_declared_as_data_are_mounted_under_hooks(app_factory):
    app = app_factory(
        webhooks=[
            WebhookRoute("telegram/{bot}", _echo),
            WebhookRoute("ping", _async_ok, methods=("GET", "POST")),
        ]
    )
    with TestClient(app) as c:
        ok = c.post("/hooks/telegram/b1", json={"update_id": 1}, headers={"X-Secret": "s3cret"})
        refused = c.post("/hooks/telegram/b1", json={})
        pinged = c.get("/hooks/ping")
    assert ok.status_code == 200
    assert ok.json() == {"bot": "b1", "got": {"update_id": 1}}
    assert refused.status_code == 401
    assert refused.json()["error"] == {"code": "webhook_rejected", "message": "bad secret"}
    assert pinged.status_code == 204


def test_two_webhooks_on_one_path_are_refused(app_factory):
    with pytest.raises(ValueError, match="/hooks/x"):
        app_factory(webhooks=[WebhookRoute("x", _echo), WebhookRoute("/x/", _async_ok)])


def test_events_go_through_the_pipeline_the_app_was_given(app_factory, personas):
    made: list[Pipeline] = []

    def pipeline(store: Store) -> Pipeline:
        made.append(Pipeline(store))
        return made[-1]

    with TestClient(app_factory(pipeline=pipeline)) as c:
        answer = c.post("/api/v1/events", headers=personas["owner"].headers, json=[message(1)])
    assert answer.json()["added"] == 1
    assert len(made) == 1
