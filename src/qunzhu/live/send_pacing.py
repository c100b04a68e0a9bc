"""Paces one connector's messages to its platform's limits (:mod:`qunzhu.adapters.send_limits`).

The executor's workers share one pacer per connector: each reserves the next slot that keeps
both the connector-wide rate and the chat's own limits, then waits for it. Reserving under a
lock, not checking, is what keeps four workers from taking the same free slot. Where the
limits ask for it (a WeChat personal account), each slot gets a random delay on top, and past
the daily cap no slot is given: :class:`DailyCapReached` says when the next one frees up.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable

from qunzhu.adapters.send_limits import SendLimits

WINDOW = 60.0
DAY = 86_400.0
MARGIN = 1.05


class DailyCapReached(Exception):
    def __init__(self, cap: int, free_in: float) -> None:
        super().__init__(
            f"the daily cap of {cap} messages is reached; the next can go in {free_in / 3600:.1f} h"
        )
        self.cap = cap
        self.free_in = free_in


class SendPacer:
    def __init__(
        self,
        limits: SendLimits,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.rng = rng
        self._lock = threading.Lock()
        self._next_global = 0.0
        self._chats: dict[str, deque[float]] = {}
        self._pruned = 0.0
        self._day: deque[float] = deque()  # slots of the last 24 h, when there is a cap

    def reserve(self, chat: str) -> float:
        """Take the next slot for a message to ``chat``; seconds to wait for it. Raises
        :class:`DailyCapReached` when the cap is used up (nothing is reserved then)."""
        with self._lock:
            now = self.clock()
            self._check_cap(now)
            slot = self._free_slot(chat, now)
            if self.limits.jitter:  # no two gaps alike: a fixed rhythm reads as a machine
                slot += self.rng(0.0, self.limits.jitter)
            self._take(chat, slot, now)
            return slot - now

    def try_reserve(self, chat: str) -> bool:
        """Take a slot for a message to ``chat`` only if it is free now: no wait, the daily
        cap not reached, no jitter to wait out. False (nothing reserved) otherwise: the
        caller, an event loop that must not wait, leaves the message to ``reserve``."""
        return self.reserve_within(chat, 0.0) is not None

    def reserve_within(self, chat: str, most: float) -> float | None:
        """Take the next slot for a message to ``chat`` if it is at most ``most`` seconds
        away, the daily cap not reached and no jitter to wait out; the seconds to wait for
        it. None (nothing reserved) otherwise. An event loop waits that long with a timer
        (``asyncio.sleep``, no thread held), in the order its slots were taken."""
        with self._lock:
            now = self.clock()
            if self.limits.jitter:  # a random delay is a wait by design
                return None
            try:
                self._check_cap(now)
            except DailyCapReached:
                return None
            slot = self._free_slot(chat, now)
            if slot - now > most:
                return None
            self._take(chat, slot, now)
            return slot - now

    def _check_cap(self, now: float) -> None:
        cap = self.limits.daily_cap
        if cap:
            while self._day and self._day[0] <= now - DAY:
                self._day.popleft()
            if len(self._day) >= cap:
                raise DailyCapReached(cap, self._day[0] + DAY - now)

    def _free_slot(self, chat: str, now: float) -> float:
        """The earliest moment the connector-wide rate and ``chat``'s limits allow."""
        slot = max(now, self._next_global)
        sent = self._chats.get(chat)
        if sent:
            slot = max(slot, sent[-1] + self.limits.chat_gap)
            if len(sent) >= self.limits.per_chat_per_minute:
                slot = max(slot, sent[-self.limits.per_chat_per_minute] + WINDOW)
        return slot

    def _take(self, chat: str, slot: float, now: float) -> None:
        sent = self._chats.setdefault(chat, deque())
        sent.append(slot)
        while len(sent) > self.limits.per_chat_per_minute:
            sent.popleft()
        if self.limits.daily_cap:
            self._day.append(slot)
        # 5% over the interval: requests paced exactly arrive bunched by the network and
        # the server counts arrivals (200 groups met ten 429s at 1.0001, one at 1.05)
        self._next_global = slot + max(MARGIN / self.limits.per_second, self.limits.min_gap)
        if now - self._pruned > WINDOW:  # a broadcast to 10,000 groups: forget old chats
            self._prune(now)

    def _prune(self, now: float) -> None:
        self._pruned = now
        for chat in [c for c, sent in self._chats.items() if sent[-1] < now - WINDOW]:
            del self._chats[chat]
