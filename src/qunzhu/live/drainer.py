"""The outbox drainer: claims queued outbox rows and hands them to the executor.

Enqueueing, claiming and recording outcomes are the store's (:mod:`qunzhu.store.outbox`);
this is the loop of the live runtime that carries them out. Rows of a platform qunzhu has no
connector for are left to an external bridge for ``bridge_wait``; then they are taken too,
and the executor, finding no connector, makes each an alert for an operator.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Collection, Sequence
from datetime import timedelta

from qunzhu.adapters.registry import CONNECTORS
from qunzhu.events import Action
from qunzhu.store.outbox import BRIDGE_WAIT, WAKE, claim, release_orphans
from qunzhu.store.session import Store

log = logging.getLogger(__name__)


class Drainer:
    """Claims queued outbox rows and hands them to ``submit`` (the executor's)."""

    def __init__(
        self,
        store: Store,
        submit: Callable[[Sequence[Action]], None],
        *,
        interval: float = 1.0,
        batch: int = 200,
        served: Collection[str] = frozenset(CONNECTORS),
        bridge_wait: timedelta = BRIDGE_WAIT,
        alive: Callable[[], set[str]] | None = None,
        grace: timedelta = timedelta(seconds=30),
    ) -> None:
        self.store = store
        self.submit = submit
        self.interval = interval
        self.batch = batch
        self.served = served
        self.bridge_wait = bridge_wait
        # the live workers still running (the Redis registry): decisions claimed by one
        # that stopped are released; without it they wait for STALE_CLAIM
        self.alive = alive
        self.grace = grace
        self.worker = f"{socket.gethostname()}:{os.getpid()}"[:48]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Claim and hand over what is queued now; how many actions."""
        if self.alive is not None:
            try:
                owners = self.alive()
            except Exception:  # Redis cannot say who runs: release nothing this round
                log.warning("the live workers' registry cannot be read; nothing released")
            else:
                release_orphans(self.store, owners, grace=self.grace)
        actions = claim(
            self.store,
            self.worker,
            limit=self.batch,
            served=self.served,
            bridge_wait=self.bridge_wait,
        )
        if actions:
            self.submit(actions)
        return len(actions)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="qunzhu-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        WAKE.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                taken = self.run_once()
            except Exception:  # the database away for a moment: try again next round
                log.exception("draining the outbox failed")
                taken = 0
            if taken >= self.batch:
                continue  # more may be waiting
            WAKE.wait(self.interval)
            WAKE.clear()
