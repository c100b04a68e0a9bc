"""Paces one connector's messages to its platform's limits (:mod:`qunzhu.adapters.send_limits`).

The executor's workers share one pacer per connector: each reserves the next slot that keeps
both the connector-wide rate and the chat's own limits, then waits for it. Reserving under a
lock, not checking, is what keeps four workers from taking the same free slot.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from qunzhu.adapters.send_limits import SendLimits

WINDOW = 60.0
MARGIN = 1.05


class SendPacer:
    def __init__(self, limits: SendLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._lock = threading.Lock()
        self._next_global = 0.0
        self._chats: dict[str, deque[float]] = {}
        self._pruned = 0.0

    def reserve(self, chat: str) -> float:
        """Take the next slot for a message to ``chat``; seconds to wait for it."""
        with self._lock:
            now = self.clock()
            slot = max(now, self._next_global)
            sent = self._chats.setdefault(chat, deque())
            if sent:
                slot = max(slot, sent[-1] + self.limits.chat_gap)
            if len(sent) >= self.limits.per_chat_per_minute:
                slot = max(slot, sent[-self.limits.per_chat_per_minute] + WINDOW)
            sent.append(slot)
            while len(sent) > self.limits.per_chat_per_minute:
                sent.popleft()
            # 5% over the interval: requests paced exactly arrive bunched by the network and
            # the server counts arrivals (200 groups met ten 429s at 1.0001, one at 1.05)
            self._next_global = slot + MARGIN / self.limits.per_second
            if now - self._pruned > WINDOW:  # a broadcast to 10,000 groups: forget old chats
                self._prune(now)
            return slot - now

    def _prune(self, now: float) -> None:
        self._pruned = now
        for chat in [c for c, sent in self._chats.items() if sent[-1] < now - WINDOW]:
            del self._chats[chat]
