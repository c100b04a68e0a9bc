"""``messaging``: when and how much qunzhu may say on its own initiative (broadcasts).

Quiet hours hold a planned send until they end, in the community's time zone; the daily cap
limits how many messages a day the community's broadcasts send in all (the rest go the next
day), so a careless "send to every member" does not flood anyone or get the bot banned.
"""

from __future__ import annotations

import re
from datetime import time

from pydantic import Field, field_validator

from qunzhu.spec.base import SpecModel

_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class Messaging(SpecModel):
    quiet_hours: str | None = Field(
        None, description='no broadcast is sent in this window, e.g. "22:00-08:00"'
    )
    daily_cap: int = Field(
        2000, ge=1, le=1_000_000, description="messages a day all broadcasts may send"
    )

    welcome_batch: int = Field(
        10, ge=1, le=50, description="new members one welcome names at most (a burst of joins)"
    )

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None and not _WINDOW.match(value):
            raise ValueError('quiet hours look like "22:00-08:00" (静默时段格式如 "22:00-08:00")')
        if value is not None and value[:5] == value[6:]:
            raise ValueError("quiet hours start and end at the same time (静默时段起止相同)")
        return value

    def quiet_window(self) -> tuple[time, time] | None:
        if self.quiet_hours is None:
            return None
        start, end = self.quiet_hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)
