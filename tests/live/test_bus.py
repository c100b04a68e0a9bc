"""The Redis Streams bus against a real Redis: at-least-once delivery, exactly-once effect."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from qunzhu import events as ev
from qunzhu.live import bus
from qunzhu.pipeline import Pipeline
from qunzhu.store.models import Community, Message, Quarantine

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def client(redis_url):
    client = bus.connect(redis_url)
    yield client
    client.close()


@pytest.fixture
def stream(client):
    name = f"qz-test:{uuid.uuid4().hex}"
    yield name
    client.delete(name)


@pytest.fixture
def community(store):
    with store.unit_of_work() as s:
        s.add(Community(slug="c", name="C"))


def _messages(n: int, start: int = 0):
    return [
        ev.MessagePosted(
            platform="telegram",
            community="c",
            group="-100",
            member=f"u{i % 9}",
            occurred_at=T0 + timedelta(seconds=i),
            message_id=str(i),
            text=f"m{i}",
        )
        for i in range(start, start + n)
    ]


def _stored(store) -> int:
    with store.reading() as s:
        return s.scalar(select(func.count()).select_from(Message))


def test_two_workers_store_every_event_once(store, community, client, stream):
    bus.publish(client, _messages(600), stream=stream)
    workers = [
        bus.Worker(client, Pipeline(store), name=f"w{n}", stream=stream, batch=50, block_ms=100)
        for n in range(2)
    ]
    threads = [threading.Thread(target=w.run, kwargs={"max_idle_polls": 3}) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert _stored(store) == 600
    assert sum(w.stats.delivered for w in workers) == 600
    assert client.xpending(stream, bus.GROUP)["pending"] == 0


def test_batch_of_a_dead_worker_is_claimed_and_not_doubled(store, community, client, stream):
    bus.publish(client, _messages(100), stream=stream)
    bus.ensure_group(client, stream)
    # a worker reads a batch and dies before acknowledging it
    client.xreadgroup(bus.GROUP, "dead", {stream: ">"}, count=40)
    survivor = bus.Worker(
        client,
        Pipeline(store),
        name="alive",
        stream=stream,
        batch=100,
        block_ms=50,
        claim_idle_ms=0,
    )
    survivor.run(max_idle_polls=2)
    assert survivor.stats.claimed == 40
    assert _stored(store) == 100
    # the dead worker's batch was in fact stored before it died: a redelivery changes nothing
    bus.publish(client, _messages(40), stream=stream)
    survivor.run(max_idle_polls=2)
    assert _stored(store) == 100
    assert client.xpending(stream, bus.GROUP)["pending"] == 0


def test_a_garbled_entry_is_quarantined_and_acknowledged(store, community, client, stream):
    bus.ensure_group(client, stream)
    client.xadd(stream, {"event": b"{not json"})
    bus.publish(client, _messages(3), stream=stream)
    worker = bus.Worker(client, Pipeline(store), stream=stream, block_ms=50)
    worker.run(max_idle_polls=2)
    assert _stored(store) == 3
    with store.reading() as s:
        reasons = s.scalars(select(Quarantine.reason)).all()
    assert len(reasons) == 1 and "entry" in reasons[0]
    assert client.xpending(stream, bus.GROUP)["pending"] == 0
