from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qunzhu.messaging.recurrence import RecurrenceError, check, first_after, zone

SHANGHAI, BERLIN = zone("Asia/Shanghai"), zone("Europe/Berlin")


def test_a_monday_topic_recurs_on_mondays_in_its_time_zone():
    start = datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)  # a Monday
    now = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    nxt = first_after("FREQ=WEEKLY;BYDAY=MO", start, SHANGHAI, now)
    assert nxt == datetime(2026, 12, 14, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert nxt.astimezone(SHANGHAI).weekday() == 0


def test_local_time_holds_across_summer_time():
    start = datetime(2027, 3, 22, 9, 0, tzinfo=BERLIN)  # winter time, UTC+1
    first = check("FREQ=WEEKLY;BYDAY=MO", start, BERLIN, datetime(2027, 3, 1, tzinfo=UTC))
    after = first_after("FREQ=WEEKLY;BYDAY=MO", start, BERLIN, first)
    assert (first.hour, after.hour) == (8, 7)  # 09:00 local both weeks; summer time from 28 March
    assert after.astimezone(BERLIN).hour == 9


@pytest.mark.parametrize(
    ("rule", "start", "field", "words"),
    [
        ("FREQ=WEEKLY;COUNT=1", datetime(2026, 1, 5, 9, tzinfo=UTC), "rrule", "never goes out"),
        (None, datetime(2026, 1, 5, 9, tzinfo=UTC), "starts_at", "never goes out"),
        ("FREQ=MINUTELY", datetime(2026, 12, 8, 9, tzinfo=UTC), "rrule", "once an hour"),
        ("EVERY MONDAY", datetime(2026, 12, 8, 9, tzinfo=UTC), "rrule", "RFC 5545"),
        ("", datetime(2026, 12, 8, 9, tzinfo=UTC), "rrule", "empty"),
    ],
)
def test_a_rule_that_cannot_be_used_is_named(rule, start, field, words):
    with pytest.raises(RecurrenceError) as caught:
        check(rule, start, SHANGHAI, datetime(2026, 12, 6, tzinfo=UTC))
    assert caught.value.field == field and words in str(caught.value)


def test_an_unknown_time_zone_is_named():
    with pytest.raises(RecurrenceError) as caught:
        zone("Mars/Olympus")
    assert caught.value.field == "timezone"
