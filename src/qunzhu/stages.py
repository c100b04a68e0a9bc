"""The contract the pipeline holds its stages to: what a moderator and a reactor are.

Domain packages implement these (``moderation.moderator.RuleModerator``,
``engines.reactor.ValueScorer``, ``growth.reactor.GrowthReactor``) without importing the
pipeline that runs them: this module sits below the domain layer, the pipeline above it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Connection

from qunzhu import events as ev
from qunzhu.store.writer import Resolved, Written


class Rejected(Protocol):
    """Anything an importer could not parse: where it was and why."""

    source: str
    line: int
    reason: str
    text: str


class Moderator(Protocol):
    """Decides on new messages before they are stored; returns flagged keys and actions."""

    def __call__(self, conn: Connection, items: Sequence[Resolved]) -> ModerationOutcome: ...


class Reactor(Protocol):
    """An engine that reacts now to what was stored (welcome, capacity, referral credit)."""

    def __call__(self, conn: Connection, written: Written) -> list[ev.Action]: ...


@dataclass
class ModerationOutcome:
    flagged: set[str] = field(default_factory=set)
    actions: list[ev.Action] = field(default_factory=list)
    after_store: Callable[[Connection, Written], None] | None = None
