"""Mounting the adapters' webhook routes on the app, and the fast lane that serves them.

The routes themselves are data declared by the adapters (:mod:`qunzhu.adapters.webhook`);
``create_app(webhooks=[...])`` mounts each one under ``/hooks/``. This module imports nothing
from FastAPI or Starlette at import time: the lane is plain ASGI.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

from qunzhu.adapters.webhook import (
    Handler,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    WebhookRoute,
)

log = logging.getLogger(__name__)


def _is_async(handler: Handler) -> bool:
    # a callable object counts by its __call__ method
    call_method = type(handler).__call__ if not inspect.isroutine(handler) else None
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call_method)


MAX_BODY = 4 * 1024 * 1024
"""Bytes a webhook body may have: far above any platform's update, far below harm."""


def mount_webhooks(app: FastAPI, routes: Sequence[WebhookRoute]) -> None:
    """Add each route to ``app``; two routes may not claim the same path and method.
    Routes without parameters (every connector's) are also served by :class:`WebhookLane`,
    which the app installs in front of its router."""
    taken: set[tuple[str, str]] = set()
    for route in routes:
        for method in route.methods:
            key = (route.full_path, method.upper())
            if key in taken:
                raise ValueError(f"two webhooks claim {method.upper()} {route.full_path}")
            taken.add(key)
        # a plain Starlette route: the handler reads the raw request, FastAPI has nothing to
        # validate, and the route stays out of the API's OpenAPI document
        app.router.add_route(
            route.full_path,
            _endpoint(route),
            methods=[m.upper() for m in route.methods],
            name=route.name or f"hook:{route.path}",
            include_in_schema=False,
        )
        # first in the routing table: a platform's post should not be matched against
        # every API and page route before its own (a third of a webhook's CPU under load)
        app.router.routes.insert(0, app.router.routes.pop())


class WebhookLane:
    """ASGI middleware: a post to a webhook path goes straight to its handler.

    At a platform's pace (hundreds of updates a second) the web framework's routing,
    dependency and exception layers, and a hop to a worker thread, cost a webhook more
    than its own work: this lane reads the body, calls the handler (on the event loop when
    its route says it only queues) and answers, with the same error body as the API
    (``{"error": {"code": "webhook_rejected", ...}}``). Everything else, and webhook
    routes with path parameters, goes on to the app."""

    def __init__(
        self,
        app: Any,
        routes: Sequence[WebhookRoute] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        # given when the lane stands in front of the whole app (see api.app.served), where
        # the app's own middleware does not add them
        self.headers = dict(headers or {})
        self.table = {
            (r.full_path, m.upper()): r for r in routes if "{" not in r.path for m in r.methods
        }

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        route = None
        if scope["type"] == "http" and self.table:
            route = self.table.get((scope["path"].rstrip("/"), scope["method"]))
        if route is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            await _answer(
                send, 413, _error("body_too_large", f"over {MAX_BODY} bytes"), headers=self.headers
            )
            return
        client = scope.get("client")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        call = WebhookRequest(
            method=scope["method"],
            path=scope["path"],
            headers=headers,
            query=_query(scope.get("query_string", b"")),
            body=body,
            client=client[0] if client else None,
        )
        try:
            answer = await _call(route, call)
        except WebhookRejected as exc:
            await _answer(
                send, exc.status, _error("webhook_rejected", exc.message), headers=self.headers
            )
            return
        except Exception:  # as the app's own handler would: logged, a plain 500
            log.exception("webhook %s failed", route.full_path)
            await _answer(
                send, 500, _error("internal_error", "the webhook failed"), headers=self.headers
            )
            return
        if not isinstance(answer, WebhookResponse):
            log.error("webhook %s returned %s", route.full_path, type(answer).__name__)
            await _answer(
                send, 500, _error("internal_error", "the webhook failed"), headers=self.headers
            )
            return
        payload, content_type = answer.encoded()
        await _answer(
            send, answer.status, payload, content_type, {**self.headers, **answer.headers}
        )


async def _call(route: WebhookRoute, call: WebhookRequest) -> Any:
    if _is_async(route.handler):
        return await route.handler(call)  # type: ignore[misc]
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(route.handler, call)


async def _read_body(receive: Any) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _query(raw: bytes) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


async def _answer(
    send: Any,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> None:
    raw = [(b"content-type", content_type.encode("latin-1"))]
    raw.append((b"content-length", str(len(body)).encode()))
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _endpoint(route: WebhookRoute) -> Callable[..., Awaitable[Any]]:
    # The framework is imported here and not at the top so adapters can import this module
    # for the dataclasses without pulling in the web stack.
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response

    from qunzhu.http.errors import ApiError

    async def endpoint(request: Request) -> Response:
        call = WebhookRequest(
            method=request.method,
            path=request.url.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            query=dict(request.query_params),
            body=await request.body(),
            params={k: str(v) for k, v in request.path_params.items()},
            client=request.client.host if request.client else None,
        )
        try:
            if _is_async(route.handler):
                answer = await route.handler(call)  # type: ignore[misc]
            else:
                answer = await run_in_threadpool(route.handler, call)
        except WebhookRejected as exc:
            raise ApiError(exc.status, "webhook_rejected", exc.message) from exc
        if not isinstance(answer, WebhookResponse):
            raise TypeError(f"webhook {route.full_path} returned {type(answer).__name__}")
        body, content_type = answer.encoded()
        return Response(
            body, status_code=answer.status, media_type=content_type, headers=dict(answer.headers)
        )

    return endpoint
