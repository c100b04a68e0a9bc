"""`qunzhu serve` split in two over Redis: the web process answers webhooks and deletes ads
at receipt, the live worker stores and carries out the rest. Each ad is deleted once, the
decision records the outcome, a redelivery changes nothing, and a real worker process
started by LiveProcess picks the queue up (also after it was killed)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from connector_fakes import telegram as tg
from qunzhu_tests import add_member
from qunzhu_tests_connectors import (
    SPAM,
    count,
    post_update,
    rows,
    serving,
    telegram_bot,
    wait_until,
)
from sqlalchemy import select

from qunzhu.live.hub import ConnectorHub, load_infos
from qunzhu.live.process import LiveProcess
from qunzhu.live.queue import RedisQueue
from qunzhu.moderation.early import EARLY
from qunzhu.settings import Settings
from qunzhu.store import Store
from qunzhu.store.connectors import ConnectorAction
from qunzhu.store.models import Message, ModerationAction

CHAT = "-1001234567890"
NOW = int(time.time()) - 600


@pytest.fixture
def fake(fake_telegram: tg.FakeTelegram) -> tg.FakeTelegram:
    return fake_telegram


@pytest.fixture
def stream(redis_url: str) -> Iterator[str]:
    import redis

    name = f"qunzhu:test-split:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(redis_url)
    client.delete(name, *client.keys(f"{name}:*"), *client.keys(f"qunzhu:early:{name}:*"))


def _queue(redis_url: str, stream: str, consumer: str) -> RedisQueue:
    return RedisQueue(redis_url, stream=stream, consumer=consumer)


def test_the_web_deletes_at_receipt_and_the_worker_does_the_rest_once(
    store, community, fake, redis_url, stream
):
    web = ConnectorHub(store, role="web", durable=_queue(redis_url, stream, "t-web"))
    worker = ConnectorHub(
        store, role="worker", durable=_queue(redis_url, stream, "t-worker"), backoff=0.05
    )
    try:
        telegram_bot(store, web, fake)
        worker.add(next(i for i in load_infos(store) if i.name == "tgbot"))
        with serving(store, web) as server:
            spam = tg.message_update(1, 501, 1001, SPAM, date=NOW)
            assert post_update(server, spam).status_code == 200
            # the delete went out from the web process, before anything was stored
            wait_until(lambda: fake.called("deleteMessage"), 30, what="the early delete")
            assert web.executor.drain()
            assert fake.called("sendMessage") == []  # the warning is the batch's
            assert (
                post_update(
                    server, tg.message_update(2, 502, 1002, "大家早上好", date=NOW)
                ).status_code
                == 200
            )
            worker.start()
            wait_until(lambda: count(store, Message) == 2, 30, what="the worker to store both")
            wait_until(lambda: fake.called("sendMessage"), 30, what="the warning")
            assert post_update(server, spam).status_code == 200  # Telegram redelivers the ad
            assert worker.sink.drain(30)
            assert worker.executor.drain() and web.executor.drain()
    finally:
        worker.stop()
        web.stop()
    assert fake.called("deleteMessage") == [{"chat_id": CHAT, "message_id": 501}]
    [warn] = fake.called("sendMessage")
    assert "禁止留联系方式拉人" in warn["text"]
    assert count(store, Message) == 2
    # the decision the batch wrote records what the early delete did
    [(outcome,)] = rows(store, select(ModerationAction.outcome))
    assert outcome == "sent"
    logged = rows(store, select(ConnectorAction.kind, ConnectorAction.status))
    assert sorted(logged) == [("delete_message", "sent"), ("warn", "sent")]


def test_an_early_delete_that_fails_goes_the_workers_way_with_its_retries(
    store, community, fake, redis_url, stream
):
    fake.fail("deleteMessage", 500, "Internal Server Error")  # the first call, then it works
    web = ConnectorHub(store, role="web", durable=_queue(redis_url, stream, "t-web"), backoff=0.05)
    try:
        telegram_bot(store, web, fake)
        with serving(store, web) as server:
            assert (
                post_update(server, tg.message_update(1, 501, 1001, SPAM, date=NOW)).status_code
                == 200
            )
            wait_until(lambda: len(fake.called("deleteMessage")) >= 2, 30, what="the retry")
            assert web.executor.drain()
    finally:
        web.stop()
    [(status, attempts)] = rows(store, select(ConnectorAction.status, ConnectorAction.attempts))
    assert (status, attempts) == ("sent", 2)


def test_a_protected_member_is_not_deleted_early(store, community, fake, redis_url, stream):
    add_member(store, community, "1001", protected=True)
    web = ConnectorHub(store, role="web", durable=_queue(redis_url, stream, "t-web"))
    try:
        telegram_bot(store, web, fake)
        with serving(store, web) as server:
            assert (
                post_update(server, tg.message_update(1, 501, 1001, SPAM, date=NOW)).status_code
                == 200
            )
            assert web.executor.drain()
    finally:
        web.stop()
    assert fake.called("deleteMessage") == []


def _settings(store: Store, redis_url: str, stream: str) -> Settings:
    return store.settings.model_copy(
        update={"redis_url": redis_url, "live_stream": stream, "live_nice": 0}
    )


def test_serve_starts_a_worker_process_that_stores_and_comes_back_after_a_kill(
    store, community, fake, redis_url, stream
):
    settings = _settings(store, redis_url, stream)
    split = Store(settings)
    web = ConnectorHub(split, role="web")
    live = LiveProcess(settings, backoff=0.2)
    try:
        telegram_bot(split, web, fake)
        with serving(split, web) as server:
            assert live.start(ready_timeout=120), "the worker process did not get ready"
            for n in range(1, 4):
                update = tg.message_update(n, 500 + n, 1000 + n, f"第 {n} 条", date=NOW + n)
                assert post_update(server, update).status_code == 200
            wait_until(lambda: count(store, Message) == 3, 60, "the worker process to store")
            first = live.describe()["pid"]
            assert live.proc is not None
            live.proc.kill()  # as the OOM killer would
            for n in range(4, 7):  # answered while no worker runs: they wait in Redis
                update = tg.message_update(n, 500 + n, 1000 + n, f"第 {n} 条", date=NOW + n)
                assert post_update(server, update).status_code == 200
            wait_until(lambda: count(store, Message) == 6, 120, "the restarted worker to store")
            assert live.describe()["pid"] != first and live.starts == 2
    finally:
        live.stop()
        web.stop()
        split.dispose()
    assert count(store, Message) == 6
    assert live.describe()["running"] is False


def test_a_split_hub_needs_redis(store):
    with pytest.raises(ValueError, match="QUNZHU_REDIS_URL"):
        ConnectorHub(store, role="web", durable=None)


def test_early_actions_are_marked(store, community, fake, redis_url, stream):
    web = ConnectorHub(store, role="web", durable=_queue(redis_url, stream, "t-web"))
    seen: list[Any] = []
    web.executor.on_done = lambda action, status: seen.append((action, status))
    try:
        telegram_bot(store, web, fake)
        with serving(store, web) as server:
            post_update(server, tg.message_update(1, 501, 1001, SPAM, date=NOW))
            wait_until(lambda: seen, 30, what="the early delete")
    finally:
        web.stop()
    [(action, status)] = seen
    assert action.kind == "delete_message" and action.detail[EARLY] is True and status == "sent"


def test_the_start_up_heap_leaves_the_collectors_sight():
    import gc

    from qunzhu.live.process import freeze_startup_heap

    kept = [[n] for n in range(1000)]  # lives as long as a serving process would
    before = gc.get_freeze_count()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() >= before + len(kept)
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
