"""The live stream split by group into shard streams, each read by one worker at a time.

A group's events must be stored in order by one worker at a time: moderation counts a
member's offences in the order they were posted. So the webhooks append each event to the
shard of its group (``<stream>:<n>``, ``n`` a CRC32 of platform, community and group modulo
``QUNZHU_LIVE_SHARDS``), and a worker reads a shard only while it holds its lease
(``<stream>:lease:<n>``, ``SET NX PX``, renewed every third of ``QUNZHU_LIVE_LEASE_SECONDS``
by a thread of its own). Different groups mostly land in different shards and are stored by
different workers at the same time.

Every worker announces itself in a sorted set (``<stream>:workers``, scored by its last
heartbeat) and holds at most its fair share of the shards, ``ceil(shards / live workers)``:
a worker that starts finds shards the others released, one that dies stops renewing, and
after one lease its shards are free. Whoever takes a shard first moves the entries the last
holder had read and not acknowledged to itself (``XAUTOCLAIM`` with no idle minimum: the
lease says nobody else reads it) and reads them again before anything newer, in stream order.

What this does not cover: a process that stalls longer than a lease (SIGSTOP, a swap storm)
while holding entries loses its shards, and its batch in hand may be stored at the same time
as the next holder stores the same entries; their idempotency keys make that store once,
but the order of that one batch against the next is then not guaranteed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
import zlib
from typing import Any

log = logging.getLogger(__name__)

# compare-and-renew, compare-and-delete: only the holder's token may extend or drop a lease
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('del', KEYS[1]) else return 0 end"
)
NEW = ">"  # the cursor of a shard whose held entries were all read again


def shard_of(platform: str, community: str, group: str, shards: int) -> int:
    """The shard of a group: the same in every process (CRC32, not Python's salted hash)."""
    return zlib.crc32(f"{platform}\x1f{community}\x1f{group}".encode()) % shards


def shard_stream(base: str, shard: int) -> str:
    return f"{base}:{shard}"


def ensure_group(client: Any, stream: str, group: str) -> None:
    import redis

    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def agree_on_shards(client: Any, base: str, shards: int) -> None:
    """Every process must split the stream the same way, or a group's events would be in
    two shards. The first process records the count; a different one is accepted only
    while every shard of the recorded count is empty (nothing queued to reorder)."""
    key = f"{base}:shards"
    if client.set(key, shards, nx=True):
        return
    raw = client.get(key)
    recorded = int(raw) if raw is not None else shards
    if recorded == shards:
        return
    queued = sum(int(client.xlen(shard_stream(base, n))) for n in range(recorded))
    if queued:
        raise ValueError(
            f"QUNZHU_LIVE_SHARDS is {shards} but the stream {base} is split into {recorded} "
            f"shards holding {queued} entries: let the workers empty them first, or keep "
            f"{recorded}"
        )
    client.set(key, shards)


class ShardLeases:
    """The shards one worker holds, with the cursor it reads each from (an entry id while
    it reads again what it held, ``>`` for new entries)."""

    def __init__(
        self,
        client: Any,
        base: str,
        group: str,
        consumer: str,
        *,
        shards: int,
        lease_ms: int,
        token: str | None = None,
    ) -> None:
        self.client = client
        self.base = base
        self.group = group
        self.consumer = consumer
        self.shards = shards
        self.lease_ms = lease_ms
        # unique per process even if two workers were given the same consumer name
        self.token = token or f"{consumer}/{uuid.uuid4().hex[:12]}"
        self.registry = f"{base}:workers"
        self.cursors: dict[int, str] = {}
        self._lost: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_balance = 0.0
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def lease_key(self, shard: int) -> str:
        return f"{self.base}:lease:{shard}"

    def start(self) -> None:
        if self._thread is None:
            self._beat()
            self._thread = threading.Thread(
                target=self._heartbeat, name="qunzhu-leases", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Give every shard back at once (a clean stop: the others need not wait a lease)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            held, self.cursors = list(self.cursors), {}
        for shard in held:
            self._give_back(shard)
        try:
            self.client.zrem(self.registry, self.token)
        except Exception:  # Redis away: the entry ages out of the registry by itself
            log.warning("leaving the worker registry of %s failed", self.base)

    def held(self) -> dict[int, str]:
        """The shards held now, with their cursors; those lost since are dropped."""
        with self._lock:
            for shard in self._lost:
                self.cursors.pop(shard, None)
            self._lost.clear()
            return dict(self.cursors)

    def advance(self, shard: int, cursor: str) -> None:
        with self._lock:
            if shard in self.cursors:
                self.cursors[shard] = cursor

    def read_again(self) -> None:
        """After a failed batch: what was read and not acknowledged comes out again."""
        with self._lock:
            for shard in self.cursors:
                self.cursors[shard] = "0"

    def balance(self, *, force: bool = False) -> None:
        """Take free shards up to the fair share, give back those above it. Called by the
        reader between batches, never with entries in hand: a shard given back mid-batch
        would be read by the next holder while this one still stores it."""
        now = time.monotonic()
        if not force and now < self._next_balance:
            return
        self._next_balance = now + self.lease_ms / 3000
        if self._shards_changed():
            return
        held = self.held()
        share = math.ceil(self.shards / max(1, self._live_workers()))
        for shard in sorted(held, reverse=True)[: max(0, len(held) - share)]:
            with self._lock:
                self.cursors.pop(shard, None)
            self._give_back(shard)
        missing = share - len(held)
        # each worker tries the shards in its own order, so starting workers rarely collide
        start = zlib.crc32(self.token.encode()) % self.shards
        for step in range(self.shards):
            if missing <= 0:
                break
            shard = (start + step) % self.shards
            if shard in held:
                continue
            if self.client.set(self.lease_key(shard), self.token, nx=True, px=self.lease_ms):
                self._take_over(shard)
                missing -= 1

    def _shards_changed(self) -> bool:
        raw = self.client.get(f"{self.base}:shards")
        if raw is None or int(raw) == self.shards:
            return False
        log.error(
            "the stream %s is now split into %s shards, this worker into %s: it reads none "
            "until restarted with QUNZHU_LIVE_SHARDS=%s",
            self.base,
            int(raw),
            self.shards,
            int(raw),
        )
        with self._lock:
            held, self.cursors = list(self.cursors), {}
        for shard in held:
            self._give_back(shard)
        return True

    def _live_workers(self) -> int:
        now_ms = time.time() * 1000
        self.client.zremrangebyscore(self.registry, "-inf", now_ms - 10 * self.lease_ms)
        return int(self.client.zcount(self.registry, now_ms - self.lease_ms, "+inf"))

    def _take_over(self, shard: int) -> None:
        """Move what the last holder read and did not acknowledge to this worker, then read
        it again from the start, before anything new."""
        stream = shard_stream(self.base, shard)
        ensure_group(self.client, stream, self.group)
        start: Any = "0-0"
        moved = 0
        while True:
            # not JUSTID: redis-py then drops the cursor from the reply
            reply: Any = self.client.xautoclaim(
                stream, self.group, self.consumer, 0, start_id=start, count=1000
            )
            moved += len(reply[1])
            start = reply[0]
            if start in (b"0-0", "0-0"):
                break
        # the others hold nothing here now: forget the names of dead workers
        info: Any = self.client.xinfo_consumers(stream, self.group)
        for c in info:
            name = c["name"].decode() if isinstance(c["name"], bytes) else str(c["name"])
            if name != self.consumer and int(c["pending"]) == 0:
                self.client.xgroup_delconsumer(stream, self.group, name)
        with self._lock:
            self.cursors[shard] = "0"
        if moved:
            log.info("took over shard %s of %s with %d entries to store", shard, self.base, moved)

    def _give_back(self, shard: int) -> None:
        try:
            self._release(keys=[self.lease_key(shard)], args=[self.token])
        except Exception:  # Redis away: the lease expires by itself
            log.warning("giving back shard %s of %s failed", shard, self.base)

    def _beat(self) -> None:
        self.client.zadd(self.registry, {self.token: time.time() * 1000})
        with self._lock:
            held = list(self.cursors)
        for shard in held:
            if not self._renew(keys=[self.lease_key(shard)], args=[self.token, self.lease_ms]):
                log.error("lost the lease on shard %s of %s", shard, self.base)
                with self._lock:
                    if shard in self.cursors:
                        self._lost.add(shard)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease_ms / 3000):
            try:
                self._beat()
            except Exception as exc:  # Redis away: the leases may lapse; reading stops too
                log.warning("renewing the leases on %s failed: %s", self.base, exc)
