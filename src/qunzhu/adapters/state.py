"""Each connector's live state (connected, last event, last error), kept in memory and
written to the ``connectors`` row when the status changes and at most once a second for
counters, so 500 updates a second cost one UPDATE a second, not 500.

Once :meth:`StateBook.start` has run (``qunzhu serve`` via the hub), the counters are written
by a background thread: the UPDATE waits for the database's write lock, and a webhook
request or an action worker must not wait behind it."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qunzhu.store import connector_records as records
from qunzhu.store.session import Store

FLUSH_EVERY = 1.0


@dataclass
class _Live:
    status: str = "idle"
    reason: str = ""
    last_event_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    events: int = 0
    actions: int = 0
    flushed_events: int = 0
    flushed_actions: int = 0
    flushed_at: float = field(default_factory=time.monotonic)
    # the fields this process changed since its last write: only those are written, so a
    # web process and its live worker (one connector row, two state books) do not put
    # back each other's older values
    dirty: set[str] = field(default_factory=set)


class StateBook:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._live: dict[int, _Live] = {}
        self._lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        if self._flusher is not None:
            return
        self._stopping.clear()
        self._flusher = threading.Thread(target=self._flush_loop, name="qunzhu-state", daemon=True)
        self._flusher.start()

    def stop(self) -> None:
        if self._flusher is not None:
            self._stopping.set()
            self._flusher.join(timeout=5)
            self._flusher = None
        self.flush_all()

    def _flush_loop(self) -> None:
        while not self._stopping.wait(FLUSH_EVERY):
            for connector_id in self._ids():
                self.flush(connector_id)

    def _ids(self) -> list[int]:
        with self._lock:
            return list(self._live)

    def _flush_counters(self, connector_id: int) -> None:
        if self._flusher is None:
            self.flush(connector_id)

    def _get(self, connector_id: int) -> _Live:
        return self._live.setdefault(connector_id, _Live())

    def status(self, connector_id: int) -> str:
        with self._lock:
            return self._get(connector_id).status

    def set(self, connector_id: int, status: str, reason: str = "") -> None:
        with self._lock:
            live = self._get(connector_id)
            changed = (live.status, live.reason) != (status, reason)
            live.status, live.reason = status, reason
            if changed:
                live.dirty |= {"status", "status_reason"}
        if changed:
            self.flush(connector_id, force=True)

    def event(self, connector_id: int, count: int = 1) -> None:
        with self._lock:
            live = self._get(connector_id)
            live.events += count
            live.last_event_at = records.now()
            live.dirty.add("last_event_at")
            if live.status in ("idle", "error"):
                live.status, live.reason = "connected", ""
                live.dirty |= {"status", "status_reason"}
        self._flush_counters(connector_id)

    def action(self, connector_id: int) -> None:
        with self._lock:
            self._get(connector_id).actions += 1
        self._flush_counters(connector_id)

    def error(self, connector_id: int, message: str, *, status: str | None = None) -> None:
        with self._lock:
            live = self._get(connector_id)
            live.last_error, live.last_error_at = message[:2000], records.now()
            live.dirty |= {"last_error", "last_error_at"}
            if status is not None:
                live.status, live.reason = status, message[:2000]
                live.dirty |= {"status", "status_reason"}
        self.flush(connector_id, force=True)

    def flush(self, connector_id: int, *, force: bool = False) -> None:
        with self._lock:
            live = self._get(connector_id)
            if not force and time.monotonic() - live.flushed_at < FLUSH_EVERY:
                return
            known: dict[str, Any] = {
                "status": live.status,
                "status_reason": live.reason,
                "last_event_at": live.last_event_at,
                "last_error": live.last_error,
                "last_error_at": live.last_error_at,
            }
            values = {k: v for k, v in known.items() if k in live.dirty}
            live.dirty.clear()
            events, actions = live.events - live.flushed_events, live.actions - live.flushed_actions
            if not values and not events and not actions:
                live.flushed_at = time.monotonic()
                return
            live.flushed_events, live.flushed_actions = live.events, live.actions
            live.flushed_at = time.monotonic()
        from qunzhu.store.base import table_of
        from qunzhu.store.connectors import Connector

        t = table_of(Connector)
        values["events_received"] = t.c.events_received + events
        values["actions_sent"] = t.c.actions_sent + actions
        records.set_status(self.store, connector_id, **values)

    def flush_all(self) -> None:
        for connector_id in self._ids():
            self.flush(connector_id, force=True)


class LoopCounter:
    """Events a connector's event loop took, handed to the state book now and then: in a
    thread (``StateBook.event`` may take a lock), once a second at most, since each hand-off
    to a thread costs the loop time; ``last`` hands on what is left."""

    def __init__(self, state: StateBook, connector_id: int, loop: asyncio.AbstractEventLoop):
        self.state, self.connector_id, self.loop = state, connector_id, loop
        self.counted, self.counted_at = 0, loop.time()

    def add(self, count: int, *, last: bool = False) -> None:
        self.counted += count
        if last or self.loop.time() - self.counted_at >= FLUSH_EVERY:
            self.loop.run_in_executor(None, self.state.event, self.connector_id, self.counted)
            self.counted, self.counted_at = 0, self.loop.time()
