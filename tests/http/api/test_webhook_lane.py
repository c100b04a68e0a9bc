"""The webhook lane: a platform's post reaches its handler without the app's routing, and
answers exactly as the app would (errors, security headers), sync and async handlers alike."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from qunzhu.http.webhooks import (
    MAX_BODY,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    WebhookRoute,
)

seen: list[tuple[str, str]] = []


def _sync(request: WebhookRequest) -> WebhookResponse:
    if request.headers.get("x-secret") != "s3cret":
        raise WebhookRejected(403, "bad signature")
    seen.append(("sync", threading.current_thread().name))
    return WebhookResponse(body={"got": request.json(), "q": dict(request.query)})


async def _async(request: WebhookRequest) -> WebhookResponse:
    seen.append(("async", threading.current_thread().name))
    return WebhookResponse(status=204)


def _broken(request: WebhookRequest) -> WebhookResponse:
    raise KeyError("a bug in a handler")


def _app(app_factory):
    return app_factory(
        webhooks=[
            WebhookRoute("plain", _sync),
            WebhookRoute("quick", _async, methods=("GET", "POST")),
            WebhookRoute("broken", _broken),
        ]
    )


def test_sync_handlers_run_on_a_thread_and_async_ones_on_the_loop(app_factory):
    seen.clear()
    with TestClient(_app(app_factory)) as c:
        ok = c.post("/hooks/plain?a=1", json={"update_id": 7}, headers={"X-Secret": "s3cret"})
        quick = c.post("/hooks/quick/")  # a trailing slash finds it too
    assert ok.status_code == 200 and ok.json() == {"got": {"update_id": 7}, "q": {"a": "1"}}
    assert quick.status_code == 204
    (kind1, thread1), (kind2, thread2) = seen
    assert (kind1, kind2) == ("sync", "async") and thread1 != thread2


def test_a_refusal_has_the_apis_error_body_and_the_security_headers(app_factory):
    with TestClient(_app(app_factory)) as c:
        refused = c.post("/hooks/plain", json={})
    assert refused.status_code == 403
    assert refused.json() == {"error": {"code": "webhook_rejected", "message": "bad signature"}}
    assert refused.headers["x-content-type-options"] == "nosniff"


def test_a_body_over_the_limit_is_refused_before_the_handler(app_factory):
    seen.clear()
    with TestClient(_app(app_factory)) as c:
        big = c.post("/hooks/plain", content=b"x" * (MAX_BODY + 1), headers={"X-Secret": "s3cret"})
    assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"
    assert seen == []


def test_a_failing_handler_answers_500_without_its_details(app_factory):
    with TestClient(_app(app_factory), raise_server_exceptions=False) as c:
        answer = c.post("/hooks/broken", json={})
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert "KeyError" not in answer.text


def test_other_methods_and_paths_go_on_to_the_app(app_factory):
    with TestClient(_app(app_factory)) as c:
        wrong_method = c.get("/hooks/plain")
        unknown = c.post("/hooks/nothing")
    assert wrong_method.status_code == 405
    assert unknown.status_code == 404


def test_in_front_of_the_app_the_lane_adds_the_security_headers_itself(app_factory):
    from qunzhu.http.app import served

    app = _app(app_factory)
    with TestClient(served(app)) as c:
        ok = c.post("/hooks/plain", json={"update_id": 1}, headers={"X-Secret": "s3cret"})
        refused = c.post("/hooks/plain", json={})
        page = c.get("/healthz")  # everything else is the app's
    assert ok.status_code == 200 and refused.status_code == 403
    for answer in (ok, refused, page):
        assert answer.headers["x-frame-options"] == "DENY"
    assert page.json()["status"] == "ok"
