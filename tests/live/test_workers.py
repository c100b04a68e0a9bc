"""Several live workers on one Redis stream (qunzhu.live.shards): a group's events are stored
by one worker at a time and in order, a worker killed mid-batch has its entries taken over
and stored once, and different groups are stored at the same time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from qunzhu_tests_connectors import count, wait_until

from qunzhu import events as ev
from qunzhu.events import Action
from qunzhu.live.queue import RedisQueue
from qunzhu.live.shards import shard_of
from qunzhu.live.sink import Sink
from qunzhu.store.models import Message
from qunzhu.store.session import Store
from qunzhu.wiring import build_pipeline

CHILD = Path(__file__).with_name("worker_child.py")
SPAM = "加 薇 信 abc_123 了解赚钱项目"
START = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture
def stream(redis_url: str) -> Iterator[str]:
    import redis

    name = f"qunzhu:test-workers:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(redis_url)
    client.delete(*client.keys(f"{name}*"), *client.keys(f"qunzhu:early:{name}:*"), name)


def posts(group: str, first: int, count: int) -> list[ev.Event]:
    return [
        ev.MessagePosted(
            platform="telegram",
            community="acme",
            group=group,
            member=str(500 + n % 7),
            occurred_at=START + timedelta(seconds=n),
            message_id=str(n),
            text=SPAM if n % 5 == 0 else f"第 {n} 条",
        )
        for n in range(first, first + count)
    ]


@dataclass
class Watch:
    """What every worker's pipeline was given, batch by batch: which worker had which group
    in hand, and in what order each group's messages came."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    in_hand: dict[str, str] = field(default_factory=dict)
    overlaps: list[tuple[str, str, str]] = field(default_factory=list)
    order: dict[str, list[int]] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)


@dataclass
class Worker:
    queue: RedisQueue
    sink: Sink
    acted: list[Action]

    def holds(self) -> int:
        return len(self.queue.leases.held()) if self.queue.leases is not None else 0

    def stop(self) -> None:
        self.sink.stop()
        self.queue.close()


def worker(
    store: Store,
    redis_url: str,
    stream: str,
    name: str,
    *,
    shards: int,
    watch: Watch | None = None,
    gate: tuple[str, threading.Event] | None = None,
) -> Worker:
    """A live worker as `qunzhu worker` runs one: its own queue, pipeline and sink."""
    queue = RedisQueue(redis_url, stream=stream, consumer=name, shards=shards, lease_ms=1000)
    pipeline = build_pipeline(store, "live")
    real_run = pipeline.run

    def run(items: Any, **kwargs: Any) -> Any:
        groups = {e.group for e in items}
        if gate is not None and gate[0] in groups:
            gate[1].wait(60)
        if watch is None:
            return real_run(items, **kwargs)
        with watch.lock:
            for g in groups:
                if g in watch.in_hand:
                    watch.overlaps.append((g, watch.in_hand[g], name))
                watch.in_hand[g] = name
            for e in items:
                watch.order.setdefault(e.group, []).append(int(e.message_id))
            watch.batches[name] = watch.batches.get(name, 0) + 1
        try:
            return real_run(items, **kwargs)
        finally:
            with watch.lock:
                for g in groups:
                    watch.in_hand.pop(g, None)

    pipeline.run = run  # type: ignore[method-assign]
    acted: list[Action] = []
    sink = Sink(pipeline, acted.extend, durable=queue, max_batch=8, linger=0)
    sink.start()
    return Worker(queue, sink, acted)


def test_two_workers_never_store_a_groups_events_at_once_or_out_of_order(
    store, community, redis_url, stream
):
    groups = [f"-100{g}" for g in range(6)]
    web = RedisQueue(redis_url, stream=stream, shards=4)
    watch = Watch()

    def put(first: int, count: int) -> None:
        for n in range(first, first + count):  # one post at a time, groups interleaved
            for g in groups:
                web.put(posts(g, n, 1))

    a = worker(store, redis_url, stream, "a", shards=4, watch=watch)
    b: Worker | None = None
    try:
        put(1, 10)
        wait_until(lambda: count(store, Message) == 60, 60, "worker a to store the first posts")
        b = worker(store, redis_url, stream, "b", shards=4, watch=watch)
        # the fair share is two shards each: a gives two back and b takes them
        wait_until(lambda: b.holds() == 2 and a.holds() == 2, 30, "the shards to be shared")
        put(11, 10)
        wait_until(lambda: count(store, Message) == 120, 60, "both workers to store")
        a.stop()  # a clean stop gives its shards back: b takes all four
        put(21, 10)
        wait_until(lambda: count(store, Message) == 180, 60, "worker b to store the rest")
    finally:
        a.stop()
        if b is not None:
            b.stop()
        web.close()
    assert watch.overlaps == []
    assert watch.order == {g: list(range(1, 31)) for g in groups}  # each once, in order
    assert watch.batches["a"] > 0 and watch.batches["b"] > 0


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_worker_killed_mid_batch_has_its_entries_taken_over_and_stored_once(
    store, community, db_url, redis_url, stream, when
):
    web = RedisQueue(redis_url, stream=stream, shards=1)
    for n in range(1, 13):
        web.put(posts("-1001", n, 1))
    child = subprocess.Popen(
        [sys.executable, str(CHILD), db_url, redis_url, stream, when],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    survivor: Worker | None = None
    watch = Watch()
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the first batch is in its hands, and stays there
        assert line.strip() == "holding 5", child.stderr.read() if child.stderr else ""
        survivor = worker(store, redis_url, stream, "survivor", shards=1, watch=watch)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
        assert survivor.sink.drain(60), "the survivor did not store the dead worker's entries"
    finally:
        if child.poll() is None:
            child.kill()
        if survivor is not None:
            survivor.stop()
        web.close()
    assert count(store, Message) == 12
    # the five the dead worker held come first, then the rest: in order, each once
    assert watch.order == {"-1001": list(range(1, 13))}
    deletes = sorted(int(a.message_id or 0) for a in survivor.acted if a.kind == "delete_message")
    # committed before the kill, the first batch is a no-op the second time: its delete was
    # the dead worker's to carry out (see docs/scaling.md, "Failures")
    assert deletes == ([5, 10] if when == "before" else [10])
    assert web.pending() == 0


def test_different_groups_are_stored_at_the_same_time(store, community, redis_url, stream):
    shards = 2
    slow = "-1001"
    fast = next(
        g
        for g in (f"-100{n}" for n in range(2, 50))
        if shard_of("telegram", "acme", g, shards) != shard_of("telegram", "acme", slow, shards)
    )
    gate = threading.Event()
    web = RedisQueue(redis_url, stream=stream, shards=shards)
    workers = [
        worker(store, redis_url, stream, name, shards=shards, gate=(slow, gate))
        for name in ("a", "b")
    ]
    try:
        wait_until(lambda: [w.holds() for w in workers] == [1, 1], 30, "a shard each")
        web.put(posts(slow, 1, 1))
        for n in range(1, 6):
            web.put(posts(fast, n, 1))
        # the worker holding the slow group is stuck in its batch; the other stores
        wait_until(lambda: count(store, Message) == 5, 60, "the other group to be stored")
        gate.set()
        wait_until(lambda: count(store, Message) == 6, 60, "the slow group to be stored")
    finally:
        gate.set()
        for w in workers:
            w.stop()
        web.close()


def test_a_different_shard_count_is_refused_while_entries_wait(redis_url, stream):
    web = RedisQueue(redis_url, stream=stream, shards=4)
    web.put(posts("-1001", 1, 1))
    with pytest.raises(ValueError, match=r"QUNZHU_LIVE_SHARDS is 8 .* 4 shards holding 1"):
        RedisQueue(redis_url, stream=stream, shards=8)
    web.client.delete(*web.streams)  # emptied: now the count may change
    RedisQueue(redis_url, stream=stream, shards=8).close()
    assert int(web.client.get(f"{stream}:shards")) == 8
    web.close()
