"""When each delivery of a broadcast may go: not in quiet hours, not beyond the community's
daily cap (counted over every broadcast of the day), not before the time the operator chose.

Pure: the caller gives the deliveries already planned per local day; times are UTC in and out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def in_quiet(local: time, window: tuple[time, time] | None) -> bool:
    if window is None:
        return False
    start, end = window
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window wraps midnight: 22:00-08:00


def after_quiet(moment: datetime, window: tuple[time, time] | None, tz: ZoneInfo) -> datetime:
    """``moment`` if it is outside the window, else the end of the window."""
    local = moment.astimezone(tz)
    if window is None or not in_quiet(local.time(), window):
        return moment
    end = window[1]
    day = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


def plan(
    count: int,
    *,
    now: datetime,
    tz: ZoneInfo,
    quiet: tuple[time, time] | None,
    daily_cap: int,
    planned: Mapping[date, int],
    send_at: datetime | None = None,
) -> list[datetime | None]:
    """A time for each of ``count`` deliveries, in order; None for "now"."""
    used = Counter(planned)
    moment = after_quiet(max(send_at or now, now), quiet, tz)
    out: list[datetime | None] = []
    for _ in range(count):
        day = moment.astimezone(tz).date()
        while used[day] >= daily_cap:
            day += timedelta(days=1)
            moment = after_quiet(
                datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC), quiet, tz
            )
            day = moment.astimezone(tz).date()
        used[day] += 1
        out.append(None if moment <= now else moment)
    return out
