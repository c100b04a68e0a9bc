"""Webhook routes declared as data, so adapters never import the web framework.

An adapter (Telegram, OneBot, WeCom …) describes its endpoint with a :class:`WebhookRoute`
whose handler takes a plain :class:`WebhookRequest` and returns a :class:`WebhookResponse`;
``create_app(webhooks=[...])`` mounts each one under ``/hooks/``. The handler checks its own
platform's proof (secret token header, HMAC signature, msg_signature): webhook calls carry no
session or API token, and no CSRF check applies to them.

This module imports nothing from FastAPI or Starlette at import time.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    method: str
    path: str
    headers: Mapping[str, str]  # names in lowercase
    query: Mapping[str, str]
    body: bytes
    params: Mapping[str, str] = field(default_factory=dict)  # from ``{name}`` in the path
    client: str | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    status: int = 200
    body: bytes | str | Mapping[str, Any] | list[Any] = b""
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain; charset=utf-8"
        return (
            json.dumps(self.body, ensure_ascii=False).encode(),
            self.content_type or "application/json",
        )


class WebhookRejected(Exception):
    """Raised by a handler to refuse a call (bad signature, unknown bot) with a status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


Handler = Callable[[WebhookRequest], WebhookResponse | Awaitable[WebhookResponse]]


@dataclass(frozen=True, slots=True)
class WebhookRoute:
    """``path`` is relative to ``/hooks/`` and may hold ``{name}`` parameters."""

    path: str
    handler: Handler
    methods: tuple[str, ...] = ("POST",)
    name: str | None = None

    @property
    def full_path(self) -> str:
        return "/hooks/" + self.path.strip("/")


def _is_async(handler: Handler) -> bool:
    # a callable object counts by its __call__ method
    call_method = type(handler).__call__ if not inspect.isroutine(handler) else None
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(call_method)


def mount_webhooks(app: FastAPI, routes: Sequence[WebhookRoute]) -> None:
    """Add each route to ``app``; two routes may not claim the same path and method."""
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


def _endpoint(route: WebhookRoute) -> Callable[..., Awaitable[Any]]:
    # The framework is imported here and not at the top so adapters can import this module
    # for the dataclasses without pulling in the web stack.
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import Response

    from qunzhu.api.errors import ApiError

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
