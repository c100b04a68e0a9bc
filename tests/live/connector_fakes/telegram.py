"""A fake Telegram Bot API: answers ``/bot<token>/<method>`` as the Bot API documents
(``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description",
"parameters"}``), records every call, serves ``getUpdates`` by offset, and misbehaves on
request: queued failures (429 with retry_after, 5xx, 403 kicked, 400 migrated), a delay,
or a dropped connection in the middle of a getUpdates answer."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT = {"id": 900000001, "is_bot": True, "first_name": "qunzhu bot", "username": "qunzhu_bot"}


class DropConnection(Exception):
    pass


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-token") -> None:
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        self.updates: list[dict[str, Any]] = []
        self.drop_polls = 0
        self.delay = 0.0
        self.confirmed = 0  # highest offset a getUpdates call confirmed
        # with enforce_limits, sendMessage answers 429 as Telegram does beyond 30 messages a
        # second in all, one a second or 20 a minute in one chat (the Bot API FAQ's figures)
        self.enforce_limits = False
        self.limited = 0
        self.delivered: dict[Any, int] = {}  # with enforce_limits: accepted sendMessage per chat
        self._sent_at: list[float] = []
        self._chat_sent: dict[Any, list[float]] = {}
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[Route("/bot{token}/{method}", self.endpoint, methods=["POST", "GET"])]
        )

    def fail(self, method: str, status: int, description: str, **parameters: Any) -> None:
        self.failures.setdefault(method, []).append((status, description, parameters))

    def called(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p for m, p in self.calls if m == method]

    def push(self, *updates: dict[str, Any]) -> None:
        with self._lock:
            self.updates.extend(updates)

    async def endpoint(self, request: Request) -> Any:
        if request.path_params["token"] != self.token:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        method = request.path_params["method"]
        params = await request.json() if await request.body() else {}
        with self._lock:
            self.calls.append((method, params))
            queued = self.failures.get(method)
            failure = queued.pop(0) if queued else None
        if self.delay:
            await asyncio.sleep(self.delay)
        if failure is None and self.enforce_limits and method == "sendMessage":
            failure = self._over_limit(params.get("chat_id"))
        if failure is not None:
            status, description, parameters = failure
            body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
            if parameters:
                body["parameters"] = parameters
            return JSONResponse(body, status_code=status)
        if method == "getUpdates":
            return await self._get_updates(params)
        return JSONResponse({"ok": True, "result": self._result(method, params)})

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        with self._lock:
            self.confirmed = max(self.confirmed, offset)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        while True:
            with self._lock:
                ready = [u for u in self.updates if u["update_id"] >= offset][:100]
                drop = bool(ready) and self.drop_polls > 0
                if drop:
                    self.drop_polls -= 1
            if drop:
                return _Dropping(ready)
            if ready or time.monotonic() >= deadline:
                return JSONResponse({"ok": True, "result": ready})
            await asyncio.sleep(0.02)

    def _over_limit(self, chat: Any) -> tuple[int, str, dict[str, Any]] | None:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._sent_at if t > now - 1.0]
            mine = [t for t in self._chat_sent.get(chat, []) if t > now - 60.0]
            wait = 0.0
            if len(recent) >= 30:
                wait = recent[-30] + 1.0 - now
            if mine and mine[-1] > now - 1.0:
                wait = max(wait, mine[-1] + 1.0 - now)
            if len(mine) >= 20:
                wait = max(wait, mine[-20] + 60.0 - now)
            if wait > 0:
                self.limited += 1
                retry = max(1, int(wait + 0.999))
                return 429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
            self._sent_at = [*recent, now]
            self._chat_sent[chat] = [*mine, now]
            self.delivered[chat] = self.delivered.get(chat, 0) + 1
        return None

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "sendMessage":
            return {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": params.get("chat_id"), "type": "supergroup"},
                "from": BOT,
                "text": params.get("text", ""),
            }
        if method == "createChatInviteLink":
            n = next(self._ids)
            return {
                "invite_link": f"https://t.me/+FAKE{n}",
                "creator": BOT,
                "creates_join_request": bool(params.get("creates_join_request")),
                "is_primary": False,
                "is_revoked": False,
                "name": params.get("name"),
                "member_limit": params.get("member_limit"),
            }
        if method == "getMe":
            return BOT
        return True


class _Dropping:
    """An ASGI response that starts a 200, sends half the body, and drops the socket."""

    def __init__(self, updates: list[dict[str, Any]]) -> None:
        import json

        self.body = json.dumps({"ok": True, "result": updates}).encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(self.body)).encode()),
                ],
            }
        )
        await send(
            {
                "type": "http.response.body",
                "body": self.body[: len(self.body) // 2],
                "more_body": True,
            }
        )
        raise DropConnection("dropped by the fake")


# -- updates shaped as https://core.telegram.org/bots/api documents them --------------------


def user(uid: int, first: str = "User") -> dict[str, Any]:
    return {"id": uid, "is_bot": False, "first_name": f"{first}{uid}"}


def group_chat(chat_id: int = -1001234567890) -> dict[str, Any]:
    return {"id": chat_id, "title": "读书会", "type": "supergroup"}


def message_update(
    update_id: int,
    message_id: int,
    uid: int,
    text: str,
    *,
    date: int,
    chat_id: int = -1001234567890,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": user(uid),
            "chat": group_chat(chat_id),
            "date": date,
            "text": text,
            **extra,
        },
    }


def chat_member_update(
    update_id: int,
    uid: int,
    old: str,
    new: str,
    *,
    date: int,
    actor: int | None = None,
    chat_id: int = -1001234567890,
    invite_link: dict[str, Any] | None = None,
    via_join_request: bool = False,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "chat": group_chat(chat_id),
        "from": user(actor or uid),
        "date": date,
        "old_chat_member": {"status": old, "user": user(uid)},
        "new_chat_member": {"status": new, "user": user(uid)},
    }
    if new == "kicked":
        body["new_chat_member"]["until_date"] = 0
    for side, status in (("old_chat_member", old), ("new_chat_member", new)):
        if status == "restricted":  # a muted member: still in the chat
            body[side].update(is_member=True, can_send_messages=False, until_date=0)
    if invite_link is not None:
        body["invite_link"] = invite_link
    if via_join_request:
        body["via_join_request"] = True
    return {"update_id": update_id, "chat_member": body}


def join_request_update(
    update_id: int, uid: int, *, date: int, chat_id: int = -1001234567890
) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "chat_join_request": {
            "chat": group_chat(chat_id),
            "from": user(uid),
            "user_chat_id": uid,
            "date": date,
            "bio": "想一起读书",
        },
    }


def my_chat_member_update(
    update_id: int, new: str, *, date: int, actor: int, chat_id: int = -1001234567890
) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": group_chat(chat_id),
            "from": user(actor),
            "date": date,
            "old_chat_member": {"status": "administrator", "user": BOT},
            "new_chat_member": {"status": new, "user": BOT},
        },
    }
