"""OneBot 12 actions, over HTTP (``POST {api_url}`` with ``{"action", "params"}``: the spec's
connect/communication/http.md) or a live WebSocket (the same object with ``echo``), and what
their answers mean for the executor (connect/data-protocol/action-response.md: ``status``,
``retcode``, ``data``, ``message``)."""

from __future__ import annotations

from typing import Any

import httpx

from qunzhu.adapters.base import ConnectorError, PermanentError, RateLimited, Refused, Unsupported
from qunzhu.adapters.onebot import api as v11


def answer(action: str, status_code: int, body: Any) -> Any:
    """The ``data`` of a successful answer, or the error the executor acts on."""
    if status_code in (401, 403):
        raise PermanentError(
            f"the OneBot 12 bridge refused the access token ({status_code})", scope="connector"
        )
    if status_code == 429:
        raise RateLimited(f"{action}: too many requests", 1.0)
    if status_code >= 500:
        raise ConnectorError(f"{action}: HTTP {status_code}")
    if status_code >= 400:
        raise Refused(f"{action}: HTTP {status_code}")
    if not isinstance(body, dict):
        raise ConnectorError(f"{action}: the answer is not a JSON object")
    try:
        retcode = int(body.get("retcode", -1))
    except (TypeError, ValueError):
        raise ConnectorError(f"{action}: retcode {body.get('retcode')!r} is not a number") from None
    if body.get("status") == "ok" and retcode == 0:
        return body.get("data")
    text = str(body.get("message") or "failed")
    if retcode in (10002, 10004, 10005, 10007):  # this bridge has no such action or segment
        raise Unsupported(f"{action}: the bridge does not support it ({retcode} {text})")
    if retcode in (10101, 10102):  # which account: a configuration error, not this call's
        raise PermanentError(f"{action}: {text} ({retcode})", scope="connector")
    if 20000 <= retcode < 30000 or 33000 <= retcode < 34000 or 36000 <= retcode < 37000:
        # the bridge's handler broke, its network failed, or it is "tired": try again later
        raise ConnectorError(f"{action}: retcode {retcode} {text}")
    raise Refused(f"{action}: retcode {retcode} {text}")


class HttpApi(v11.HttpApi):
    """Actions posted to the bridge's one HTTP endpoint (v11 had one URL per action)."""

    def call(self, action: str, params: dict[str, Any]) -> Any:
        try:
            response = self.client.post(
                self.base_url + "/", json={"action": action, "params": params}
            )
        except httpx.TransportError as exc:
            raise ConnectorError(f"{action}: {type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        return answer(action, response.status_code, body)
