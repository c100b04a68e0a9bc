"""A calendar day taken from a request (``?day=2025-03-01``), within the years an event may
carry (:mod:`qunzhu.bounds`). Unbounded, ``0001-01-01`` overflowed the week arithmetic of
the reports and answered 500; now it is a 422 naming the parameter."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator

from qunzhu.bounds import EARLIEST, LATEST


def _within_bounds(day: date) -> date:
    if not EARLIEST.date() <= day < LATEST.date():
        raise ValueError(f"{day.isoformat()} is outside {EARLIEST.year}–{LATEST.year - 1}")
    return day


Day = Annotated[date, AfterValidator(_within_bounds)]
