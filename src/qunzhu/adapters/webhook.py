"""Webhook routes declared as data, so adapters never import the web framework.

An adapter (Telegram, OneBot, WeCom …) describes its endpoint with a :class:`WebhookRoute`
whose handler takes a plain :class:`WebhookRequest` and returns a :class:`WebhookResponse`;
``qunzhu.http`` mounts each one under ``/hooks/`` (:func:`qunzhu.http.webhooks.mount_webhooks`).
The handler checks its own platform's proof (secret token header, HMAC signature,
msg_signature): webhook calls carry no session or API token, and no CSRF check applies.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


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
    """``path`` is relative to ``/hooks/`` and may hold ``{name}`` parameters. A
    synchronous handler runs on a worker thread, an async one on the event loop."""

    path: str
    handler: Handler
    methods: tuple[str, ...] = ("POST",)
    name: str | None = None

    @property
    def full_path(self) -> str:
        return "/hooks/" + self.path.strip("/")
