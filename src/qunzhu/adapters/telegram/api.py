"""The Bot API over httpx: one call, and the mapping of its errors onto what the executor
must do (``retry_after`` honoured, migration followed, kicked bot or missing rights
permanent for that chat, revoked token permanent for the connector)."""

from __future__ import annotations

from typing import Any

import httpx

from qunzhu.adapters.base import (
    ConnectorError,
    Migrated,
    PermanentError,
    RateLimited,
    Refused,
)

DEFAULT_BASE = "https://api.telegram.org"
_NO_RIGHTS = (
    "not enough rights",
    "chat_admin_required",
    "have no rights",
    "need administrator",
    "not an administrator",
    "can't remove chat owner",
    "can't restrict self",
)
_ALREADY_DONE = (
    "message to delete not found",
    "user_already_participant",
    "hide_requester_missing",
    "user is not a member",
)


class BotApi:
    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE,
        timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.client = client or httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.client.close()

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        url = f"{self.base_url}/bot{self.token}/{method}"
        chat = (params or {}).get("chat_id")
        try:
            response = self.client.post(url, json=params or {}, timeout=timeout or self.timeout)
        except httpx.TransportError as exc:  # refused, reset, timed out: worth another try
            raise ConnectorError(f"{method}: {type(exc).__name__}: {exc}") from exc
        try:
            data = response.json()
        except ValueError:
            data = {"ok": False, "description": response.text[:200]}
        if response.status_code == 200 and data.get("ok"):
            return data.get("result")
        code = int(data.get("error_code") or response.status_code)
        text = str(data.get("description") or f"HTTP {response.status_code}")
        extra = data.get("parameters") or {}
        low = text.lower()
        if "migrate_to_chat_id" in extra and chat is not None:
            raise Migrated(str(chat), str(extra["migrate_to_chat_id"]))
        if code == 429:
            raise RateLimited(f"{method}: {text}", float(extra.get("retry_after") or 1))
        if code >= 500:
            raise ConnectorError(f"{method}: {code} {text}")
        if code == 401 or (code == 404 and low == "not found"):
            raise PermanentError(f"the bot token was refused ({code} {text})", scope="connector")
        if code == 403:
            raise PermanentError(f"{text} (bot removed or blocked)")
        if any(m in low for m in _NO_RIGHTS):
            raise PermanentError(f"{text} (the bot lacks admin rights)")
        if any(m in low for m in _ALREADY_DONE):
            return {"already": text}
        raise Refused(f"{method}: {code} {text}")
