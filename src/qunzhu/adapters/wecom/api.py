"""The WeCom server API (https://developer.work.weixin.qq.com/document/path/90664): the
access token cached and refreshed, ``errcode`` mapped onto what the executor does."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from qunzhu.adapters.base import ConnectorError, PermanentError, RateLimited, Refused

DEFAULT_BASE = "https://qyapi.weixin.qq.com"
_TOKEN_GONE = {40001, 40014, 42001}
_LIMITED = {45009, 45033, 45035}
_NO_RIGHTS = {48002, 60011, 60020, 301002, 41054}
_BAD_CREDENTIALS = {40013, 40091, 40056}


class WeComApi:
    def __init__(
        self, corp_id: str, secret: str, *, base_url: str = DEFAULT_BASE, timeout: float = 10.0
    ) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(timeout=timeout)
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def token(self, *, fresh: bool = False) -> str:
        with self._lock:
            if fresh or self._token is None or self._token[1] < time.monotonic():
                data = self._request(
                    "GET",
                    "/cgi-bin/gettoken",
                    {"corpid": self.corp_id, "corpsecret": self.secret},
                    None,
                )
                # refreshed five minutes early: WeCom may expire it a little before
                life = float(data.get("expires_in", 7200)) - 300
                self._token = (str(data["access_token"]), time.monotonic() + life)
            return self._token[0]

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._request("POST", path, {"access_token": self.token()}, body)
        except _Expired:
            return self._request("POST", path, {"access_token": self.token(fresh=True)}, body)

    def _request(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any] | None
    ) -> dict[str, Any]:
        try:
            response = self.client.request(method, self.base_url + path, params=query, json=body)
        except httpx.TransportError as exc:
            raise ConnectorError(f"{path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise ConnectorError(f"{path}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise ConnectorError(f"{path}: the answer is not JSON") from None
        code = int(data.get("errcode", 0))
        if code == 0:
            return dict(data)
        text = f"{path}: errcode {code} {data.get('errmsg', '')}"
        if code in _TOKEN_GONE and path != "/cgi-bin/gettoken":
            raise _Expired(text)
        if code in _LIMITED:
            raise RateLimited(text, 60.0)
        if code == -1:
            raise ConnectorError(text)  # 系统繁忙
        if code in _BAD_CREDENTIALS or code in _TOKEN_GONE:
            raise PermanentError(f"{text} (check corp id and secret)", scope="connector")
        if code in _NO_RIGHTS:
            raise PermanentError(
                f"{text} (the app lacks the customer-contact permission)", scope="connector"
            )
        raise Refused(text)

    # -- customer groups (客户群) ------------------------------------------------------
    def group_chats(self) -> list[str]:
        chats: list[str] = []
        cursor = ""
        while True:
            data = self.post(
                "/cgi-bin/externalcontact/groupchat/list",
                {"status_filter": 0, "limit": 1000, "cursor": cursor},
            )
            chats += [str(c["chat_id"]) for c in data.get("group_chat_list", [])]
            cursor = str(data.get("next_cursor") or "")
            if not cursor:
                return chats

    def group_chat(self, chat_id: str) -> dict[str, Any]:
        data = self.post(
            "/cgi-bin/externalcontact/groupchat/get", {"chat_id": chat_id, "need_name": 1}
        )
        return dict(data.get("group_chat") or {})


class _Expired(ConnectorError):
    pass
