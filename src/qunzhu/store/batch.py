"""One chunk of events on its way to the store, with their row ids resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from qunzhu import events as ev


class Place(NamedTuple):
    """The one group a run's rows (messages without an event each) belong to."""

    community: str  # slug
    platform: str
    group: str  # the platform's group id


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
    """What one chunk added: the new items by event type name, and reply links made; and
    the rows (messages without events, the bulk writer's) added and already stored."""

    new: dict[str, list[Resolved]] = field(default_factory=dict)
    replies: int = 0
    message_ids: dict[str, int] = field(default_factory=dict)  # event key -> messages.id
    rows_added: int = 0
    rows_duplicate: int = 0

    def of(self, type_name: str) -> list[Resolved]:
        return self.new.get(type_name, [])


def raw_payload(event: ev.Event) -> Any:
    return event.raw if event.raw is None or isinstance(event.raw, str) else dict(event.raw)
