"""Durable live queues: a webhook answered from the queue loses nothing and doubles nothing,
even when the serving process dies between the answer and the commit."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from livequeue_child import make_queue, messages
from qunzhu_tests_connectors import count, run_coroutine

from qunzhu.events import Action
from qunzhu.live.queue import queue_from_settings
from qunzhu.live.sink import Sink
from qunzhu.live.spool import SpoolQueue
from qunzhu.settings import load_settings
from qunzhu.store.models import Message
from qunzhu.wiring import build_pipeline

CHILD = Path(__file__).with_name("livequeue_child.py")


def test_the_spool_hands_out_each_entry_once_until_rewound(tmp_path):
    q = SpoolQueue(tmp_path / "spool.db")
    q.put(messages(3))
    first = q.take(2, 0)
    assert len(first) == 2
    rest = q.take(10, 0)
    assert len(rest) == 1 and rest[0][0] > first[-1][0]
    assert q.take(10, 0) == []
    q.ack([i for i, _ in first])
    q.rewind()  # what was taken but not acknowledged comes out again
    assert [i for i, _ in q.take(10, 0)] == [rest[0][0]]
    assert q.pending() == 1
    q.close()
    reopened = SpoolQueue(tmp_path / "spool.db")  # a restart finds it still there
    assert [i for i, _ in reopened.take(10, 0)] == [rest[0][0]]
    reopened.close()


def test_the_queue_is_chosen_from_the_settings(tmp_path):
    assert queue_from_settings(load_settings(sample_data=False)) is None
    spool = queue_from_settings(load_settings(sample_data=False, live_spool=str(tmp_path / "s.db")))
    assert isinstance(spool, SpoolQueue)
    spool.close()


def test_a_sink_with_a_spool_answers_then_stores_and_acts_once(store, community, tmp_path):
    acted: list[Action] = []
    lock = threading.Lock()

    def on_actions(actions: list[Action]) -> None:
        with lock:
            acted.extend(actions)

    spool = SpoolQueue(tmp_path / "spool.db")
    sink = Sink(build_pipeline(store, "live"), on_actions, durable=spool, max_batch=5)
    events = messages(12)
    try:
        for e in events:
            sink.deliver([e])
        sink.deliver(events[:4])  # a redelivery: stored and acted on once
        assert sink.drain(30)
    finally:
        sink.stop()
    assert count(store, Message) == 12
    deletes = [a for a in acted if a.kind == "delete_message"]
    assert sorted(int(a.message_id or 0) for a in deletes) == [3, 6, 9, 12]
    assert spool.pending() == 0
    assert sink.batches >= 3  # at most five events a batch
    spool.close()


def _where(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "spool":
        return str(tmp_path / "spool.db")
    url = request.getfixturevalue("redis_url")
    return f"{url} qunzhu:test-live:{uuid.uuid4().hex}"


@pytest.mark.parametrize("kind", ["spool", "redis"])
@pytest.mark.parametrize("crash", ["before", "after"])
def test_a_crash_after_answering_loses_and_doubles_nothing(
    store, community, db_url, tmp_path, request, kind, crash
):
    where = _where(kind, tmp_path, request)
    child = subprocess.run(
        [sys.executable, str(CHILD), db_url, kind, where, crash],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "answered" in child.stdout, child.stderr
    assert child.returncode == 9, child.stderr  # it died in the pipeline, as planned
    stored_before = count(store, Message)
    assert stored_before == (12 if crash == "after" else 0)

    acted: list[Any] = []
    queue = make_queue(kind, where)  # the same spool file / the same consumer name
    sink = Sink(build_pipeline(store, "live"), acted.extend, durable=queue)
    try:
        sink.start()
        assert sink.drain(30)
    finally:
        sink.stop()
    assert count(store, Message) == 12
    assert queue.pending() == 0
    deletes = [a for a in acted if a.kind == "delete_message"]
    if crash == "before":  # decided for the first time now, once each
        assert sorted(int(a.message_id or 0) for a in deletes) == [3, 6, 9, 12]
    else:  # stored already: the second delivery is a no-op
        assert deletes == []
    if kind == "redis":
        _forget(queue)
    else:
        queue.close()


def _forget(queue: Any, *keys: str) -> None:
    """Close the queue; its stream's shards, leases and worker registry go with it."""
    from qunzhu.live.queue import connect

    queue.close()
    client = connect(queue.url)
    client.delete(queue.stream, *client.keys(f"{queue.stream}:*"), *keys)
    client.close()


def _redis_queue(redis_url: str) -> Any:
    from qunzhu.live.queue import RedisQueue

    return RedisQueue(redis_url, stream=f"qunzhu:test-live:{uuid.uuid4().hex}")


def _execs(client: Any) -> int:
    return int(client.info("commandstats").get("cmdstat_exec", {}).get("calls", 0))


def test_updates_queued_at_once_share_a_transaction_and_stay_whole(redis_url):
    import asyncio

    queue = _redis_queue(redis_url)
    updates = [messages(3, first=10 * n + 1) for n in range(40)]
    before = _execs(queue.client)

    async def post_all() -> list[list[bool]]:
        return await asyncio.gather(*(queue.aput(events) for events in updates))

    try:
        assert run_coroutine(post_all()) == [[] for _ in updates]
        # the first update goes alone, the 39 that came while it was on its way together
        assert _execs(queue.client) - before < len(updates)
        entries = queue.take(500, 1.0)
        assert len(entries) == 120
        keys = [json.loads(payload)["key"] for _, payload in entries]
        assert keys == [e.key for events in updates for e in events]  # each update in order
    finally:
        _forget(queue)


@pytest.mark.parametrize("how", ["aput", "put_claiming"])
def test_a_claim_queued_with_its_update_is_won_once(redis_url, how):
    from qunzhu.live.early_ledger import RedisLedger

    queue = _redis_queue(redis_url)
    ledger = RedisLedger(queue.client, queue.stream)
    first, again = messages(1), messages(1)
    claim = [ledger.key_of("delete-1")]

    async def deliveries() -> list[list[bool]]:
        return [await queue.aput(first, claim), await queue.aput(again, claim)]

    try:
        if how == "aput":
            won = run_coroutine(deliveries())
        else:  # a webhook answered on a worker thread
            won = [queue.put_claiming(first, claim), queue.put_claiming(again, claim)]
        assert won == [[True], [False]]
        assert ledger.claim("delete-1") is False  # the batch's delete sees it claimed
        assert len(queue.take(10, 1.0)) == 2  # both deliveries queued: the batch dedupes
    finally:
        _forget(queue, ledger.key_of("delete-1"))


def test_when_redis_refuses_every_waiting_update_hears_it(redis_url):
    import asyncio

    import redis

    queue = _redis_queue(redis_url)
    queue.url = "redis://127.0.0.1:1/0"  # where the event loop's client connects: nobody

    async def post_two() -> list[Any]:
        return await asyncio.gather(
            queue.aput(messages(1)), queue.aput(messages(1, first=2)), return_exceptions=True
        )

    try:
        errors = run_coroutine(post_two())
        assert len(errors) == 2
        assert all(isinstance(e, redis.ConnectionError) for e in errors), errors
    finally:
        queue.url = redis_url
        _forget(queue)


def test_the_early_watch_passes_by_updates_judged_at_receipt(redis_url):
    """A gateway that judged its updates at receipt queues them ``decided``: the watcher of
    one process must not judge them a second time (CPU the store needed), but the consumer
    still stores them, and undecided ones are still watched."""
    queue = _redis_queue(redis_url)
    judged, plain = messages(2), messages(2, first=3)

    async def post() -> None:
        await queue.aput(judged, decided=True)
        await queue.aput(plain)

    try:
        after = queue.last_id()
        run_coroutine(post())
        _after, watched = queue.watch(after, 1.0)
        keys = [json.loads(payload)["key"] for _, payload in watched]
        assert keys == [e.key for e in plain]
        assert len(queue.take(10, 1.0)) == 4  # all four are stored
    finally:
        _forget(queue)
