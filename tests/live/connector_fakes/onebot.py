"""A fake OneBot v11 implementation (as go-cqhttp / NapCat behave): an HTTP API server
answering ``POST /<action>`` with ``{"status", "retcode", "data"}``, an HTTP POST reporter
signing events with ``X-Signature: sha1=<HMAC-SHA1>``, and a reverse WebSocket client that
connects to the bot server, reports events, answers API calls by ``echo``, reconnects when
its socket drops and then reports again what it sent (at-least-once, as real ones do)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import threading
import time
from typing import Any

import httpx
import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SELF_ID = 10001


def ok(data: Any = None) -> dict[str, Any]:
    return {"status": "ok", "retcode": 0, "data": data, "message": "", "wording": ""}


class FakeOneBotApi:
    """Records API calls from either transport; ``failures`` are answered first."""

    def __init__(self, token: str = "onebot-token") -> None:
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.members: dict[int, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._ids = iter(range(50_000, 10**9))
        self.app = Starlette(routes=[Route("/{action}", self.endpoint, methods=["POST"])])

    def fail(self, action: str, status: int, body: dict[str, Any]) -> None:
        self.failures.setdefault(action, []).append((status, body))

    def called(self, action: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p for a, p in self.calls if a == action]

    def answer(self, action: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append((action, params))
            queued = self.failures.get(action)
            if queued:
                return queued.pop(0)
        if action == "send_group_msg":
            return 200, ok({"message_id": next(self._ids)})
        if action == "get_group_member_list":
            return 200, ok(self.members.get(int(params["group_id"]), []))
        return 200, ok(None)

    async def endpoint(self, request: Request) -> Any:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"status": "failed", "retcode": 1403}, status_code=403)
        status, body = self.answer(request.path_params["action"], await request.json())
        return JSONResponse(body, status_code=status)


def signed_post(url: str, event: dict[str, Any], secret: str) -> httpx.Response:
    body = json.dumps(event, ensure_ascii=False).encode()
    sig = "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return httpx.post(
        url,
        content=body,
        timeout=30,
        headers={"Content-Type": "application/json", "X-Self-ID": str(SELF_ID), "X-Signature": sig},
    )


class FakeOneBotWs:
    """The reverse WebSocket client of a OneBot implementation, in its own thread."""

    def __init__(self, url: str, token: str, api: FakeOneBotApi) -> None:
        self.url = url
        self.token = token
        self.api = api
        self.sent: list[dict[str, Any]] = []
        self.connections = 0
        self.refused = 0
        self.loop = asyncio.new_event_loop()
        self.ws: Any = None
        self._stop = False
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FakeOneBotWs:
        self.thread.start()
        self.main = asyncio.run_coroutine_threadsafe(self._main(), self.loop)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop = True
        if self.ws is not None:
            asyncio.run_coroutine_threadsafe(self.ws.close(), self.loop).result(5)
        self.main.cancel()
        time.sleep(0.05)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def wait_connected(self, connections: int = 1, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.connections < connections or self.ws is None:
            if time.monotonic() > deadline:
                raise AssertionError("the fake OneBot did not connect")
            time.sleep(0.02)

    subprotocols: tuple[str, ...] | None = None  # OneBot 12 offers `12.<impl>`

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "X-Self-ID": str(SELF_ID),
            "X-Client-Role": "Universal",
        }

    async def _main(self) -> None:
        headers = self.headers()
        while not self._stop:
            try:
                async with websockets.connect(
                    self.url,
                    additional_headers=headers,
                    subprotocols=self.subprotocols,  # type: ignore[arg-type]
                ) as ws:
                    self.ws = ws
                    self.connections += 1
                    for event in list(self.sent):  # at-least-once: report again after a drop
                        await ws.send(json.dumps(event))
                    async for raw in ws:
                        call = json.loads(raw)
                        _status, body = self.api.answer(call["action"], call.get("params", {}))
                        await ws.send(json.dumps({**body, "echo": call.get("echo")}))
            except websockets.InvalidStatus:
                self.refused += 1
            except (OSError, websockets.ConnectionClosed):
                pass
            self.ws = None
            await asyncio.sleep(0.05)

    def report(self, event: dict[str, Any]) -> None:
        self.sent.append(event)

        async def send() -> None:
            # a send on a dropped socket is lost: the event is reported again on reconnect
            if self.ws is not None:
                with contextlib.suppress(websockets.ConnectionClosed):
                    await self.ws.send(json.dumps(event))

        asyncio.run_coroutine_threadsafe(send(), self.loop).result(5)

    def drop(self) -> None:
        """Kill the TCP connection without a closing handshake."""

        def abort() -> None:
            if self.ws is not None:
                self.ws.transport.abort()

        self.loop.call_soon_threadsafe(abort)


class FakeOneBotWsServer:
    """The forward WebSocket server of a OneBot implementation (``ws://host:port/``), in its
    own thread: checks the access token (401 without one, 403 for a wrong one, as go-cqhttp
    answers), reports events to every connected client, answers API calls by ``echo``, and
    on each new connection reports again what it reported before (at-least-once)."""

    def __init__(self, token: str, api: FakeOneBotApi) -> None:
        self.token = token
        self.api = api
        self.sent: list[dict[str, Any]] = []
        self.connections = 0
        self.refused = 0
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.clients: set[Any] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def __enter__(self) -> FakeOneBotWsServer:
        from websockets.asyncio.server import serve

        self.thread.start()

        async def start() -> Any:
            return await serve(self._client, "127.0.0.1", 0, process_request=self._check_token)

        self.server = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        self.port = next(iter(self.server.sockets)).getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def _check_token(self, connection: Any, request: Any) -> Any:
        from http import HTTPStatus

        auth = request.headers.get("Authorization", "")
        given = auth.split(" ", 1)[1] if " " in auth else ""
        if not given:
            self.refused += 1
            return connection.respond(HTTPStatus.UNAUTHORIZED, "access token missing\n")
        if given != self.token:
            self.refused += 1
            return connection.respond(HTTPStatus.FORBIDDEN, "access token wrong\n")
        return None

    async def _client(self, ws: Any) -> None:
        self.connections += 1
        self.clients.add(ws)
        try:
            for event in list(self.sent):
                await ws.send(json.dumps(event))
            async for raw in ws:
                call = json.loads(raw)
                _status, body = self.api.answer(call["action"], call.get("params", {}))
                await ws.send(json.dumps({**body, "echo": call.get("echo")}))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.clients.discard(ws)

    def wait_connected(self, connections: int = 1, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.connections < connections or not self.clients:
            if time.monotonic() > deadline:
                raise AssertionError("qunzhu did not connect to the fake OneBot server")
            time.sleep(0.02)

    def report(self, event: dict[str, Any]) -> None:
        self.sent.append(event)

        async def send() -> None:
            for ws in list(self.clients):
                with contextlib.suppress(websockets.ConnectionClosed):
                    await ws.send(json.dumps(event))

        asyncio.run_coroutine_threadsafe(send(), self.loop).result(5)

    def drop(self) -> None:
        """Kill every client's TCP connection without a closing handshake."""

        def abort() -> None:
            for ws in list(self.clients):
                ws.transport.abort()

        self.loop.call_soon_threadsafe(abort)


# -- events shaped as the OneBot v11 spec documents them ------------------------------------

GROUP = 765432


def group_message(
    message_id: int, user: int, text: str, *, at: int, group: int = GROUP
) -> dict[str, Any]:
    return {
        "time": at,
        "self_id": SELF_ID,
        "post_type": "message",
        "message_type": "group",
        "sub_type": "normal",
        "message_id": message_id,
        "group_id": group,
        "user_id": user,
        "anonymous": None,
        "message": text,
        "raw_message": text,
        "font": 0,
        "sender": {"user_id": user, "nickname": f"Q{user}", "card": "", "role": "member"},
    }


def group_increase(
    user: int, *, at: int, operator: int = 0, sub: str = "approve", group: int = GROUP
) -> dict[str, Any]:
    return {
        "time": at,
        "self_id": SELF_ID,
        "post_type": "notice",
        "notice_type": "group_increase",
        "sub_type": sub,
        "group_id": group,
        "operator_id": operator,
        "user_id": user,
    }


def group_decrease(
    user: int, *, at: int, operator: int, sub: str = "leave", group: int = GROUP
) -> dict[str, Any]:
    return {
        "time": at,
        "self_id": SELF_ID,
        "post_type": "notice",
        "notice_type": "group_decrease",
        "sub_type": sub,
        "group_id": group,
        "operator_id": operator,
        "user_id": user,
    }


def group_ban(
    user: int, *, at: int, operator: int, duration: int, group: int = GROUP
) -> dict[str, Any]:
    return {
        "time": at,
        "self_id": SELF_ID,
        "post_type": "notice",
        "notice_type": "group_ban",
        "sub_type": "ban" if duration else "lift_ban",
        "group_id": group,
        "operator_id": operator,
        "user_id": user,
        "duration": duration,
    }


def add_request(user: int, flag: str, *, at: int, group: int = GROUP) -> dict[str, Any]:
    return {
        "time": at,
        "self_id": SELF_ID,
        "post_type": "request",
        "request_type": "group",
        "sub_type": "add",
        "group_id": group,
        "user_id": user,
        "comment": "我想加入读书会",
        "flag": flag,
    }
