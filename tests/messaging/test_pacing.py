from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from qunzhu.messaging.pacing import after_quiet, in_quiet, plan

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = (time(22, 0), time(8, 0))


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def test_quiet_hours_that_wrap_midnight():
    assert in_quiet(time(23, 30), NIGHT) and in_quiet(time(7, 59), NIGHT)
    assert not in_quiet(time(8, 0), NIGHT) and not in_quiet(time(21, 59), NIGHT)
    assert in_quiet(time(13, 0), (time(12, 0), time(14, 0)))
    assert not in_quiet(time(14, 0), (time(12, 0), time(14, 0)))


def test_a_send_in_quiet_hours_waits_for_their_end_in_the_community_time_zone():
    assert after_quiet(_local(2026, 12, 6, 23, 15), NIGHT, SHANGHAI) == _local(2026, 12, 7, 8, 0)
    assert after_quiet(_local(2026, 12, 7, 3, 0), NIGHT, SHANGHAI) == _local(2026, 12, 7, 8, 0)
    noon = _local(2026, 12, 7, 12, 0)
    assert after_quiet(noon, NIGHT, SHANGHAI) == noon


def test_deliveries_now_are_none_and_beyond_the_cap_go_the_next_morning():
    now = _local(2026, 12, 6, 20, 0)
    times = plan(5, now=now, tz=SHANGHAI, quiet=NIGHT, daily_cap=3, planned={})
    assert times[:3] == [None, None, None]
    assert times[3:] == [_local(2026, 12, 7, 8, 0)] * 2


def test_the_cap_counts_what_other_broadcasts_planned_that_day():
    now = _local(2026, 12, 6, 10, 0)
    planned = {date(2026, 12, 6): 2, date(2026, 12, 7): 1}
    times = plan(3, now=now, tz=SHANGHAI, quiet=None, daily_cap=2, planned=planned)
    assert times == [
        _local(2026, 12, 7, 0, 0),
        _local(2026, 12, 8, 0, 0),
        _local(2026, 12, 8, 0, 0),
    ]


def test_a_chosen_time_is_kept_and_moved_out_of_quiet_hours():
    now = _local(2026, 12, 6, 10, 0)
    at = _local(2026, 12, 8, 9, 30)
    assert plan(1, now=now, tz=SHANGHAI, quiet=NIGHT, daily_cap=10, planned={}, send_at=at) == [at]
    late = _local(2026, 12, 8, 23, 0)
    assert plan(1, now=now, tz=SHANGHAI, quiet=NIGHT, daily_cap=10, planned={}, send_at=late) == [
        _local(2026, 12, 9, 8, 0)
    ]
    past = _local(2026, 12, 1, 9, 0)
    assert plan(1, now=now, tz=SHANGHAI, quiet=NIGHT, daily_cap=10, planned={}, send_at=past) == [
        None
    ]
