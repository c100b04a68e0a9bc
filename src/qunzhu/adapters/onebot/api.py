"""OneBot v11 API calls, over HTTP (``POST {api_url}/{action}``) or a live reverse
WebSocket (``{"action", "params", "echo"}``), and what their answers mean for the executor."""

from __future__ import annotations

from typing import Any

import httpx

from qunzhu.adapters.base import ConnectorError, PermanentError, RateLimited, Refused

_NO_RIGHTS = ("not admin", "no permission", "permission denied", "权限", "不是管理员", "not_admin")
_NOT_IN_GROUP = ("not in group", "group not found", "group_not_found", "不在群", "群不存在")


def answer(action: str, status_code: int, body: Any) -> Any:
    """The ``data`` of a successful answer, or the error the executor acts on."""
    if status_code in (401, 403):
        raise PermanentError(
            f"the OneBot access token was refused ({status_code})", scope="connector"
        )
    if status_code == 404:
        raise Refused(f"{action}: this OneBot implementation has no such API")
    if status_code == 429:
        raise RateLimited(f"{action}: too many requests", 1.0)
    if status_code >= 500:
        raise ConnectorError(f"{action}: HTTP {status_code}")
    if not isinstance(body, dict):
        raise ConnectorError(f"{action}: the answer is not a JSON object")
    if body.get("status") in ("ok", "async") and int(body.get("retcode", 0)) in (0, 1):
        return body.get("data")
    retcode = int(body.get("retcode", -1))
    text = str(body.get("wording") or body.get("message") or body.get("msg") or "failed")
    low = text.lower()
    if retcode == 104:
        raise PermanentError(f"{action}: credentials no longer valid ({text})", scope="connector")
    if any(m in low for m in _NO_RIGHTS):
        raise PermanentError(f"{text} (the bot lacks admin rights)")
    if any(m in low for m in _NOT_IN_GROUP):
        raise PermanentError(f"{text} (the bot is not in the group)")
    if retcode == 201:
        raise ConnectorError(f"{action}: the OneBot worker is not ready ({text})")
    raise Refused(f"{action}: retcode {retcode} {text}")


class HttpApi:
    def __init__(self, base_url: str, access_token: str = "", timeout: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(timeout=timeout, headers=headers)

    def call(self, action: str, params: dict[str, Any]) -> Any:
        try:
            response = self.client.post(f"{self.base_url}/{action}", json=params)
        except httpx.TransportError as exc:
            raise ConnectorError(f"{action}: {type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        return answer(action, response.status_code, body)

    def close(self) -> None:
        self.client.close()
