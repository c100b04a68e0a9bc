"""Flooding and same-text windows shared through Redis by several workers, the fallback
when Redis fails, and the live moderator's settings (model file, Redis)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis

from qunzhu.events import MessagePosted
from qunzhu.moderation.behaviour import Behaviour, SharedBehaviour, behaviour_for
from qunzhu.moderation.classifier import ModelError, SpamModel
from qunzhu.moderation.moderator import RuleModerator
from qunzhu.settings import load_settings
from qunzhu.spec.rules import DuplicateAcrossGroupsRule, FloodingRule, Rules

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
RULES = Rules(
    flooding=FloodingRule(max_messages=3, per_seconds=10),
    duplicate_across_groups=DuplicateAcrossGroupsRule(max_groups=2, per_seconds=60),
)


def _m(n: int, text: str, *, group: str = "g1", seconds: float = 0) -> MessagePosted:
    return MessagePosted(
        platform="test",
        community="c",
        group=group,
        member="u1",
        occurred_at=T0 + timedelta(seconds=seconds),
        message_id=f"m{n}",
        text=text,
    )


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"qunzhu:test:{uuid.uuid4().hex}:"
    yield name
    client = Redis.from_url(redis_url)
    for key in client.scan_iter(match=name + "*"):
        client.delete(key)


def _worker(redis_url: str, prefix: str) -> SharedBehaviour:
    return SharedBehaviour(Redis.from_url(redis_url), prefix=prefix)


def _rules(found: list[object]) -> list[str]:
    return [f.rule for f in found]  # type: ignore[attr-defined]


def test_two_workers_count_one_flood_window(redis_url: str, prefix: str) -> None:
    first, second = _worker(redis_url, prefix), _worker(redis_url, prefix)
    hits = []
    for n in range(5):
        worker = first if n % 2 == 0 else second  # the member's messages spread over both
        hits.append(bool(worker.observe(_m(n, f"msg {n}", seconds=n), f"msg {n}", RULES)))
    assert hits == [False, False, False, True, True]
    # each alone would have seen at most three messages: only the shared window catches it
    assert second.observe(_m(9, "calm", seconds=60), "calm", RULES) == []


def test_a_message_delivered_twice_counts_once(redis_url: str, prefix: str) -> None:
    worker = _worker(redis_url, prefix)
    again = _m(1, "same message", seconds=1)
    for _ in range(5):
        assert worker.observe(again, "same message", RULES) == []


def test_the_same_text_across_groups_seen_by_different_workers(redis_url: str, prefix: str) -> None:
    workers = [_worker(redis_url, prefix) for _ in range(3)]
    text = "全网最低价 限时抢购"
    found = [
        workers[n].observe(_m(n, text, group=f"g{n}", seconds=n * 20), text, RULES)
        for n in range(3)
    ]
    assert [_rules(f) for f in found] == [[], [], ["duplicate_across_groups"]]
    assert found[2][0].detail["groups"] == 3
    # short texts repeat honestly and are not counted
    assert all(
        not workers[0].observe(_m(10 + n, "+1", group=f"g{n}"), "+1", RULES) for n in range(4)
    )


def test_a_prepared_batch_counts_like_one_message_at_a_time(redis_url: str, prefix: str) -> None:
    events = [_m(n, "刷屏广告 加我看看", group=f"g{n % 4}", seconds=n) for n in range(8)]
    batch = [(e, e.text, RULES) for e in events]
    shared = _worker(redis_url, prefix)
    shared.prepare(batch)
    local = Behaviour()
    assert [shared.observe(e, e.text, RULES) for e in events] == [
        local.observe(e, e.text, RULES) for e in events
    ]


def test_without_redis_the_windows_are_counted_in_process() -> None:
    # nothing listens on port 1: every command fails, moderation goes on
    gone = SharedBehaviour(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2))
    events = [_m(n, f"msg {n}", seconds=n) for n in range(5)]
    gone.prepare([(e, e.text, RULES) for e in events])
    hits = [bool(gone.observe(e, e.text, RULES)) for e in events]
    assert hits == [False, False, False, True, True]


def test_behaviour_follows_the_redis_setting(redis_url: str) -> None:
    assert type(behaviour_for(None)) is Behaviour
    assert isinstance(behaviour_for(redis_url), SharedBehaviour)


def test_the_live_moderator_uses_the_model_of_the_setting(tmp_path: Path) -> None:
    import numpy as np

    from qunzhu.moderation.features import FeatureConfig

    config = FeatureConfig(dim_bits=10)
    own = SpamModel(np.zeros(config.dim, dtype=np.float32), 2.0, config, {"name": "own"})
    path = tmp_path / "own.npz"
    own.save(path)
    moderator = RuleModerator.from_settings(
        load_settings(moderation_model=str(path), redis_url=None)
    )
    assert moderator.model.about == {"name": "own"} and moderator.model.config == config
    assert type(moderator.behaviour) is Behaviour  # no Redis configured
    with pytest.raises(ModelError, match=r"QUNZHU_MODERATION_MODEL: .*missing\.npz"):
        RuleModerator.from_settings(load_settings(moderation_model=str(tmp_path / "missing.npz")))
