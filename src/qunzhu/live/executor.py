"""Carries out the pipeline's Actions on the platforms, in order per group.

Each group's actions go to one worker (hash of the group), so "delete, then warn, then mute"
happen in that order while other groups proceed. Per action::

    alert                  → stored for an operator (connector_alerts), nothing sent
    Unsupported            → the platform cannot do it (WeCom kick…): becomes an alert
    RateLimited            → wait retry_after (the platform's number), try again
    Migrated               → the chat moved: the same action at the new chat id
    PermanentError group   → that chat's connector is disabled with the reason, alert
    PermanentError connector → the whole connector is disabled with the reason, alert
    ConnectorError         → transient: exponential backoff, up to ``max_attempts``

Every outcome is one row in ``connector_actions``; the outcome of an action from the outbox
or of a moderation decision is also written back there (see :mod:`qunzhu.store.outbox`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from qunzhu.adapters.base import (
    Connector,
    ConnectorError,
    Migrated,
    PermanentError,
    RateLimited,
    Refused,
    Unsupported,
)
from qunzhu.adapters.send_limits import MESSAGE_KINDS, limits_for
from qunzhu.adapters.state import StateBook
from qunzhu.events import Action, make_key
from qunzhu.live.early_ledger import EarlyLedger, MemoryLedger
from qunzhu.live.send_pacing import DailyCapReached, SendPacer
from qunzhu.moderation.early import EARLY
from qunzhu.store import connector_records as records
from qunzhu.store import outbox
from qunzhu.store.outbox import LIVE
from qunzhu.store.session import Store

log = logging.getLogger(__name__)
MAX_RETRY_AFTER = 300.0
EARLY_WAIT_S = 10.0
"""How long a batch's delete waits for the outcome of its early twin still under way."""
EARLY_STATE_S = 10.0
"""How old a group's state (disabled or not) may be for an early action sent on the
receiving loop (``perform_early``); older, it is read again off the loop, not waited for
(read first only when there is none yet). A group disabled by another process is left
alone within this and one action; a worker's own sends read it every second."""
EARLY_PACE_S = 0.25
"""How long an early message may wait on the receiving loop for its pacing slot (an
awaited sleep: the loop reads on meanwhile). Two ads at once on an account paced at a
message a millisecond: the second waits a millisecond there, not a hand-off to a worker
(tens of milliseconds, seconds behind a stall). With jitter, past the daily cap or a slot
further off, a worker waits for it (or alerts at the cap)."""
AsyncPerform = Callable[[Action], Awaitable[dict[str, Any]]]
LoopPerform = tuple[asyncio.AbstractEventLoop, AsyncPerform]
"""How a connector offers to carry out an early action on the event loop that received it:
its method ``loop_perform(action) -> LoopPerform | None`` gives that loop (the live
connection's) and an asynchronous perform on it, or None when it has none for this action
(no live connection, a kind it cannot do there). See :meth:`Executor.submit_early`."""


class Executor:
    def __init__(
        self,
        store: Store,
        state: StateBook,
        resolve: Callable[[Action], Connector | None],
        *,
        workers: int = 4,
        max_attempts: int = 5,
        backoff: float = 0.5,
        early_ledger: EarlyLedger | None = None,
    ) -> None:
        self.store = store
        self.state = state
        self.resolve = resolve
        self.max_attempts = max_attempts
        self.backoff = backoff
        # (lane, order, action): an early delete (lane 0) overtakes the group's queued
        # warnings and mutes of earlier messages, which can wait; within a lane, in order
        self._queues: list[queue.PriorityQueue[tuple[int, int, Action | None]]] = [
            queue.PriorityQueue() for _ in range(workers)
        ]
        self._order = itertools.count()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._busy = 0
        self._idle = threading.Condition()
        self._log_rows: list[dict[str, Any]] = []
        self._outcomes: list[dict[str, Any]] = []
        self._alerts: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._groups: dict[tuple[int, str], tuple[float, tuple[str, str]]] = {}
        self.on_done: Callable[[Action, str], None] | None = None  # for measurements
        # deletes sent before their batch committed (qunzhu.moderation.early): the batch's
        # own delete with that key is not sent again, it records that outcome on its decision
        self.early_ledger: EarlyLedger = early_ledger or MemoryLedger()
        self._written = threading.Event()  # log rows are waiting for the flusher
        self._pacers: dict[int, SendPacer] = {}
        self._acted: dict[int, int] = {}  # early deletes sent per connector, not yet counted
        self._mine = threading.local()  # each worker's own queue (see _pace)
        self._refreshing: set[tuple[int, str]] = set()  # group states being read again

    def start(self) -> None:
        if self._threads:
            return
        self._stop.clear()
        for n, q in enumerate(self._queues):
            t = threading.Thread(target=self._work, args=(q,), name=f"qunzhu-act-{n}", daemon=True)
            t.start()
            self._threads.append(t)
        # the log is written by a thread of its own: a worker waiting for SQLite's writer
        # lock (held by the pipeline's batch) would hold back the next action by that long
        t = threading.Thread(target=self._flusher, name="qunzhu-act-log", daemon=True)
        t.start()
        self._threads.append(t)

    def _flusher(self) -> None:
        while not self._stop.is_set():
            self._written.wait(1.0)
            self._written.clear()
            try:
                self.flush_log()
            except Exception:  # the database away: the rows are written at the next try
                log.exception("writing the action log failed")
            self._stop.wait(0.2)  # at most five transactions a second

    def stop(self) -> None:
        self._stop.set()
        self._written.set()
        for q in self._queues:
            q.put((2, next(self._order), None))
        for t in self._threads:
            t.join(timeout=10)
        self._threads = []
        self.flush_log()

    def submit(self, actions: Sequence[Action]) -> None:
        self.start()
        with self._idle:
            self._busy += len(actions)
        for a in actions:
            lane = 0 if a.detail.get(EARLY) else 1
            self._queues[hash((a.platform, a.group)) % len(self._queues)].put(
                (lane, next(self._order), a)
            )

    def submit_early(self, actions: Sequence[Action], *, claimed: bool = False) -> None:
        """Send ``actions`` (early deletes, early warnings) ahead of their batch; one
        already claimed (a redelivered update) is not sent again. With ``claimed`` they
        were claimed already (with their update: ``RedisQueue.put_claiming``).

        Where the action's connector offers ``loop_perform(action)`` (see
        :data:`LoopPerform`) it is carried out on that loop (:meth:`perform_early`): no
        worker thread woken, no thread blocked on the answer. Else, and for anything
        unusual there, a worker carries it out (``submit``)."""
        fresh = list(actions) if claimed else [a for a in actions if self.early_ledger.claim(a.key)]
        if not fresh:
            return
        usual: list[Action] = []
        on_loops: dict[tuple[asyncio.AbstractEventLoop, AsyncPerform], list[Action]] = {}
        for a in fresh:
            offer = self._loop_offer(a)
            if offer is None:
                usual.append(a)
            else:
                on_loops.setdefault(offer, []).append(a)
        for (loop, perform), batch in on_loops.items():
            self.start()
            with self._idle:
                self._busy += len(batch)
            try:
                if _running_loop() is loop:  # called on that loop: its next turn, no wake-up
                    keep_task(loop.create_task(self._perform_all(batch, perform)))
                else:
                    asyncio.run_coroutine_threadsafe(self._perform_all(batch, perform), loop)
            except RuntimeError:  # the loop closed in between: the usual way
                with self._idle:
                    self._busy -= len(batch)
                usual += batch
        if usual:
            self.submit(usual)

    async def aclaim(self, actions: Sequence[Action]) -> list[Action]:
        """The ``actions`` whose early claim this call took, on the running loop (its own
        Redis connection), all at once. One Redis did not answer for is not taken here
        (its batch acts on it, as when an early claim fails in ``perform_early``)."""
        got = await asyncio.gather(
            *(self.early_ledger.aclaim(a.key) for a in actions), return_exceptions=True
        )
        won: list[Action] = []
        for a, ok in zip(actions, got, strict=True):
            if isinstance(ok, BaseException):
                log.warning("claiming an early %s failed: %s", a.kind, ok)
            elif ok:
                won.append(a)
        return won

    def _loop_offer(self, a: Action) -> LoopPerform | None:
        connector = self.resolve(a)
        offer = getattr(connector, "loop_perform", None)
        if offer is None:
            return None
        try:
            made: LoopPerform | None = offer(a)
        except Exception:  # a connector's bug must not lose the action: the usual way
            log.exception("%s: loop_perform failed", type(connector).__name__)
            return None
        if made is None or made[0].is_closed():
            return None
        if connector is not None and (connector.info.id, a.group) not in self._groups:
            # the group's first state read here, in the caller's thread: on the loop
            # nothing is awaited before the pace is asked, so a group's actions take their
            # slots in the order they came (two awaiting reads could finish either way)
            try:
                self._group_state(connector.info.id, a.group)
            except Exception:  # the database away: the loop reads it, or hands it back
                log.exception("reading the state of group %s failed", a.group)
        return made

    async def perform_early(
        self, actions: Sequence[Action], perform: AsyncPerform, *, claim: bool = False
    ) -> None:
        """Carry out early deletes on the caller's event loop with ``perform`` (the
        connector's own asynchronous call, on the connection that received the ad): no
        hand-off to a worker thread and to the connector's REST thread, no wait behind the
        group's queue. With ``claim`` each is claimed first (on the loop's own Redis
        connection; one already claimed is not sent: a redelivery, or its batch was first);
        else they are claimed already. Anything that needs more goes the usual way
        (``submit``, which does not claim again): no connector for it, the connector or the
        group disabled, an error from the platform (then retried as ever). Redis away, an
        unclaimed delete is left to its batch."""
        if not actions:
            return
        self.start()
        with self._idle:
            self._busy += len(actions)
        await self._perform_all(actions, perform, claim)

    async def _perform_all(
        self, actions: Sequence[Action], perform: AsyncPerform, claim: bool = False
    ) -> None:
        """The actions (counted busy already) at once on this loop."""
        if len(actions) == 1:  # in this task's first step, not in one of its own
            await self._perform_early(actions[0], perform, claim)
            return
        await asyncio.gather(*(self._perform_early(a, perform, claim) for a in actions))

    async def _perform_early(self, a: Action, perform: AsyncPerform, claim: bool) -> None:
        if claim:
            try:
                won = await self.early_ledger.aclaim(a.key)
            except Exception:  # Redis away: the batch deletes it once it is stored
                log.exception("claiming an early %s failed", a.kind)
                won = False
            if not won:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()
                return
        connector = self.resolve(a)
        if connector is None or self.state.status(cid := connector.info.id) == "disabled":
            return self._hand_back(a)
        cached = self._groups.get((cid, a.group))
        loop = asyncio.get_running_loop()
        if cached is None:  # a database read: not on the loop
            status = (await loop.run_in_executor(None, self._group_state, cid, a.group))[0]
        else:
            status = cached[1][0]
            if time.monotonic() - cached[0] >= EARLY_STATE_S:
                self._refresh_group(loop, cid, a.group)
        if status == "disabled":
            return self._hand_back(a)
        # a message is paced: sent here in its slot when that is at most EARLY_PACE_S off
        # (awaited: the loop never blocks), never past a daily cap; else a worker waits
        # for its slot, or alerts at the cap. Slots are taken in the order the ads came
        if a.kind in MESSAGE_KINDS:
            wait = self._pacer(connector).reserve_within(a.group, EARLY_PACE_S)
            if wait is None:
                return self._hand_back(a)
            if wait > 0:
                try:
                    await asyncio.sleep(wait)
                except asyncio.CancelledError:  # the loop is closing: a worker sends it
                    self._hand_back(a)
                    raise
        try:
            result = await perform(a)
        except Exception as exc:  # the usual way: its handling of each error, its retries
            log.info("early %s in %s went the usual way: %s", a.kind, a.group, exc)
            return self._hand_back(a)
        # recorded from here (no thread woken per action: each took the loop's time): the
        # log row for the flusher, a delete's outcome to the ledger on this loop's own
        # connection (a warning's is in sent-once's record, moderation.sent_once)
        try:
            with self._log_lock:
                self._acted[cid] = self._acted.get(cid, 0) + 1
            status = self._log(a, cid, "sent", 1, result=result, settle=False)
            if _live_delete(a):
                await self.early_ledger.asettle(a.key, ("sent", 1, None, result))
            if self.on_done is not None:
                self.on_done(a, status)
        except Exception:  # the batch's delete waits for the outcome, then goes again
            log.exception("recording an early %s failed", a.kind)
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def _refresh_group(self, loop: asyncio.AbstractEventLoop, cid: int, group: str) -> None:
        """Read a group's state again off the loop, not waited for: the action at hand goes
        by the state read up to EARLY_STATE_S ago (a group the platform dropped us from
        refuses it, and a worker then finds the group disabled), and none of the ads
        after a refresh is due waits for a database read."""
        if (cid, group) in self._refreshing:
            return
        self._refreshing.add((cid, group))

        def read() -> None:
            try:
                self._group_state(cid, group)  # older than its second: read again
            except Exception:  # the database away: the next ad tries again
                log.exception("reading the state of group %s failed", group)
            finally:
                self._refreshing.discard((cid, group))

        loop.run_in_executor(None, read)

    def _hand_back(self, a: Action) -> None:
        with self._idle:
            self._busy -= 1  # counted again by submit
        self.submit([a])

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every submitted action is done; False on timeout."""
        with self._idle:
            done = self._idle.wait_for(lambda: self._busy == 0, timeout)
        self.flush_log()  # what was done is in the log when this returns
        return done

    def _work(self, q: queue.PriorityQueue[tuple[int, int, Action | None]]) -> None:
        self._mine.queue = q
        while True:
            _lane, _n, a = q.get()
            if a is None:
                return
            self._carry_out(a)

    def _carry_out(self, a: Action) -> None:
        try:
            status = self.execute(a)
        except Exception as exc:  # a bug in one action must not stop the worker
            log.exception("action %s failed", a.kind)
            status = self._log(a, None, "failed", 1, error=f"{type(exc).__name__}: {exc}")
        if self.on_done is not None:
            self.on_done(a, status)
        self._written.set()
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def _pace(self, wait: float) -> bool:
        """Wait out a send's pace; meanwhile carry out the early actions that reach this
        worker's queue and need no pace themselves (an ad must not stay up behind a warning
        paced to the platform's limits). Everything else waits its turn, in its order: an
        early message carried out here would wait in a ``_pace`` of its own inside this
        one, and a burst of them nested deeper with each (RecursionError), sent last first.
        True when stopping."""
        q: queue.PriorityQueue[tuple[int, int, Action | None]] | None = getattr(
            self._mine, "queue", None
        )
        if q is None or getattr(self._mine, "pacing", False):
            # outside a worker (tests call execute directly), or (never, by the rule
            # above) inside another's wait: a plain wait, never a nested one
            return self._stop.wait(wait)
        self._mine.pacing = True
        held: list[tuple[int, int, Action | None]] = []
        deadline = time.monotonic() + wait
        try:
            while (left := deadline - time.monotonic()) > 0 and not self._stop.is_set():
                try:
                    item = q.get(timeout=min(left, 0.5))
                except queue.Empty:
                    continue
                if item[0] == 0 and item[2] is not None and item[2].kind not in MESSAGE_KINDS:
                    self._carry_out(item[2])
                else:
                    held.append(item)
                    if item[2] is None:  # stopping: leave the rest to the stop
                        break
        finally:
            self._mine.pacing = False
            for item in held:  # back with their own order numbers: the order is kept
                q.put(item)
        return self._stop.is_set()

    def flush_log(self) -> None:
        """Write the buffered action log in one transaction (one per action would contend
        with the pipeline for SQLite's single writer)."""
        # one flush at a time: drain() must not return while the flusher thread is still
        # writing rows it took a moment earlier
        with self._flush_lock:
            with self._log_lock:
                rows, self._log_rows = self._log_rows, []
                outcomes, self._outcomes = self._outcomes, []
                alerts, self._alerts = self._alerts, []
                acted, self._acted = self._acted, {}
            for cid, count in acted.items():  # the connectors' action counters
                for _ in range(count):
                    self.state.action(cid)
            if alerts:
                try:  # one transaction for them all: one each held the writer for each
                    records.add_alerts(self.store, alerts)
                except Exception:  # the database away: keep them for the next flush
                    log.exception("storing %d alerts failed", len(alerts))
                    with self._log_lock:
                        self._alerts[:0] = alerts
            if rows:
                records.record_action(self.store, rows)
            if outcomes:
                try:
                    outbox.record_outcomes(self.store, outcomes)
                except Exception:  # the database away: keep them for the next flush
                    log.exception("recording %d action outcomes failed", len(outcomes))
                    with self._log_lock:
                        self._outcomes[:0] = outcomes

    async def awarm(self, cid: int, groups: Sequence[str]) -> None:
        """On a connector's loop at connect (``perform_early`` runs there): the states of
        its ``groups`` read (off the loop) and the loop's own Redis connection opened, so
        that the first early action of each group waits for neither."""
        loop = asyncio.get_running_loop()
        if groups:
            await loop.run_in_executor(None, self.warm_groups, cid, groups)
        await self.early_ledger.awarm()

    def warm_groups(self, cid: int, groups: Sequence[str]) -> None:
        """The states of a connector's ``groups`` read at once (one query; a connector
        learned them at connect): their first early action reads none on its loop."""
        states = records.group_states(self.store, cid)
        now = time.monotonic()
        for group in groups:
            self._groups[(cid, group)] = (now, states.get(group, ("active", "")))

    def _group_state(self, cid: int, group: str) -> tuple[str, str]:
        # read at most once a second per chat: a chat disabled here clears the cache, one
        # disabled by the adapter (my_chat_member) is seen within a second
        cached = self._groups.get((cid, group))
        if cached is not None and time.monotonic() - cached[0] < 1.0:
            return cached[1]
        state = records.group_state(self.store, cid, group)
        self._groups[(cid, group)] = (time.monotonic(), state)
        return state

    def execute(self, action: Action) -> str:
        # a live delete is sent by whoever claims its key first: the early one at receipt,
        # or the batch's when it gets there first (the web process slow between its check
        # and its claim); the other only records what came of it
        if _live_delete(action) and not action.detail.get(EARLY):
            early = None
            if not self.early_ledger.claim(action.key):
                early = self.early_ledger.outcome(action.key, EARLY_WAIT_S)
            if early is not None:
                status, attempts, error, result = early
                self._note(None, outbox.outcome_of(action, status, attempts, error, result))
                return status
        if action.kind == "alert":
            self._alert(action, None, action.text or action.reason, kind=action.reason or "alert")
            return self._log(action, None, "alerted", 1)
        connector = self.resolve(action)
        if connector is None:
            text = (
                f"no live {action.platform} connector for {action.community}: {action.kind} "
                f"{action.member or ''} in {action.group} was not carried out"
            )
            self._alert(action, None, text, kind=action.kind)
            return self._log(action, None, "alerted", 1, error="no connector")
        cid = connector.info.id
        status, reason = self._group_state(cid, action.group)
        if status == "disabled":
            return self._log(action, cid, "skipped", 0, error=f"group disabled: {reason}")
        if self.state.status(cid) == "disabled":
            return self._log(action, cid, "skipped", 0, error="connector disabled")
        if action.kind in MESSAGE_KINDS:  # paced to the platform's limits, not into them
            try:
                wait = self._pacer(connector).reserve(action.group)
            except DailyCapReached as full:  # a personal account kept safe: a person decides
                self._alert(action, cid, f"not sent: {full}. {_what(action)}", kind="daily_cap")
                return self._log(action, cid, "alerted", 0, error=str(full))
            if wait > 0 and self._pace(wait):
                return self._log(action, cid, "failed", 0, error="stopped before it was tried")
        attempts = 0
        while attempts < self.max_attempts and not self._stop.is_set():
            attempts += 1
            try:
                result = connector.perform(action)
            except Migrated as moved:
                records.follow_migration(
                    self.store,
                    cid,
                    action.community,
                    action.platform,
                    moved.old_group,
                    moved.new_group,
                )
                action = dataclasses.replace(action, group=moved.new_group)
                continue
            except RateLimited as slow:
                self._stop.wait(min(slow.retry_after or 1.0, MAX_RETRY_AFTER))
                continue
            except Unsupported as exc:
                self._alert(
                    action,
                    cid,
                    f"{action.platform} cannot {action.kind}: {exc}. "
                    f"Please do it by hand: {_what(action)}",
                    kind=action.kind,
                )
                return self._log(action, cid, "alerted", attempts, error=str(exc))
            except Refused as exc:
                return self._log(action, cid, "failed", attempts, error=str(exc))
            except PermanentError as exc:
                self._disable(action, cid, exc)
                return self._log(action, cid, "failed", attempts, error=str(exc))
            except ConnectorError as exc:
                self.state.error(cid, f"{action.kind}: {exc}")
                self._stop.wait(self.backoff * 2 ** (attempts - 1))
                continue
            self.state.action(cid)
            return self._log(action, cid, "sent", attempts, result=result)
        why = "gave up after retries" if attempts else "stopped before it was tried"
        return self._log(action, cid, "failed", attempts, error=why)

    def _pacer(self, connector: Connector) -> SendPacer:
        info = connector.info
        with self._log_lock:
            pacer = self._pacers.get(info.id)
            if pacer is None:
                pacer = SendPacer(limits_for(info.platform, info.config))
                self._pacers[info.id] = pacer
            return pacer

    def _disable(self, action: Action, cid: int, exc: PermanentError) -> None:
        if exc.scope == "connector":
            self.state.error(cid, str(exc), status="disabled")
            where = "the connector"
        else:
            records.set_group_state(self.store, cid, action.group, "disabled", str(exc))
            self._groups.pop((cid, action.group), None)
            self.state.error(cid, f"group {action.group} disabled: {exc}")
            where = f"group {action.group}"
        self._alert(
            action,
            cid,
            f"{where} is disabled: {exc}. {_what(action)} was not done.",
            kind="connector_disabled",
            key=make_key("disabled", cid, action.group, str(exc)),
        )

    def _alert(
        self, action: Action, cid: int | None, text: str, *, kind: str, key: str | None = None
    ) -> None:
        # written by the flusher, as the log: a worker waiting for SQLite's writer lock
        # would hold back the group's next action (on WeChat every ad has its alert)
        alert = dict(
            community=action.community,
            connector_id=cid,
            platform=action.platform,
            group=action.group,
            member=action.member,
            kind=kind,
            text=text,
            reason=action.reason,
            detail=_jsonable(action.detail),
            key=key or make_key("alert", action.key, text),
        )
        with self._log_lock:
            self._alerts.append(alert)
        self._written.set()

    def _log(
        self,
        action: Action,
        cid: int | None,
        status: str,
        attempts: int,
        *,
        error: str | None = None,
        result: dict[str, Any] | None = None,
        settle: bool = True,
    ) -> str:
        row = {
            "connector_id": cid,
            "community": action.community,
            "platform": action.platform,
            "platform_group_id": action.group,
            "member": action.member,
            "kind": action.kind,
            "key": action.key,
            "status": status,
            "attempts": attempts,
            "error": error,
            "result": _jsonable(result or {}),
            "created_at": records.now(),
        }
        if settle and _live_delete(action):
            try:
                self.early_ledger.settle(action.key, (status, attempts, error, result))
            except Exception:  # Redis away: the batch's delete waits, then goes again
                log.exception("recording an early delete's outcome failed")
        self._note(row, outbox.outcome_of(action, status, attempts, error, result))
        return status

    def _note(self, row: dict[str, Any] | None, outcome: dict[str, Any] | None) -> None:
        """Buffer a log row and an outcome for the flusher thread (or drain/stop): a worker
        that wrote them itself would hold the group's next action behind SQLite's writer."""
        with self._log_lock:
            if row is not None:
                self._log_rows.append(row)
            if outcome is not None:
                self._outcomes.append(outcome)
        self._written.set()


_TASKS: set[asyncio.Task[None]] = set()


def keep_task(task: asyncio.Task[None]) -> asyncio.Task[None]:
    """Hold ``task`` until it is done (a task only its loop refers to may vanish); returns
    it."""
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)
    return task


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _live_delete(action: Action) -> bool:
    """A delete a live batch or an early check decided: one per message, whoever claims
    its key first (an operator's delete from the outbox is always tried: it may be the
    retry of one that failed). A live batch's delete has an outbox row too, written claimed
    by this process (``LIVE``): still the live decision, sent once with its early twin."""
    d = action.detail
    return action.kind == "delete_message" and ("outbox" not in d or bool(d.get(LIVE)))


def _what(action: Action) -> str:
    parts = [action.kind, action.member or "", f"in {action.group}"]
    if action.message_id:
        parts.append(f"(message {action.message_id})")
    if action.reason:
        parts.append(f"because {action.reason}")
    return " ".join(p for p in parts if p)


def _jsonable(value: Any) -> dict[str, Any]:
    import json

    return dict(json.loads(json.dumps(dict(value), default=str, ensure_ascii=False)))
