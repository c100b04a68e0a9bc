"""Login rate limit, in a sliding 15-minute window: at most ``settings.login_rate_limit``
failures per account (whatever address they come from: rotating addresses does not help)
and :data:`ADDRESS_FACTOR` times as many per client address (many accounts tried from one
place; an office behind one address gets room for its people's typos).

The address is the TCP peer, or the one a trusted proxy reports (``QUNZHU_TRUSTED_PROXIES``,
applied by the server before the app sees the request): a forwarded header from anyone
else cannot change it.

Shaped like zulip's limiter: the check is a question (``need_to_limit(key) -> (limited,
retry_after_seconds)``) and recording a failure is a separate step, so the caller decides.
In one process the failures are kept in memory; when ``settings.redis_url`` is set they are
kept in Redis (a sorted set per key) so every server behind a load balancer counts together.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from qunzhu.settings import Settings

if TYPE_CHECKING:
    from redis import Redis

WINDOW_SECONDS = 15 * 60
ADDRESS_FACTOR = 3


def login_keys(limit: int, username: str, address: str | None) -> list[tuple[str, int]]:
    """The counters one login attempt is checked against, each with its limit."""
    keys = [(f"account:{username.strip().lower()}", limit)]
    if address:
        keys.append((f"address:{address}", limit * ADDRESS_FACTOR))
    return keys


def need_to_limit_login(
    limiter: LoginLimiter, username: str, address: str | None
) -> tuple[bool, int]:
    """Whether this attempt must wait, and for how many seconds (the longest of its keys)."""
    waits = [
        limiter.need_to_limit(key, limit)
        for key, limit in login_keys(limiter.limit, username, address)
    ]
    limited = [seconds for hit, seconds in waits if hit]
    return (True, max(limited)) if limited else (False, 0)


def record_login_failure(limiter: LoginLimiter, username: str, address: str | None) -> None:
    for key, _ in login_keys(limiter.limit, username, address):
        limiter.record_failure(key)


def reset_login(limiter: LoginLimiter, username: str) -> None:
    """After a good password: the account's count starts again; the address's runs out on
    its own, so one known account cannot clear the way for guessing others."""
    key, _ = login_keys(limiter.limit, username, None)[0]
    limiter.reset(key)


class LoginLimiter(Protocol):
    limit: int

    def need_to_limit(self, key: str, limit: int | None = None) -> tuple[bool, int]: ...

    def record_failure(self, key: str) -> None: ...

    def reset(self, key: str) -> None: ...


class MemoryLimiter:
    """Failures per key in this process; old entries fall out of the window as keys are used."""

    def __init__(
        self,
        limit: int,
        *,
        window: int = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def need_to_limit(self, key: str, limit: int | None = None) -> tuple[bool, int]:
        now = self._clock()
        with self._lock:
            times = self._recent(key, now)
            if len(times) < (limit or self.limit):
                if not times:
                    self._failures.pop(key, None)  # keep the table from growing without bound
                return False, 0
            return True, max(1, math.ceil(times[0] + self.window - now))

    def record_failure(self, key: str) -> None:
        now = self._clock()
        with self._lock:
            self._recent(key, now).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class RedisLimiter:
    """The same rule kept in Redis: one sorted set per key, scored by failure time."""

    def __init__(
        self,
        client: Redis,
        limit: int,
        *,
        window: int = WINDOW_SECONDS,
        prefix: str = "qunzhu:login:",
    ) -> None:
        self.client = client
        self.limit = limit
        self.window = window
        self.prefix = prefix

    def need_to_limit(self, key: str, limit: int | None = None) -> tuple[bool, int]:
        name = self.prefix + key
        now = time.time()
        pipe = self.client.pipeline()
        pipe.zremrangebyscore(name, 0, now - self.window)
        pipe.zcard(name)
        pipe.zrange(name, 0, 0, withscores=True)
        _, count, oldest = pipe.execute()
        if int(count) < (limit or self.limit):
            return False, 0
        first = float(oldest[0][1]) if oldest else now
        return True, max(1, math.ceil(first + self.window - now))

    def record_failure(self, key: str) -> None:
        name = self.prefix + key
        now = time.time()
        pipe = self.client.pipeline()
        # a random member so two failures in the same instant both count
        pipe.zadd(name, {f"{now}:{secrets.token_hex(4)}": now})
        pipe.expire(name, self.window)
        pipe.execute()

    def reset(self, key: str) -> None:
        self.client.delete(self.prefix + key)


def make_limiter(settings: Settings) -> LoginLimiter:
    if settings.redis_url:
        from redis import Redis  # imported only when configured: most installs have no Redis

        return RedisLimiter(Redis.from_url(settings.redis_url), settings.login_rate_limit)
    return MemoryLimiter(settings.login_rate_limit)
