"""A fake Discord: the REST routes the connector calls and the gateway (WebSocket) it holds,
in one Starlette app served on 127.0.0.1.

Gateway as Discord's documentation describes it (Gateway → Connections, Opcodes): HELLO
(op 10) with the heartbeat interval, HEARTBEAT (op 1) answered by HEARTBEAT_ACK (op 11),
IDENTIFY (op 2) answered by the READY dispatch and one GUILD_CREATE per guild, RESUME
(op 6) answered by a replay of every dispatch after the client's sequence and RESUMED,
INVALID_SESSION (op 9) for a session it does not know. ``drop()`` closes the socket with
4000 (unknown error: the client resumes). Dispatches are sent as text frames (the
``compress`` query asks for zlib, which a gateway may leave unused per message).

REST (Discord API v10): /users/@me, /gateway/bot, channel read, message create/delete, member edit
(timeout), kick, ban, unban, invite create and list. A wrong token gets 401.

Payload shapes from Discord's developer documentation (Message, Guild, Channel, Invite,
Guild Member objects); the content is this project's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

BOT = {
    "id": "900000000000000001",
    "username": "qunzhu",
    "discriminator": "0",
    "global_name": "qunzhu",
    "avatar": None,
    "bot": True,
    "flags": 0,
}
GUILD = "700000000000000001"
GENERAL = "710000000000000001"  # the system channel: joins are greeted here
HELP = "710000000000000002"


def user(uid: str, name: str) -> dict[str, Any]:
    return {"id": uid, "username": name, "discriminator": "0", "global_name": name, "avatar": None}


def _channel(cid: str, name: str, position: int) -> dict[str, Any]:
    return {
        "id": cid,
        "type": 0,
        "guild_id": GUILD,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def guild_payload() -> dict[str, Any]:
    return {
        "id": GUILD,
        "name": "读书会 Discord",
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": "800000000000000001",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": [
            {
                "id": GUILD,
                "name": "@everyone",
                "color": 0,
                "hoist": False,
                "position": 0,
                "permissions": "1071698660929",
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": GENERAL,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "zh-CN",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "joined_at": "2026-01-01T00:00:00.000000+00:00",
        "large": False,
        "unavailable": False,
        "member_count": 3,
        "voice_states": [],
        "members": [],
        "channels": [_channel(GENERAL, "general", 0), _channel(HELP, "help", 1)],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


class FakeDiscord:
    def __init__(self, token: str = "fake-bot-token") -> None:
        self.token = token
        self.calls: list[tuple[str, str, Any]] = []  # (method, path, body)
        self.called_at: list[float] = []  # when each call arrived (monotonic), as ``calls``
        self.dispatched: list[dict[str, Any]] = []  # every dispatch of the session, in order
        self.invites: dict[str, dict[str, Any]] = {}
        self.identified = 0
        self.resumed = 0
        self.url = ""
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._sessions = itertools.count(1)
        self._session = ""
        self._socket: WebSocket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = threading.Event()
        self._lock = threading.Lock()
        api = "/api/v10"
        self.app = Starlette(
            routes=[
                Route(f"{api}/users/@me", self._me),
                Route(f"{api}/oauth2/applications/@me", self._application),
                Route(f"{api}/gateway/bot", self._gateway_url),
                Route(f"{api}/channels/{{c}}", self._channel),
                Route(f"{api}/channels/{{c}}/messages", self._send, methods=["POST"]),
                Route(f"{api}/channels/{{c}}/messages/{{m}}", self._delete, methods=["DELETE"]),
                Route(f"{api}/channels/{{c}}/invites", self._invite, methods=["POST"]),
                Route(f"{api}/guilds/{{g}}/invites", self._invites),
                Route(
                    f"{api}/guilds/{{g}}/members/{{u}}", self._member, methods=["PATCH", "DELETE"]
                ),
                Route(f"{api}/guilds/{{g}}/bans/{{u}}", self._ban, methods=["PUT", "DELETE"]),
                WebSocketRoute("/gateway", self._gateway),
            ]
        )

    @property
    def api_base(self) -> str:
        return f"{self.url}/api/v10"

    @property
    def gateway(self) -> str:
        return self.url.replace("http://", "ws://") + "/gateway"

    # -- what a test does ---------------------------------------------------------------
    def wait_connected(self, times: int = 1, timeout: float = 20.0) -> None:
        """Until the bot has identified or resumed ``times`` times and holds the socket."""
        pause = threading.Event()
        for _ in range(int(timeout / 0.02)):
            if self.identified + self.resumed >= times and self._connected.is_set():
                return
            pause.wait(0.02)
        raise AssertionError(f"the bot did not connect {times} time(s)")

    def called(self, method: str, prefix: str) -> list[tuple[str, Any]]:
        with self._lock:
            return [(p, b) for m, p, b in self.calls if m == method and p.startswith(prefix)]

    def dispatch(self, name: str, data: dict[str, Any]) -> None:
        """Send a dispatch (or keep it for the replay when no socket is open); from a
        test's thread, never from the server's loop."""
        payload = self._numbered(name, data)
        with self._lock:
            socket, loop = self._socket, self._loop
        if socket is not None and loop is not None:
            asyncio.run_coroutine_threadsafe(_send_quietly(socket, payload), loop).result(10)

    def _numbered(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            payload = {"op": 0, "t": name, "s": len(self.dispatched) + 1, "d": data}
            self.dispatched.append(payload)
        return payload

    def message(
        self, mid: int, author: dict[str, Any], text: str, channel: str = GENERAL, **extra: Any
    ) -> None:
        stamp = datetime.now(UTC).isoformat()
        self.dispatch(
            "MESSAGE_CREATE",
            {
                "id": str(mid),
                "channel_id": channel,
                "guild_id": GUILD,
                "author": author,
                "member": {"roles": [], "joined_at": stamp, "deaf": False, "mute": False},
                "content": text,
                "timestamp": stamp,
                "edited_timestamp": None,
                "tts": False,
                "mention_everyone": False,
                "mentions": [],
                "mention_roles": [],
                "attachments": [],
                "embeds": [],
                "pinned": False,
                "type": 0,
                "flags": 0,
                **extra,
            },
        )

    def join(self, who: dict[str, Any], code: str | None = None) -> None:
        """``who`` joins the guild, through the invite ``code`` if given."""
        if code is not None:
            with self._lock:
                self.invites[code]["uses"] += 1
        self.dispatch(
            "GUILD_MEMBER_ADD",
            {
                "guild_id": GUILD,
                "user": who,
                "roles": [],
                "joined_at": datetime.now(UTC).isoformat(),
                "deaf": False,
                "mute": False,
                "flags": 0,
            },
        )

    def drop(self) -> None:
        """Close the gateway socket with 4000: the client resumes the session."""
        with self._lock:
            socket, loop = self._socket, self._loop
            self._socket = None
            self._connected.clear()
        if socket is not None and loop is not None:
            asyncio.run_coroutine_threadsafe(socket.close(code=4000), loop).result(10)

    # -- REST -----------------------------------------------------------------------------
    def _authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bot {self.token}"

    async def _record(self, request: Request) -> Any:
        body = await request.body()
        data = (await request.json()) if body else None
        with self._lock:
            self.calls.append((request.method, request.url.path.removeprefix("/api/v10"), data))
            self.called_at.append(time.monotonic())
        return data

    async def _me(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"message": "401: Unauthorized", "code": 0}, status_code=401)
        return JSONResponse(BOT)

    async def _application(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"message": "401: Unauthorized", "code": 0}, status_code=401)
        return JSONResponse(
            {
                "id": BOT["id"],
                "name": "qunzhu",
                "icon": None,
                "description": "",
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": user("800000000000000001", "owner"),
                "verify_key": "0" * 64,
                "team": None,
                "flags": 0,
                "summary": "",
            }
        )

    async def _gateway_url(self, request: Request) -> Response:
        ws = self.url.replace("http://", "ws://") + "/gateway"
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return JSONResponse({"url": ws, "shards": 1, "session_start_limit": limit})

    async def _channel(self, request: Request) -> Response:
        await self._record(request)
        found = [c for c in guild_payload()["channels"] if c["id"] == request.path_params["c"]]
        if not found:
            return JSONResponse({"message": "Unknown Channel", "code": 10003}, status_code=404)
        return JSONResponse(found[0])

    async def _send(self, request: Request) -> Response:
        data = await self._record(request)
        stamp = datetime.now(UTC).isoformat()
        return JSONResponse(
            {
                "id": str(next(self._ids)),
                "channel_id": request.path_params["c"],
                "author": BOT,
                "content": (data or {}).get("content", ""),
                "timestamp": stamp,
                "edited_timestamp": None,
                "tts": False,
                "mention_everyone": False,
                "mentions": [],
                "mention_roles": [],
                "attachments": [],
                "embeds": [],
                "pinned": False,
                "type": 0,
            }
        )

    async def _delete(self, request: Request) -> Response:
        await self._record(request)
        return Response(status_code=204)

    async def _invite(self, request: Request) -> Response:
        data = await self._record(request) or {}
        code = f"q{next(self._ids) % 10**8:08d}"
        invite = {
            "code": code,
            "uses": 0,
            "max_uses": int(data.get("max_uses") or 0),
            "max_age": int(data.get("max_age") or 0),
            "temporary": False,
            "created_at": datetime.now(UTC).isoformat(),
            "inviter": BOT,
            "channel": {"id": request.path_params["c"], "name": "general", "type": 0},
            "guild": {"id": GUILD, "name": "读书会 Discord"},
        }
        with self._lock:
            self.invites[code] = invite
        return JSONResponse(invite)

    async def _invites(self, request: Request) -> Response:
        with self._lock:
            return JSONResponse([dict(i) for i in self.invites.values()])

    async def _member(self, request: Request) -> Response:
        data = await self._record(request)
        if request.method == "DELETE":
            return Response(status_code=204)
        uid = request.path_params["u"]
        return JSONResponse(
            {
                "user": user(uid, uid),
                "roles": [],
                "joined_at": "2026-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "communication_disabled_until": (data or {}).get("communication_disabled_until"),
            }
        )

    async def _ban(self, request: Request) -> Response:
        await self._record(request)
        return Response(status_code=204)

    # -- gateway --------------------------------------------------------------------------
    async def _gateway(self, ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        try:
            while True:
                message = await ws.receive_json()
                op, data = message.get("op"), message.get("d")
                if op == 1:
                    await ws.send_json({"op": 11})
                elif op == 2:
                    await self._identify(ws, data or {})
                elif op == 6:
                    await self._resume(ws, data or {})
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            with self._lock:
                if self._socket is ws:
                    self._socket = None
                    self._connected.clear()

    async def _identify(self, ws: WebSocket, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004)  # Authentication failed
            return
        with self._lock:
            self._session = f"fake-session-{next(self._sessions)}"
            self.dispatched.clear()
        ready = {
            "v": 10,
            "user": BOT,
            "guilds": [{"id": GUILD, "unavailable": True}],
            "session_id": self._session,
            "resume_gateway_url": self.url.replace("http://", "ws://") + "/gateway",
            "application": {"id": BOT["id"], "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        self._attach(ws)
        await _send_quietly(ws, self._numbered("READY", ready))
        await _send_quietly(ws, self._numbered("GUILD_CREATE", guild_payload()))
        self.identified += 1
        self._connected.set()

    async def _resume(self, ws: WebSocket, data: dict[str, Any]) -> None:
        if data.get("session_id") != self._session or data.get("token") != self.token:
            await ws.send_json({"op": 9, "d": False})
            return
        with self._lock:
            missed = [p for p in self.dispatched if p["s"] > int(data.get("seq") or 0)]
            self._socket, self._loop = ws, asyncio.get_running_loop()
        for payload in missed:
            await ws.send_json(payload)
        await _send_quietly(ws, self._numbered("RESUMED", {}))
        self.resumed += 1
        self._connected.set()

    def _attach(self, ws: WebSocket) -> None:
        with self._lock:
            self._socket = ws
            self._loop = asyncio.get_running_loop()


async def _send_quietly(ws: WebSocket, payload: dict[str, Any]) -> None:
    # the socket may have closed meanwhile: the replay after RESUME carries it
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await ws.send_json(payload)
