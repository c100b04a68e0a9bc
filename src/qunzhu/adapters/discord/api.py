"""Discord's REST API through discord.py's own HTTP client, which keeps Discord's rate-limit
buckets and waits out a 429 itself (up to ``MAX_WAIT`` seconds; longer waits come back as
:class:`~qunzhu.adapters.base.RateLimited` for the executor to schedule).

discord.py is asynchronous and qunzhu's executor is not: the client lives on an event loop
of its own in one daemon thread, and :meth:`RestApi.call` hands it a coroutine and waits.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route

from qunzhu.adapters.base import ConnectorError, PermanentError, RateLimited, Refused

DEFAULT_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY = "wss://gateway.discord.gg/"
MAX_WAIT = 30.0  # the shortest cap discord.py accepts
CALL_TIMEOUT = 60.0
# codes of 403 answers that mean the bot cannot act in that channel at all
_NO_ACCESS = frozenset({50001, 50007})


def use_base(base: str | None, gateway: str | None = None) -> None:
    """Point discord.py at another REST ``base`` and ``gateway`` (a proxy, or the tests'
    fake). discord.py keeps both in class attributes, so they hold for every Discord
    connector of the process."""
    Route.BASE = (base or DEFAULT_BASE).rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway or DEFAULT_GATEWAY)


class RestApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: HTTPClient | None = None
        self._lock = threading.Lock()

    def _client(self) -> tuple[asyncio.AbstractEventLoop, HTTPClient]:
        with self._lock:
            if self._loop is None or self._http is None:
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="qunzhu-discord-rest", daemon=True
                ).start()
                http = HTTPClient(loop, max_ratelimit_timeout=MAX_WAIT)
                try:
                    asyncio.run_coroutine_threadsafe(http.static_login(self.token), loop).result(
                        CALL_TIMEOUT
                    )
                except BaseException as exc:
                    loop.call_soon_threadsafe(loop.stop)
                    raise translate(exc, "login") from exc
                self._loop, self._http = loop, http
            return self._loop, self._http

    def call(self, what: str, make: Callable[[HTTPClient], Coroutine[Any, Any, Any]]) -> Any:
        """Run ``make(http)`` on the client's loop; Discord's errors as connector errors."""
        loop, http = self._client()
        try:
            return asyncio.run_coroutine_threadsafe(make(http), loop).result(CALL_TIMEOUT)
        except BaseException as exc:
            raise translate(exc, what) from exc

    def close(self) -> None:
        with self._lock:
            loop, http = self._loop, self._http
            self._loop = self._http = None
        if loop is not None and http is not None:
            try:
                asyncio.run_coroutine_threadsafe(http.close(), loop).result(10)
            finally:
                loop.call_soon_threadsafe(loop.stop)


def translate(exc: BaseException, what: str) -> BaseException:
    """discord.py's error (or any other) as the connector error the executor handles."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, discord.LoginFailure):
        return PermanentError(f"Discord refused the bot token ({exc})", scope="connector")
    if isinstance(exc, discord.RateLimited):
        return RateLimited(f"{what}: Discord asks to wait {exc.retry_after:.0f} s", exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        detail = f"{what}: Discord answered {exc.status} ({exc.code}: {exc.text})"
        if exc.status == 401:
            return PermanentError(detail, scope="connector")
        if exc.status == 403 and exc.code in _NO_ACCESS:
            return PermanentError(detail, scope="group")
        if exc.status >= 500:
            return ConnectorError(detail)
        return Refused(detail)
    return ConnectorError(f"{what}: {type(exc).__name__}: {exc}")
