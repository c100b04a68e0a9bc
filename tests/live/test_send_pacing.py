"""The pacer keeps Telegram's limits with four workers reserving at once: 30 a second in all,
one a second and 20 a minute in one chat; a connector's config may change the rate."""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict

import pytest

from qunzhu.adapters.send_limits import DEFAULTS, limits_for
from qunzhu.live.send_pacing import SendPacer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _slots(pacer: SendPacer, clock: Clock, chats: list[str]) -> list[tuple[str, float]]:
    return [(chat, clock.now + pacer.reserve(chat)) for chat in chats]


def _worst_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


def test_many_groups_go_at_the_global_rate():
    clock = Clock()
    pacer = SendPacer(DEFAULTS["telegram"], clock)
    slots = _slots(pacer, clock, [f"g{n}" for n in range(300)])
    assert _worst_second([t for _, t in slots]) <= 30
    assert slots[-1][1] - slots[0][1] == pytest.approx(299 / 30 * 1.05, rel=1e-3)  # no slower


def test_one_chat_gets_one_a_second_and_twenty_a_minute():
    clock = Clock()
    pacer = SendPacer(DEFAULTS["telegram"], clock)
    times = [t for _, t in _slots(pacer, clock, ["g"] * 45)]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))
    for i in range(len(times) - 20):
        assert times[i + 20] - times[i] >= 60.0


def test_workers_reserving_together_never_share_a_slot():
    pacer = SendPacer(DEFAULTS["telegram"])
    got: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()

    def work(n: int) -> None:
        for k in range(50):
            wait = pacer.reserve(f"g{(n * 50 + k) % 120}")
            with lock:
                got["all"].append(wait)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got["all"]) == 200 and len({round(w, 9) for w in got["all"]}) >= 195


def test_a_connector_may_set_its_own_rate_within_bounds():
    assert limits_for("telegram", {"send_per_second": 5}).per_second == 5.0
    assert limits_for("telegram", {"send_per_second": 10**9}).per_second == 1000.0
    assert limits_for("unknown", {}).per_second > 0
