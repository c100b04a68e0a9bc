"""Small pieces the page queries share: time windows and paging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of ``day`` in the community's time zone, as UTC."""
    return datetime.combine(day, time(), tz).astimezone(UTC)


def window(today: date, days: int) -> tuple[date, date]:
    """The ``days`` days ending with ``today`` (inclusive), as (first, last)."""
    return today - timedelta(days=days - 1), today


@dataclass(frozen=True, slots=True)
class Page:
    """Which slice of a long list is shown; ``number`` counts from 1."""

    number: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_of(number: int, size: int, total: int) -> Page:
    pages = max(1, -(-total // size))
    return Page(number=min(max(1, number), pages), size=size, total=total)
