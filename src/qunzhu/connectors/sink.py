"""From a connector to the store: events delivered by many request threads are stored in
group commits by one thread, and each caller returns only once its events are committed
(so a webhook answers 200 only for what is stored, and the platform retries the rest).

The actions the pipeline decides for a batch go to the executor after the commit.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from qunzhu.events import Action, Event
from qunzhu.pipeline import IngestReport, Pipeline

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    events: Sequence[Event]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class Sink:
    def __init__(
        self,
        pipeline: Pipeline,
        on_actions: Callable[[list[Action]], None],
        *,
        max_batch: int = 500,
        source: str = "live",
    ) -> None:
        self.pipeline = pipeline
        self.on_actions = on_actions
        self.max_batch = max_batch
        self.source = source
        self.totals = IngestReport()
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="qunzhu-sink", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    def deliver(self, events: Sequence[Event], timeout: float = 60.0) -> None:
        """Store ``events``; returns when committed, raises when they could not be."""
        if not events:
            return
        self.start()
        pending = _Pending(events)
        self._queue.put(pending)
        if not pending.done.wait(timeout):
            raise TimeoutError(f"events not stored within {timeout:.0f} s")
        if pending.error is not None:
            raise pending.error

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            count = len(first.events)
            while count < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
                count += len(more.events)
            self._store(batch)

    def _store(self, batch: list[_Pending]) -> None:
        events = [e for p in batch for e in p.events]
        try:
            report = self.pipeline.run(events, source=self.source)
        except Exception as exc:  # the database is unreachable: every caller must know
            log.warning("storing %d live events failed: %s", len(events), exc)
            for p in batch:
                p.error = exc
                p.done.set()
            return
        self.totals.received += report.received
        self.totals.added += report.added
        self.totals.duplicates += report.duplicates
        self.totals.quarantined.extend(report.quarantined)
        for p in batch:
            p.done.set()
        if report.actions:
            try:
                self.on_actions(list(report.actions))
            except Exception:  # never let the executor stop the store loop
                log.exception("handing %d actions to the executor failed", len(report.actions))
