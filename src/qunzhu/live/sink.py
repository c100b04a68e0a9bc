"""From a connector to the store: events delivered by many request threads are stored in
small group commits by one thread, and the actions the pipeline decides for a batch go to
the executor right after that batch's commit.

Two ways to answer a webhook (see docs/connectors.md, "Answering fast"):

- no durable queue configured: ``deliver`` returns once the events are *committed*, so a
  webhook answers 200 only for what is stored and the platform retries the rest. Simple,
  nothing to set up; each answer waits for a pipeline batch.
- a durable queue (:mod:`qunzhu.live.queue`: a spool file or Redis): ``deliver``
  returns once the events are *queued*; the consumer thread takes them out in batches,
  stores them, and removes them from the queue only after the commit. Entries left by a
  crash are stored at the next start (with Redis: by whichever ``qunzhu worker`` takes the
  dead one's shards over); the idempotency keys make a second delivery a no-op.

Batches stay small so a decision is not held back by the ones around it: the loop takes
what is waiting, collects for at most ``linger`` seconds more, and stops at ``max_batch``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from qunzhu.events import Action, Event
from qunzhu.live.queue import LiveQueue, decode
from qunzhu.pipeline import IngestReport, Pipeline

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    events: Sequence[Event]
    decided: bool = False  # judged at receipt: no early actions of its own
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class Sink:
    def __init__(
        self,
        pipeline: Pipeline,
        on_actions: Callable[[list[Action]], None],
        *,
        max_batch: int = 64,
        linger: float = 0.005,
        source: str = "live",
        durable: LiveQueue | None = None,
        consume: bool = True,
        early: Callable[[Sequence[Any]], list[Action]] | None = None,
        on_early: Callable[[list[Action]], None] | None = None,
        early_claims: Callable[[str], str] | None = None,
        on_claimed: Callable[[list[Action]], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        if linger < 0:
            raise ValueError(f"linger must not be negative, not {linger}")
        self.pipeline = pipeline
        self.on_actions = on_actions
        self.max_batch = max_batch
        self.linger = linger
        self.source = source
        self.durable = durable
        if not consume and durable is None:
            raise ValueError("a sink that does not consume needs a durable queue to fill")
        # False in a web process whose live worker (another process) takes the queue
        self.consume = consume
        # deletes decided from content alone, sent before the batch runs (moderation.early)
        self.early = early
        self.on_early = on_early or on_actions
        # with a Redis ledger, the claims of early deletes go to Redis in the transaction
        # that queues their update (``aput``, ``put_claiming``): one round trip, not two;
        # the claimed ones go to ``on_claimed``, which sends them without claiming again
        self.early_claims = early_claims
        self.on_claimed = on_claimed or on_actions
        self.totals = IngestReport()
        self.batches = 0
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._retry = 0.0

    @property
    def mode(self) -> str:
        if self.durable is None:
            return "commit"
        where = "" if self.consume else ", stored by the live worker"
        return f"queued ({self.durable.name}{where})"

    def start(self) -> None:
        if not self.consume:
            return
        with self._lock:
            if self._thread is None:
                self._stop.clear()
                target = self._loop if self.durable is None else self._consume
                self._thread = threading.Thread(target=target, name="qunzhu-sink", daemon=True)
                self._thread.start()
                if self.early is not None and hasattr(self.durable, "watch"):
                    self._watcher = threading.Thread(
                        target=self._watch, name="qunzhu-early", daemon=True
                    )
                    self._watcher.start()

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            watcher, self._watcher = self._watcher, None
        if thread is not None:
            self._stop.set()
            self._queue.put(None)
            thread.join(timeout=30)
            stop_reading = getattr(self.durable, "stop_reading", None)
            if stop_reading is not None and not thread.is_alive():
                # its shards go back now, not a lease later; never with a batch in hand
                stop_reading()
        if watcher is not None:
            watcher.join(timeout=5)

    def deliver(
        self, events: Sequence[Event], timeout: float = 60.0, *, decided: bool = False
    ) -> None:
        """Store ``events`` (or queue them durably); raises when that could not be done.
        ``decided``: the caller judged them at receipt already and took their early
        actions' claims (``early_for``): they are not judged again."""
        if not events:
            return
        self.start()
        if self.durable is not None:
            if self.consume or decided:
                self.durable.put(events)
                return
            # the web process of a split serve: early deletes at receipt (see adeliver)
            actions = self._decide_early(events)
            keys = self._claim_keys(actions)
            if keys:
                won = self.durable.put_claiming(events, keys)  # type: ignore[attr-defined]
                self._send_early(actions, won)
            else:
                self.durable.put(events)
                self._send_early(actions, None)
            return
        pending = _Pending(events, decided)
        self._queue.put(pending)
        if not pending.done.wait(timeout):
            raise TimeoutError(f"events not stored within {timeout:.0f} s")
        if pending.error is not None:
            raise pending.error

    @property
    def queues_async(self) -> bool:
        """``adeliver`` can queue without blocking an event loop (Redis)."""
        return hasattr(self.durable, "aput")

    async def adeliver(self, events: Sequence[Event], *, decided: bool = False) -> None:
        """``deliver`` from an event loop; only with a queue that ``queues_async``.
        ``decided``: the caller judged these events at receipt already (``early_for``)."""
        if not events:
            return
        self.start()
        if self.consume or decided:  # one process: the queue's watcher decides them
            await self.durable.aput(events, decided=decided)  # type: ignore[union-attr]
            return
        # the web process of a split serve: the ads are judged before the update is
        # queued, so that their claims travel with it
        actions = self._decide_early(events)
        keys = self._claim_keys(actions)
        won = await self.durable.aput(events, keys or ())  # type: ignore[union-attr]
        self._send_early(actions, None if keys is None else won)

    def early_for(self, events: Sequence[Any]) -> list[Action]:
        """The early deletes of ``events``, for a caller that carries them out itself at
        receipt (then queues the events with ``adeliver(..., decided=True)``)."""
        return self._decide_early(events)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every queued event is stored; False on timeout (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.durable is None:
                if self._queue.empty():
                    return True
            elif self.durable.pending() == 0:
                return True
            time.sleep(0.01)
        return False

    # -- commit-then-answer -----------------------------------------------------------
    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            count = len(first.events)
            until = time.monotonic() + self.linger
            while count < self.max_batch:
                try:
                    wait = until - time.monotonic()
                    more = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
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
        self._act_early([e for p in batch if not p.decided for e in p.events])
        try:
            report = self.pipeline.run(events, source=self.source)
        except Exception as exc:  # the database is unreachable: every caller must know
            log.warning("storing %d live events failed: %s", len(events), exc)
            for p in batch:
                p.error = exc
                p.done.set()
            return
        self._account(report)  # the actions first: they are what someone is waiting for
        for p in batch:
            p.done.set()

    # -- queue-then-answer ------------------------------------------------------------
    def _consume(self) -> None:
        assert self.durable is not None
        durable = self.durable
        while not self._stop.is_set():
            try:
                entries = durable.take(self.max_batch, 0.2)
                if entries and len(entries) < self.max_batch and self.linger > 0:
                    self._stop.wait(self.linger)
                    entries += durable.take(self.max_batch - len(entries), 0)
            except Exception as exc:  # the queue itself is unreachable: retry, never die
                self._backoff(f"reading {durable.name} failed: {exc}")
                continue
            if not entries:
                continue
            items: list[Any] = [decode(i, payload, durable.name) for i, payload in entries]
            if self._watcher is None:
                self._act_early(items)
            try:
                report = self.pipeline.run(items, source=self.source)
            except Exception as exc:  # not committed: the entries stay queued for later
                durable.rewind()
                self._backoff(f"storing {len(items)} queued events failed: {exc}")
                continue
            self._retry = 0.0
            self._account(report)
            try:
                durable.ack([i for i, _ in entries])
            except Exception as exc:  # they come again and change nothing (their keys)
                log.warning("removing %d stored entries failed: %s", len(entries), exc)
                durable.rewind()

    def _watch(self) -> None:
        """Early deletes as updates arrive, not when the consumer reaches them: under load
        the consumer is a batch or more behind. Entries it missed (a restart, Redis away)
        the batch decides as usual."""
        durable: Any = self.durable
        after: Any = None
        while not self._stop.is_set():
            try:
                if after is None:
                    after = durable.last_id()
                after, entries = durable.watch(after, 0.5)
            except Exception as exc:
                log.warning("watching %s for early deletes failed: %s", durable.name, exc)
                after = None
                self._stop.wait(1.0)
                continue
            if entries:
                self._act_early([decode(i, payload, durable.name) for i, payload in entries])

    def _act_early(self, items: Sequence[Any]) -> None:
        self._hand(self.on_early, self._decide_early(items))

    def _claim_keys(self, actions: list[Action]) -> list[str] | None:
        """The claims on ``actions`` to queue with their update; None without a Redis
        ledger (``on_early`` then claims them itself)."""
        if self.early_claims is None:
            return None
        return [self.early_claims(a.key) for a in actions]

    def _send_early(self, actions: list[Action], won: list[bool] | None) -> None:
        """Hand over the early deletes: those whose claim went with their update and was
        won, or, without such claims (``won`` None), all of them to ``on_early``."""
        if won is None:
            self._hand(self.on_early, actions)
        else:
            self._hand(self.on_claimed, [a for a, ok in zip(actions, won, strict=True) if ok])

    def _decide_early(self, items: Sequence[Any]) -> list[Action]:
        if self.early is None:
            return []
        try:
            return self.early(items)
        except Exception:  # the batch decides them anyway, a little later
            log.exception("deciding early deletes failed")
            return []

    @staticmethod
    def _hand(to: Callable[[list[Action]], None], actions: list[Action]) -> None:
        if actions:
            try:
                to(actions)
            except Exception:
                log.exception("handing %d early deletes to the executor failed", len(actions))

    def _backoff(self, message: str) -> None:
        log.warning("%s", message)
        self._retry = min(30.0, max(0.1, self._retry * 2))
        self._stop.wait(self._retry)

    def _account(self, report: IngestReport) -> None:
        self.batches += 1
        self.totals.received += report.received
        self.totals.added += report.added
        self.totals.duplicates += report.duplicates
        self.totals.quarantined.extend(report.quarantined)
        if report.actions:
            try:
                self.on_actions(list(report.actions))
            except Exception:  # never let the executor stop the store loop
                log.exception("handing %d actions to the executor failed", len(report.actions))

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode, "batches": self.batches, "stored": self.totals.added}
