"""The ledger of early deletes, in memory and in Redis: the first claim sends, a settled
outcome is what the batch's delete records, a claim nobody settles is done again."""

from __future__ import annotations

import threading
import uuid

import pytest

from qunzhu.live.early_ledger import MemoryLedger, RedisLedger


@pytest.fixture(params=["memory", "redis"])
def ledger(request: pytest.FixtureRequest):
    if request.param == "memory":
        yield MemoryLedger(size=3)
        return
    import redis

    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    space = f"test-{uuid.uuid4().hex}"
    yield RedisLedger(client, space)
    client.delete(*client.keys(f"qunzhu:early:{space}:*") or ["-"])


def test_only_the_first_claim_sends(ledger):
    assert ledger.claim("k1") is True
    assert ledger.claim("k1") is False
    assert ledger.claim("k2") is True


def test_an_unknown_key_has_no_outcome(ledger):
    assert ledger.outcome("never", 0.0) is None


def test_the_settled_outcome_is_given_back(ledger):
    ledger.claim("k1")
    ledger.settle("k1", ("sent", 2, None, {"deleted": True}))
    assert ledger.outcome("k1", 0.0) == ("sent", 2, None, {"deleted": True})


def test_a_waiting_batch_gets_the_outcome_once_it_is_settled(ledger):
    ledger.claim("k1")
    threading.Timer(0.2, ledger.settle, args=("k1", ("failed", 5, "gave up", {}))).start()
    assert ledger.outcome("k1", 10.0) == ("failed", 5, "gave up", {})


def test_a_claim_never_settled_is_not_an_outcome(ledger):
    ledger.claim("k1")  # the process that claimed it died before sending
    assert ledger.outcome("k1", 0.05) is None  # so the batch deletes it itself


def test_memory_forgets_the_oldest_beyond_its_size():
    ledger = MemoryLedger(size=2)
    for key in ("a", "b", "c"):
        assert ledger.claim(key)
    assert ledger.claim("a") is True  # forgotten: far older than any redelivery
    assert ledger.claim("c") is False
