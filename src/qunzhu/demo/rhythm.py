"""Time in the sample community: which days, which hours people talk, how long replies take.

Everything is drawn from a caller's ``random.Random`` so that one seed gives one history.
Days are Shanghai calendar days: the operators and most members live there, and the
dashboards count days in that zone by default.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS = 90
LIVE_DAYS = 7  # the last days `qunzhu demo` feeds through the live pipeline (moderation)

# Relative chat volume per hour on a working day: a commute bump, lunch, and the evening
# peak when learners are off work; almost nothing between 3 and 5 am.
WORKDAY: tuple[float, ...] = (
    0.6,
    0.3,
    0.12,
    0.06,
    0.05,
    0.1,
    0.35,
    1.1,
    1.9,
    2.3,
    2.5,
    2.3,
    2.9,
    2.2,
    1.9,
    2.1,
    2.1,
    2.0,
    2.0,
    2.8,
    4.0,
    4.6,
    3.9,
    2.0,
)
# Weekends start late and spread over the afternoon; the evening peak stays but is lower.
WEEKEND: tuple[float, ...] = (
    1.0,
    0.6,
    0.3,
    0.1,
    0.05,
    0.05,
    0.1,
    0.3,
    0.7,
    1.3,
    2.0,
    2.3,
    2.2,
    2.0,
    2.4,
    2.6,
    2.5,
    2.2,
    2.0,
    2.4,
    3.0,
    3.4,
    3.0,
    1.8,
)
# Members abroad (the English group) talk in their own evening, which is Shanghai morning.
ABROAD: tuple[float, ...] = (
    1.2,
    0.9,
    0.8,
    0.9,
    1.2,
    1.6,
    2.2,
    2.8,
    3.2,
    3.0,
    2.4,
    1.8,
    1.2,
    0.8,
    0.6,
    0.5,
    0.5,
    0.6,
    0.8,
    1.0,
    1.4,
    1.6,
    1.5,
    1.3,
)
# How likely someone who could answer is awake and reading, per hour.
AWAKE: tuple[float, ...] = (
    0.35,
    0.2,
    0.08,
    0.05,
    0.05,
    0.08,
    0.3,
    0.7,
    0.9,
    1.0,
    1.0,
    1.0,
    1.0,
    0.9,
    1.0,
    1.0,
    1.0,
    1.0,
    1.0,
    1.0,
    1.0,
    1.0,
    0.9,
    0.6,
)


def default_now() -> datetime:
    """Today at 00:00 in Shanghai: the sample's 90 days end there."""
    return datetime.combine(datetime.now(SHANGHAI).date(), time(), SHANGHAI)


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 40:  # Knuth's product method underflows; the normal shape is close enough here
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def gap(rng: random.Random, median_seconds: float, sigma: float = 0.8) -> timedelta:
    """A pause between two messages: log-normal, as reply times in chats are."""
    seconds = median_seconds * math.exp(rng.gauss(0.0, sigma))
    return timedelta(seconds=max(3, round(seconds)))


class Clock:
    """The 90 Shanghai days that end at ``now`` (floored to midnight, so any moment of one
    day gives the same history and loading twice on that day adds nothing)."""

    def __init__(self, now: datetime | None = None) -> None:
        moment = default_now() if now is None else now
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=SHANGHAI)
        local = moment.astimezone(SHANGHAI)
        self.end = datetime.combine(local.date(), time(), SHANGHAI)
        self.start = self.end - timedelta(days=DAYS)

    def day_start(self, day: int) -> datetime:
        return self.start + timedelta(days=day)

    def day_of(self, moment: datetime) -> int:
        return (moment.astimezone(SHANGHAI) - self.start).days

    def weekend(self, day: int) -> bool:
        return self.day_start(day).weekday() >= 5

    def at(self, day: int, hour: float) -> datetime:
        return self.day_start(day) + timedelta(seconds=round(hour * 3600))

    def curve(self, day: int, abroad: float = 0.0) -> list[float]:
        base = WEEKEND if self.weekend(day) else WORKDAY
        return [(1 - abroad) * b + abroad * a for b, a in zip(base, ABROAD, strict=True)]

    def moment(
        self,
        rng: random.Random,
        day: int,
        curve: Sequence[float] | None = None,
        hours: tuple[int, int] = (0, 24),
    ) -> datetime:
        """A moment of ``day`` drawn from the hourly curve, limited to ``hours``."""
        weights = list(curve if curve is not None else self.curve(day))
        for h in range(24):
            if not hours[0] <= h < hours[1]:
                weights[h] = 0.0
        hour = rng.choices(range(24), weights)[0]
        return self.day_start(day) + timedelta(hours=hour, seconds=rng.randrange(3600))
