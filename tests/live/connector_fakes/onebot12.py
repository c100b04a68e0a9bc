"""A fake OneBot 12 WeChat bridge, as the OneBot 12 spec (botuniverse/onebot, specs/connect/
and specs/interface/) and ComWeChatBotClient (wechatbot_client/onebot12/event.py, message.py,
action_manager/) define and behave: events with ``id``, ``impl``, ``self {platform, user_id}``,
float ``time``, ``type``/``detail_type``/``sub_type``; actions as ``{action, params, echo}``
answered ``{status, retcode, data, message, echo}``; the HTTP action server at ``/``; the HTTP
webhook with ``X-OneBot-Version``/``X-Impl`` and ``Authorization: Bearer``; the forward
WebSocket server (401 for a missing or wrong token); the reverse WebSocket client offering
``Sec-WebSocket-Protocol: 12.<impl>``. WeChat ids (``wxid_…``, ``…@chatroom``) and the ``wx.``
extensions are ComWeChat's; the content is ours.

Like a real bridge it reports again, after a reconnect, what it reported before."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connector_fakes import onebot as ob

IMPL = "ComWeChat"
SELF = "wxid_operator01"
GROUP = "24681357902@chatroom"


def ok(data: Any = None) -> dict[str, Any]:
    return {"status": "ok", "retcode": 0, "data": data, "message": ""}


def failed(retcode: int, message: str) -> dict[str, Any]:
    return {"status": "failed", "retcode": retcode, "data": None, "message": message}


class FakeBridgeApi:
    """Answers actions from any transport. The account is owner or admin only in
    ``admin_groups``: elsewhere ``wx.delete_groupmember`` fails (35000, as ComWeChat's does)."""

    def __init__(self, token: str = "bridge-token") -> None:
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.admin_groups: set[str] = {GROUP}
        self.members: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._ids = iter(range(9_000_000, 10**12))
        self.app = Starlette(routes=[Route("/", self.endpoint, methods=["POST"])])

    def called(self, action: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p for a, p in self.calls if a == action]

    def answer(self, action: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append((action, params))
        if action == "send_message":
            return 200, ok({"message_id": str(next(self._ids)), "time": 1.0})
        if action == "get_group_member_list":
            return 200, ok(self.members.get(str(params["group_id"]), []))
        if action == "wx.delete_groupmember":
            if params["group_id"] in self.admin_groups:
                return 200, ok(None)
            return 200, failed(35000, "操作失败")
        return 200, failed(10002, f"不支持的动作 {action}")

    async def endpoint(self, request: Request) -> Any:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse(failed(10001, "unauthorized"), status_code=401)
        call = await request.json()
        status, body = self.answer(call["action"], call.get("params", {}))
        return JSONResponse(body, status_code=status)


class FakeBridgeReverse(ob.FakeOneBotWs):
    """The bridge's reverse WebSocket client."""

    subprotocols = (f"12.{IMPL}",)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "User-Agent": f"OneBot/12 ({IMPL})"}


class FakeBridgeServer(ob.FakeOneBotWsServer):
    """The bridge's forward WebSocket server (the spec answers 401 to any bad token)."""

    def _check_token(self, connection: Any, request: Any) -> Any:
        from http import HTTPStatus

        if request.headers.get("Authorization", "") != f"Bearer {self.token}":
            self.refused += 1
            return connection.respond(HTTPStatus.UNAUTHORIZED, "unauthorized\n")
        return None


def post(url: str, event: dict[str, Any], token: str) -> httpx.Response:
    """The bridge's HTTP webhook push."""
    return httpx.post(
        url,
        content=json.dumps(event, ensure_ascii=False).encode(),
        timeout=30,
        headers={
            "Content-Type": "application/json",
            "User-Agent": f"OneBot/12 ({IMPL})",
            "X-OneBot-Version": "12",
            "X-Impl": IMPL,
            "Authorization": f"Bearer {token}",
        },
    )


# -- events -----------------------------------------------------------------------------------


def _base(kind: str, detail: str, at: float, eid: str, sub: str = "") -> dict[str, Any]:
    return {
        "id": eid,
        "impl": IMPL,
        "self": {"platform": "wechat", "user_id": SELF},
        "time": at,
        "type": kind,
        "detail_type": detail,
        "sub_type": sub,
    }


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "data": {"text": value}}


def group_message(
    message_id: str, user: str, message: list[dict[str, Any]] | str, *, at: float,
    group: str = GROUP, alt: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    segments = [text(message)] if isinstance(message, str) else message
    return {
        **_base("message", "group", at, f"ev-{message_id}"),
        "message_id": message_id,
        "message": segments,
        "alt_message": alt
        if alt is not None
        else "".join(s["data"].get("text", "[...]") for s in segments),
        "group_id": group,
        "user_id": user,
    }


def system_line(line: str, *, at: float, n: int, group: str = GROUP) -> dict[str, Any]:
    """A WeChat system line ("X邀请Y加入了群聊") passed on as a message from nobody."""
    return group_message(f"sys-{n}", "", line, at=at, group=group)


def member_increase(
    user: str, *, at: float, operator: str = "", sub: str = "join", group: str = GROUP
) -> dict[str, Any]:
    return {
        **_base("notice", "group_member_increase", at, f"inc-{user}-{at}", sub),
        "group_id": group,
        "user_id": user,
        "operator_id": operator,
    }


def member_decrease(
    user: str, *, at: float, operator: str = "", sub: str = "leave", group: str = GROUP
) -> dict[str, Any]:
    return {
        **_base("notice", "group_member_decrease", at, f"dec-{user}-{at}", sub),
        "group_id": group,
        "user_id": user,
        "operator_id": operator,
    }


def message_delete(message_id: str, user: str, *, at: float, group: str = GROUP) -> dict[str, Any]:
    return {
        **_base("notice", "group_message_delete", at, f"del-{message_id}", "recall"),
        "group_id": group,
        "message_id": message_id,
        "user_id": user,
        "operator_id": "",
    }


def red_envelope(user: str, *, at: float, n: int, group: str = GROUP) -> dict[str, Any]:
    return {
        **_base("notice", "wx.get_group_redbag", at, f"bag-{n}"),
        "group_id": group,
        "user_id": user,
    }


def contact_card(user: str, nickname: str, *, at: float, n: int, group: str = GROUP) -> dict:
    return {
        **_base("notice", "wx.get_group_card", at, f"card-{n}"),
        "group_id": group,
        "user_id": user,
        "v3": f"v3_{n}@stranger",
        "v4": f"v4_{n}@stranger",
        "nickname": nickname,
        "head_url": "",
        "province": "浙江",
        "city": "杭州",
        "sex": "1",
    }


def heartbeat(at: float) -> dict[str, Any]:
    return {
        "id": f"hb-{at}",
        "impl": IMPL,
        "time": at,
        "type": "meta",
        "detail_type": "heartbeat",
        "sub_type": "",
        "interval": 5000,
        "status": {"good": True, "online": True},
    }
