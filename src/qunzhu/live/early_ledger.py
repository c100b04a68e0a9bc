"""Which deletes went out ahead of their batch, and what came of them.

An early delete (:mod:`qunzhu.moderation.early`) and the delete its batch decides later have
the same key. The one that comes first is sent; the later one only records the outcome on
the batch's decision. With one process an in-memory ledger is enough; when ``qunzhu serve``
is split, the web process sends early deletes at receipt and the live worker runs the
batches, so the ledger is in Redis, where both see it.

An outcome is ``(status, attempts, error, result)``.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

Outcome = tuple[str, int, str | None, Any]

MEMORY = 50_000
"""Keys kept in memory: far more than a batch, or a redelivery, ever spans."""
REDIS_PREFIX = "qunzhu:early:"
REDIS_TTL_S = 3600
PENDING = "pending"


def set_claim(redis: Any, key: str) -> Any:
    """``SET key NX`` for a claim, on a client (True when it was this call's) or on a
    pipeline (the answer comes with its ``execute``)."""
    return redis.set(key, PENDING, nx=True, ex=REDIS_TTL_S)


class EarlyLedger(Protocol):
    def claim(self, key: str) -> bool:
        """True for the first caller of ``key``, who sends the action."""
        ...

    def settle(self, key: str, outcome: Outcome) -> None: ...

    async def asettle(self, key: str, outcome: Outcome) -> None:
        """``settle`` from an event loop, without blocking it."""
        ...

    async def aclaim(self, key: str) -> bool:
        """``claim`` from an event loop, without blocking it."""
        ...

    async def awarm(self) -> None:
        """On an event loop that will claim: what the first ``aclaim`` there would open."""
        ...

    def outcome(self, key: str, wait: float) -> Outcome | None:
        """What came of the early action with ``key`` (waiting up to ``wait`` seconds for
        one under way); None when there was none."""
        ...


class MemoryLedger:
    def __init__(self, size: int = MEMORY) -> None:
        self.size = size
        self._seen: OrderedDict[str, Outcome | None] = OrderedDict()
        self._done = threading.Condition()

    def claim(self, key: str) -> bool:
        with self._done:
            if key in self._seen:
                return False
            self._seen[key] = None
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
            return True

    def settle(self, key: str, outcome: Outcome) -> None:
        with self._done:
            if key in self._seen:
                self._seen[key] = outcome
                self._done.notify_all()

    async def asettle(self, key: str, outcome: Outcome) -> None:
        self.settle(key, outcome)

    async def aclaim(self, key: str) -> bool:
        return self.claim(key)

    async def awarm(self) -> None:
        return None

    def outcome(self, key: str, wait: float) -> Outcome | None:
        with self._done:
            if key not in self._seen:
                return None
            self._done.wait_for(lambda: self._seen.get(key) is not None, wait)
            return self._seen.get(key)


class RedisLedger:
    """Keys live under ``qunzhu:early:<stream>:``: deployments sharing a Redis (each with
    its own live stream) do not see each other's."""

    def __init__(self, client: Any, namespace: str, url: str | None = None) -> None:
        self.client = client
        self.prefix = f"{REDIS_PREFIX}{namespace}:"
        self.url = url  # for asettle's client on an event loop
        self._aclient: tuple[Any, Any] | None = None  # (loop, asyncio client)

    def key_of(self, key: str) -> str:
        """The Redis key of the claim on ``key``: the web process sets it in the same
        transaction that queues the update (``RedisQueue.put_claiming``, ``aput``)."""
        return self.prefix + key

    def claim(self, key: str) -> bool:
        return bool(set_claim(self.client, self.key_of(key)))

    def settle(self, key: str, outcome: Outcome) -> None:
        body = json.dumps(list(outcome), ensure_ascii=False, default=str)
        self.client.set(self.key_of(key), body, ex=REDIS_TTL_S)

    def _on_loop(self) -> Any:
        """A client on the running loop's own connections (None without a URL)."""
        import asyncio

        loop = asyncio.get_running_loop()
        if self.url is None:
            return None
        if self._aclient is None or self._aclient[0] is not loop:
            import redis.asyncio as aioredis

            self._aclient = (loop, aioredis.Redis.from_url(self.url, socket_connect_timeout=5))
        return self._aclient[1]

    async def asettle(self, key: str, outcome: Outcome) -> None:
        import asyncio

        client = self._on_loop()
        if client is None:
            await asyncio.get_running_loop().run_in_executor(None, self.settle, key, outcome)
            return
        body = json.dumps(list(outcome), ensure_ascii=False, default=str)
        await client.set(self.key_of(key), body, ex=REDIS_TTL_S)

    async def awarm(self) -> None:
        client = self._on_loop()
        if client is not None:
            await client.ping()

    async def aclaim(self, key: str) -> bool:
        import asyncio

        client = self._on_loop()
        if client is None:
            return await asyncio.get_running_loop().run_in_executor(None, self.claim, key)
        return bool(await set_claim(client, self.key_of(key)))

    def outcome(self, key: str, wait: float) -> Outcome | None:
        deadline = time.monotonic() + wait
        while True:
            raw = self.client.get(self.key_of(key))
            if raw is None:
                return None
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
            if text != PENDING:
                status, attempts, error, result = json.loads(text)
                return str(status), int(attempts), error, result
            if time.monotonic() >= deadline:
                # the process that claimed it never said how it went (it may have died
                # before sending): better a second delete the platform refuses than an ad
                # left standing
                return None
            time.sleep(0.01)
