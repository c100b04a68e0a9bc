"""When a planned post recurs: an RFC 5545 RRULE (``FREQ=WEEKLY;BYDAY=MO``) read by
python-dateutil, counted in the post's own time zone — "Mondays at 9:00" stays 9:00 across
a change to summer time — and checked before it is saved: a rule that does not parse, never
fires, or fires more than once an hour is an error that says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

MIN_GAP = timedelta(hours=1)


class RecurrenceError(ValueError):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RecurrenceError(
            f"unknown time zone {name!r}, e.g. Asia/Shanghai", field="timezone"
        ) from None


def parse(rule: str, starts_at: datetime, tz: ZoneInfo) -> rrule:
    text = rule.strip().removeprefix("RRULE:")
    if not text:
        raise RecurrenceError("the recurrence rule is empty", field="rrule")
    try:
        parsed = rrulestr(text, dtstart=starts_at.astimezone(tz))
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(
            f"not an RFC 5545 RRULE ({exc}), e.g. FREQ=WEEKLY;BYDAY=MO", field="rrule"
        ) from None
    if not isinstance(parsed, rrule):
        raise RecurrenceError("one RRULE, not a set of rules", field="rrule")
    return parsed


def first_after(
    rule: str | None, starts_at: datetime, tz: ZoneInfo, after: datetime, *, inclusive: bool = False
) -> datetime | None:
    """The first occurrence after ``after`` (at it, with ``inclusive``), in UTC; None when the
    post does not occur again."""
    if rule is None:
        once = starts_at.astimezone(UTC)
        return once if (once > after or (inclusive and once == after)) else None
    found = parse(rule, starts_at, tz).after(after.astimezone(tz), inc=inclusive)
    return None if found is None else found.astimezone(UTC)


def check(rule: str | None, starts_at: datetime, tz: ZoneInfo, now: datetime) -> datetime:
    """The first occurrence from now; raises when the rule is unusable."""
    first = first_after(rule, starts_at, tz, now, inclusive=True)
    if first is None:
        where = "rrule" if rule is not None else "starts_at"
        raise RecurrenceError(
            "the post never goes out: its time (and every repetition) is in the past", field=where
        )
    if rule is not None:
        second = first_after(rule, starts_at, tz, first)
        if second is not None and second - first < MIN_GAP:
            raise RecurrenceError(
                "a planned post repeats at most once an hour (FREQ=HOURLY or slower)", field="rrule"
            )
    return first
