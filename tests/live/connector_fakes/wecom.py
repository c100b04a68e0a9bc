"""A fake WeCom: the server API (gettoken, groupchat/list, groupchat/get, add_msg_template,
group_welcome_template/add and edit) answering with ``errcode`` as WeCom documents, tokens that can
be made to expire, and callbacks encrypted and signed as WeCom sends them."""

from __future__ import annotations

import base64
import itertools
import os
import threading
import time
import xml.etree.ElementTree as ET
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from qunzhu.adapters.wecom.crypto import CallbackCrypto

CORP_ID = "ww0123456789abcdef"
SECRET = "customer-contact-secret"
TOKEN = "callbacktoken"
AES_KEY = base64.b64encode(os.urandom(32)).decode().rstrip("=")
CHAT = "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"


class FakeWeCom:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.chats: dict[str, dict[str, Any]] = {}
        self.tokens: set[str] = set()
        self.failures: dict[str, list[dict[str, Any]]] = {}
        self.welcomes: dict[str, str] = {}  # template id -> text
        self._n = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/cgi-bin/gettoken", self.gettoken, methods=["GET"]),
                Route("/cgi-bin/externalcontact/{name:path}", self.api, methods=["POST"]),
            ]
        )

    def called(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p for n, p in self.calls if n == name]

    def expire_tokens(self) -> None:
        self.tokens.clear()

    async def gettoken(self, request: Request) -> Any:
        q = request.query_params
        if q.get("corpid") != CORP_ID or q.get("corpsecret") != SECRET:
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
        token = f"TOKEN-{next(self._n)}"
        self.tokens.add(token)
        return JSONResponse(
            {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        )

    async def api(self, request: Request) -> Any:
        name = request.path_params["name"]
        if request.query_params.get("access_token") not in self.tokens:
            return JSONResponse({"errcode": 42001, "errmsg": "access_token expired"})
        body = await request.json()
        with self._lock:
            self.calls.append((name, body))
            queued = self.failures.get(name)
            if queued:
                return JSONResponse(queued.pop(0))
        if name == "groupchat/list":
            chats = [{"chat_id": c, "status": 0} for c in self.chats]
            return JSONResponse(
                {"errcode": 0, "errmsg": "ok", "group_chat_list": chats, "next_cursor": ""}
            )
        if name == "groupchat/get":
            chat = self.chats.get(body["chat_id"])
            if chat is None:
                return JSONResponse({"errcode": 701008, "errmsg": "chat not found"})
            return JSONResponse({"errcode": 0, "errmsg": "ok", "group_chat": chat})
        if name == "add_msg_template":
            return JSONResponse(
                {
                    "errcode": 0,
                    "errmsg": "ok",
                    "fail_list": [],
                    "msgid": f"msgGCAAAXtWyuja{next(self._n)}",
                }
            )
        if name == "group_welcome_template/add":
            template = f"msgWelcome{next(self._n)}"
            self.welcomes[template] = body["text"]["content"]
            return JSONResponse({"errcode": 0, "errmsg": "ok", "template_id": template})
        if name == "group_welcome_template/edit":
            if body.get("template_id") not in self.welcomes:
                return JSONResponse({"errcode": 41063, "errmsg": "invalid template id"})
            self.welcomes[body["template_id"]] = body["text"]["content"]
            return JSONResponse({"errcode": 0, "errmsg": "ok"})
        return JSONResponse({"errcode": 60011, "errmsg": "no privilege to access"})


def chat_detail(chat: str, owner: str, members: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "chat_id": chat,
        "name": "读书会客户群",
        "owner": owner,
        "create_time": 1572505490,
        "notice": "",
        "member_list": members,
        "admin_list": [{"userid": owner}],
    }


def member(
    userid: str,
    *,
    join_time: int,
    scene: int = 1,
    invitor: str | None = None,
    kind: int = 2,
    state: str | None = None,
) -> dict[str, Any]:
    m: dict[str, Any] = {
        "userid": userid,
        "type": kind,
        "join_time": join_time,
        "join_scene": scene,
        "group_nickname": "",
        "name": f"客户{userid}",
    }
    if invitor:
        m["invitor"] = {"userid": invitor}
    if state:
        m["state"] = state
    return m


def change_xml(
    chat: str,
    change: str,
    *,
    at: int,
    detail: str = "",
    members: tuple[str, ...] = (),
    join_scene: int = 0,
    quit_scene: int = 0,
) -> str:
    items = "".join(f"<Item><![CDATA[{m}]]></Item>" for m in members)
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        "<FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_chat]]></Event>"
        f"<ChatId><![CDATA[{chat}]]></ChatId><ChangeType><![CDATA[{change}]]></ChangeType>"
        + (f"<UpdateDetail><![CDATA[{detail}]]></UpdateDetail>" if detail else "")
        + f"<JoinScene>{join_scene}</JoinScene><QuitScene>{quit_scene}</QuitScene>"
        f"<MemChangeCnt>{len(members)}</MemChangeCnt>"
        + (f"<MemChangeList>{items}</MemChangeList>" if members else "")
        + "</xml>"
    )


def crypto() -> CallbackCrypto:
    return CallbackCrypto(TOKEN, AES_KEY, CORP_ID)


def callback_request(xml: str, *, forge: bool = False, age: int = 0) -> dict[str, Any]:
    """What WeCom posts for ``xml``, signed ``age`` seconds ago: httpx.post keyword arguments."""
    nonce, timestamp = "1372623149", str(int(time.time()) - age)
    sealed = ET.fromstring(crypto().encrypt(xml, nonce, timestamp))
    encrypt, signature = sealed.findtext("Encrypt") or "", sealed.findtext("MsgSignature") or ""
    if forge:
        signature = "0" * 40
    body = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>"
    )
    return {
        "content": body.encode(),
        "params": {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce},
    }


def post_callback(url: str, xml: str, *, forge: bool = False, age: int = 0) -> httpx.Response:
    return httpx.post(url, timeout=30, **callback_request(xml, forge=forge, age=age))


def verify_url(url: str, echo: str, *, forge: bool = False) -> httpx.Response:
    nonce, timestamp = "5678", str(int(time.time()))
    sealed = ET.fromstring(crypto().encrypt(echo, nonce, timestamp))
    signature = "0" * 40 if forge else sealed.findtext("MsgSignature") or ""
    return httpx.get(
        url,
        timeout=30,
        params={
            "msg_signature": signature,
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": sealed.findtext("Encrypt") or "",
        },
    )
