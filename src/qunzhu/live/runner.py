"""Keeps a connector's long-running part going: reconnect with exponential backoff and
jitter, state shown as connected / error (with the last error) / disabled."""

from __future__ import annotations

import logging
import random
import threading
import time

from qunzhu.adapters.base import Connector, PermanentError
from qunzhu.adapters.state import StateBook

log = logging.getLogger(__name__)


class Runner:
    def __init__(
        self, connector: Connector, state: StateBook, *, base: float = 1.0, cap: float = 60.0
    ) -> None:
        self.connector = connector
        self.state = state
        self.base = base
        self.cap = cap
        self.stop_event = threading.Event()
        self.reconnects = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        name = f"qunzhu-{self.connector.info.platform}-{self.connector.info.name}"
        self._thread = threading.Thread(target=self.run, name=name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def delay(self, failures: int) -> float:
        """Full jitter: a random wait up to base·2^failures, at most ``cap``."""
        return random.uniform(self.base / 2, min(self.cap, self.base * 2**failures))

    def run(self) -> None:
        cid = self.connector.info.id
        failures = 0
        while not self.stop_event.is_set():
            started = time.monotonic()
            try:
                self.connector.run_once(self.stop_event)
            except PermanentError as exc:
                log.error("connector %s disabled: %s", self.connector.info.name, exc)
                self.state.error(cid, str(exc), status="disabled")
                return
            except Exception as exc:  # any failure of the connection: back off, reconnect
                self.state.error(cid, f"{type(exc).__name__}: {exc}", status="error")
            if self.stop_event.is_set():
                break
            if time.monotonic() - started > 30:
                failures = 0  # it ran a good while: start the backoff over
            self.reconnects += 1
            self.stop_event.wait(self.delay(failures))
            failures += 1
        self.state.set(cid, "idle")
