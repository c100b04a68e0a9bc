"""The pacer keeps Telegram's limits with four workers reserving at once: 30 a second in all,
one a second and 20 a minute in one chat; a connector's config may change the rate."""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict

import pytest

from qunzhu.adapters.send_limits import DEFAULTS, limits_for
from qunzhu.live.send_pacing import DailyCapReached, SendPacer


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


def test_a_wechat_account_keeps_its_gap_varies_it_and_stops_at_the_daily_cap():
    from qunzhu.live.send_pacing import DailyCapReached

    clock = Clock()
    draws = itertools.cycle([0.0, 1.5, 0.7])
    limits = limits_for("wechat", {"send_daily_cap": 4})
    pacer = SendPacer(limits, clock, rng=lambda low, high: next(draws) * (high - low) / 2.0)
    times = [t for _, t in _slots(pacer, clock, ["g1", "g2", "g1", "g3"])]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= limits.min_gap for gap in gaps)  # 3 s between any two sends
    assert len({round(gap, 3) for gap in gaps}) > 1  # and not the same every time
    with pytest.raises(DailyCapReached) as full:
        pacer.reserve("g1")
    assert full.value.cap == 4 and 23.9 * 3600 < full.value.free_in <= 24 * 3600
    clock.now = times[0] + 86_400.5  # a day after the first send: one place again
    pacer.reserve("g1")
    with pytest.raises(DailyCapReached):
        pacer.reserve("g1")


def test_pacing_settings_are_checked_and_named():
    from qunzhu.adapters.send_limits import SendLimitsError

    assert limits_for("wechat", {}).daily_cap == 300
    assert limits_for("wechat", {"send_daily_cap": 0}).daily_cap == 0
    for bad, name in (
        ({"send_min_gap": "soon"}, "send_min_gap"),
        ({"send_jitter": -1}, "send_jitter"),
    ):
        with pytest.raises(SendLimitsError, match=name):
            limits_for("wechat", bad)


def test_try_reserve_takes_only_a_slot_free_now():
    clock = Clock()
    pacer = SendPacer(limits_for("wechat", {"send_jitter": 0, "send_daily_cap": 2}), clock)
    assert pacer.try_reserve("g1")
    assert not pacer.try_reserve("g1")  # the group's gap and the account's are not over
    assert pacer.reserve("g2") > 0  # the refusal took no slot: the next is the first's + gap
    clock.now += 3600.0
    assert not pacer.try_reserve("g3")  # the daily cap (2) is reached
    with pytest.raises(DailyCapReached):
        pacer.reserve("g3")


def test_try_reserve_never_takes_a_slot_with_jitter_to_wait_out():
    clock = Clock()
    pacer = SendPacer(limits_for("wechat", {"send_daily_cap": 0}), clock)
    assert not pacer.try_reserve("g1")
    assert pacer.reserve("g1") <= 2.0  # only its jitter: the refusal reserved nothing


def test_reserve_within_takes_a_slot_that_frees_up_soon_and_says_how_soon():
    clock = Clock()
    limits = {"send_per_second": 1000, "send_min_gap": 0.001, "send_jitter": 0,
              "send_daily_cap": 3}  # fmt: skip
    pacer = SendPacer(limits_for("wechat", limits), clock)
    assert pacer.reserve_within("g1", 0.25) == 0.0
    wait = pacer.reserve_within("g2", 0.25)  # the account's gap after the first
    assert wait is not None and 0.0 < wait <= 0.25
    assert pacer.reserve_within("g3", 0.0) is None  # not free now: nothing reserved
    third = pacer.reserve_within("g3", 0.25)
    assert third is not None and wait is not None and third > wait  # after the second's
    clock.now += 1.0
    assert pacer.reserve_within("g4", 0.25) is None  # the daily cap (3) is reached


def test_reserve_within_never_takes_a_slot_further_off_or_with_jitter():
    clock = Clock()
    pacer = SendPacer(limits_for("wechat", {"send_jitter": 0, "send_daily_cap": 0}), clock)
    assert pacer.reserve_within("g1", 0.25) == 0.0
    assert pacer.reserve_within("g1", 0.25) is None  # WeChat's 3 s gap is further off
    assert pacer.reserve("g1") == pytest.approx(3.0)  # the refusal reserved nothing
    jittered = SendPacer(limits_for("wechat", {"send_daily_cap": 0}), Clock())
    assert jittered.reserve_within("g1", 10.0) is None


def test_reserve_within_takes_a_slot_only_as_near_as_asked():
    clock = Clock()
    pacer = SendPacer(limits_for("wechat", {"send_jitter": 0, "send_daily_cap": 3}), clock)
    assert pacer.reserve_within("g1", 0.0) == 0.0  # free now
    assert pacer.reserve_within("g2", 1.0) is None  # 3 s away (the account's gap)
    assert pacer.reserve_within("g2", 3.5) == pytest.approx(3.0)  # taken, in order
    assert pacer.reserve("g3") == pytest.approx(6.0)  # after the one reserved within
    clock.now += 3600.0
    assert pacer.reserve_within("g4", 10.0) is None  # the daily cap (3) is reached
    jittered = SendPacer(limits_for("wechat", {"send_daily_cap": 0}), clock)
    assert jittered.reserve_within("g1", 10.0) is None  # a random delay is a worker's wait
