"""Sink.deliver(..., decided=True): events the caller judged at receipt (and whose early
actions it claimed) are stored without being judged a second time; the others as ever."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from qunzhu import events as ev
from qunzhu.live.sink import Sink
from qunzhu.pipeline import IngestReport


class _Pipeline:
    def __init__(self) -> None:
        self.stored: list[str] = []

    def run(self, events: list[Any], source: str = "") -> IngestReport:
        self.stored += [e.message_id for e in events]
        return IngestReport(received=len(events), added=len(events))


def _message(n: int) -> ev.MessagePosted:
    return ev.MessagePosted(
        platform="qq", community="acme", group="g1", member=f"u{n}",
        occurred_at=datetime.now(UTC), message_id=str(n), text=f"hello {n}",
    )  # fmt: skip


def test_events_judged_at_receipt_are_stored_but_not_judged_again() -> None:
    judged: list[str] = []

    def early(events: Any) -> list[ev.Action]:
        judged.extend(e.message_id for e in events)
        return []

    pipeline = _Pipeline()
    sink = Sink(pipeline, lambda _actions: None, early=early)  # type: ignore[arg-type]
    try:
        sink.deliver([_message(1), _message(2)], decided=True)
        sink.deliver([_message(3)])
    finally:
        sink.stop()
    assert pipeline.stored == ["1", "2", "3"]
    assert judged == ["3"]
