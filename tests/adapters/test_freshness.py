"""Signed callbacks are taken within a time window and once."""

from __future__ import annotations

import pytest

from qunzhu.adapters.freshness import Freshness, StaleCallback

NOW = 1_800_000_000.0


def _fresh(window: float = 300) -> Freshness:
    return Freshness(window, clock=lambda: NOW)


def test_a_callback_within_the_window_is_taken_once():
    fresh = _fresh()
    fresh.check(str(int(NOW) - 60), "sig-a")
    fresh.accepted(str(int(NOW) - 60), "sig-a")
    with pytest.raises(StaleCallback, match="replay"):
        fresh.check(str(int(NOW) - 60), "sig-a")
    fresh.check(str(int(NOW) - 60), "sig-b")  # another callback of the same second


def test_a_callback_that_failed_may_come_again():
    fresh = _fresh()
    fresh.check(str(int(NOW)), "sig-a")  # handled with an error: not accepted
    fresh.check(str(int(NOW)), "sig-a")


@pytest.mark.parametrize(
    ("timestamp", "says"),
    [
        (str(int(NOW) - 30 * 86400), "30.0 days old"),
        (str(int(NOW) + 3600), "3600 s in the future"),
        ("yesterday", "not a Unix time"),
        ("nan", "not a time"),
    ],
)
def test_an_old_future_or_unreadable_timestamp_is_refused_with_its_age(timestamp, says):
    with pytest.raises(StaleCallback, match=says):
        _fresh().check(timestamp, "sig")


def test_a_window_of_zero_switches_the_check_off():
    fresh = _fresh(0)
    fresh.check("0", "sig")
    fresh.accepted("0", "sig")
    fresh.check("0", "sig")
