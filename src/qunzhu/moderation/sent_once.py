"""A live decision's warning goes out once: the early one, or else the batch's.

Where the platform cannot delete, the warning of an ad is decided at receipt
(:mod:`qunzhu.moderation.early_warn`) and again by the batch, with the same key (one per
message). The record here says which goes:

- the early path *plans* its warning when it hands it to the executor (:meth:`plan`);
- the batch leaves out a warning whose twin is planned, under way or sent (:meth:`taken`):
  handed to the executor it would be paced as a message and counted against a personal
  account's daily cap, to send nothing. The twin's outcome goes on the batch's decision
  (:meth:`outcomes` when it is known here, else the executor's report by the message's key);
- a connector sends a live warning only as the first caller of its key (:meth:`run`): a twin
  that got there second (the batch decided before the early one was planned, or a
  redelivered early one) returns the first one's result without sending. When the first try
  failed, the second sends. On an event loop (:meth:`arun`, the early warning sent on the
  connection that received the ad) nothing waits: a twin under way, or a failed first try,
  raises :class:`TwinPending` and the executor hands the warning to a worker's ``run``.

The record is kept in this process's memory, one for the connectors and the live moderator
of the same settings (:meth:`SentOnce.of`): no round trip on the way to the platform. When
``qunzhu serve`` is split, the web process sends the early warning and the live worker runs
the batch: the worker learns of the plan from the claim the web process puts in Redis with
the update (``qunzhu:early:<stream>:<key>``, :mod:`qunzhu.live.early_ledger`), which
:meth:`taken` reads in the same round trip for the whole batch. Redis away: nothing is taken
and the batch's twin is sent (a second warning is the lesser harm than none).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from qunzhu.events import Action
from qunzhu.moderation.notices import warns_early

log = logging.getLogger(__name__)
WAIT_S = 5.0
"""How long the second twin at a connector waits for the outcome of the first, under way."""
EARLY_CLAIMS = "qunzhu:early:"
"""The Redis early ledger's prefix (qunzhu.live.early_ledger.REDIS_PREFIX: the layers keep
this package from importing it)."""
PLANNED = "planned"
PENDING = "pending"
_MEMORY = 50_000
_OF: dict[int, tuple[Any, SentOnce]] = {}
_OF_LOCK = threading.Lock()

State = dict[str, Any] | str  # PLANNED, PENDING, or what came of it: {"sent": bool, ...}


class TwinPending(Exception):
    """``SentOnce.arun`` cannot tell on an event loop whether to send: a thread's ``run``
    must (it waits for the twin under way)."""


def live_warning(action: Action) -> bool:
    """A warning a live moderation decision made (early or the batch's)."""
    return action.kind == "warn" and "event" in action.detail and "decision" in action.detail


class SentOnce:
    def __init__(self, redis_url: str | None = None, namespace: str = "qunzhu:live") -> None:
        self.claims = f"{EARLY_CLAIMS}{namespace}:"  # the early ledger's, in Redis
        self.client: Any = None
        if redis_url:
            import redis

            self.client = redis.Redis.from_url(
                redis_url, socket_connect_timeout=2, socket_timeout=2
            )
        self._seen: OrderedDict[str, State] = OrderedDict()
        self._done = threading.Condition()

    @classmethod
    def of(cls, settings: Any) -> SentOnce:
        """The one record of a process's settings: the connectors and the live moderator
        share it (in memory, it is the only place they meet)."""
        with _OF_LOCK:
            held = _OF.get(id(settings))
            if held is None or held[0] is not settings:
                redis_url = getattr(settings, "redis_url", None)
                made = cls(redis_url, str(getattr(settings, "live_stream", "qunzhu:live")))
                held = _OF[id(settings)] = (settings, made)
            return held[1]

    # -- the early path and the batch ----------------------------------------------------
    def plan(self, keys: Sequence[str]) -> None:
        """The early warnings with ``keys`` are handed to this process's executor."""
        if not keys:
            return
        with self._done:
            for key in keys:
                self._seen.setdefault(key, PLANNED)
            self._trim()

    def taken(self, actions: Sequence[Action]) -> set[str]:
        """The keys of the live warnings among ``actions`` whose early twin is planned,
        under way or sent: the batch does not hand them on. Redis away: none."""
        keys = [a.key for a in actions if live_warning(a) and warns_early(a.platform)]
        if not keys:
            return set()
        states = self._states(keys)
        return {k for k, state in states.items() if state is not None and not _failed(state)}

    def outcomes(self, keys: Sequence[str]) -> dict[str, str]:
        """What came of the warnings with ``keys`` that are done: sent or failed."""
        return {
            k: "sent" if state.get("sent") else "failed"
            for k, state in self._states(list(keys)).items()
            if isinstance(state, dict)
        }

    def _states(self, keys: list[str]) -> dict[str, State | None]:
        if not keys:
            return {}
        with self._done:
            states: dict[str, State | None] = {k: self._seen.get(k) for k in keys}
        if self.client is not None:
            try:
                claims = self.client.mget([self.claims + k for k in keys])
            except Exception as exc:
                log.warning("early claims unreadable (%s): the batch's warnings go on", exc)
                return states
            for k, claim in zip(keys, claims, strict=True):
                if claim is not None and states[k] is None:
                    states[k] = PLANNED  # handed over by another process (a split serve)
        return states

    # -- the connector -------------------------------------------------------------------
    def run(self, action: Action, send: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``send()`` unless the twin of ``action`` was sent; the result either way."""
        if not live_warning(action):
            return send()
        key = action.key
        if not self._claim(key):
            done = self._outcome(key)
            if done is None:  # under way past the wait: the twin sends it
                return {"once": "sent by its twin (still under way)"}
            if done.get("sent"):
                return {**dict(done.get("result") or {}), "once": "sent by its twin"}
            # the first try failed: this one sends
        try:
            result = send()
        except BaseException:
            self._record(key, {"sent": False})
            raise
        self._record(key, {"sent": True, "result": result})
        return result

    async def arun(
        self, action: Action, send: Callable[[], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        """``run`` on an event loop, which must not wait: when the twin of ``action`` is
        under way, or its first try failed, raises :class:`TwinPending` without sending
        (the caller hands the action to a thread, whose ``run`` waits and decides)."""
        if not live_warning(action):
            return await send()
        key = action.key
        if not self._claim(key):
            with self._done:
                state = self._seen.get(key)
            if isinstance(state, dict) and state.get("sent"):
                return {**dict(state.get("result") or {}), "once": "sent by its twin"}
            raise TwinPending(f"the twin of warning {key} is under way or failed")
        try:
            result = await send()
        except BaseException:
            self._record(key, {"sent": False})
            raise
        self._record(key, {"sent": True, "result": result})
        return result

    def _claim(self, key: str) -> bool:
        """The first caller sends: the key is free, or only planned."""
        with self._done:
            state = self._seen.get(key)
            if state is None or state == PLANNED:
                self._seen[key] = PENDING
                self._trim()
                return True
            return False

    def _outcome(self, key: str) -> dict[str, Any] | None:
        with self._done:
            self._done.wait_for(lambda: isinstance(self._seen.get(key), dict), WAIT_S)
            state = self._seen.get(key)
            return state if isinstance(state, dict) else None

    def _record(self, key: str, outcome: dict[str, Any]) -> None:
        with self._done:
            self._seen[key] = outcome
            self._trim()
            self._done.notify_all()

    def _trim(self) -> None:
        while len(self._seen) > _MEMORY:
            self._seen.popitem(last=False)


def _failed(state: State) -> bool:
    return isinstance(state, dict) and not state.get("sent")
