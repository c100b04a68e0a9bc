"""One chunk of events on its way to the store, with their row ids resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from qunzhu import events as ev


@dataclass(slots=True)
class Resolved:
    event: ev.Event
    community_id: int
    group_id: int
    member_id: int
    day: date
    other_member_id: int | None = None  # inviter, remover
    flagged: bool = False


@dataclass
class Written:
    """What one chunk added: the new items by event type name, and reply links made."""

    new: dict[str, list[Resolved]] = field(default_factory=dict)
    replies: int = 0
    message_ids: dict[str, int] = field(default_factory=dict)  # event key -> messages.id

    def of(self, type_name: str) -> list[Resolved]:
        return self.new.get(type_name, [])


def raw_payload(event: ev.Event) -> Any:
    return event.raw if event.raw is None or isinstance(event.raw, str) else dict(event.raw)
