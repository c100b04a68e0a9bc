"""Freshness of signed callbacks: a valid signature proves who wrote a request, not when.

A callback whose signature covers a timestamp (WeCom's ``msg_signature`` covers
``timestamp``, ``nonce`` and the ciphertext) is accepted only while that timestamp is
within ``window`` seconds of this server's clock, and only once: a captured request
replayed later is refused, and one replayed at once is refused as well (its signature was
seen). Signatures are remembered for as long as they would pass the time check, so memory
is bounded by the callbacks of one window. The memory is per process: a replay to another
process within the window passes here, and changes nothing there either (every event is
stored once by its key).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

DEFAULT_WINDOW = 300.0  # seconds: WeCom retries within seconds; clocks drift by a few more


class StaleCallback(ValueError):
    """A signed callback outside the time window, or one already received."""


class Freshness:
    def __init__(self, window: float = DEFAULT_WINDOW, clock: Callable[[], float] = time.time):
        self.window = window
        self.clock = clock
        self._seen: dict[str, float] = {}  # signature -> when it may be forgotten
        self._lock = threading.Lock()

    def check(self, timestamp: str, signature: str) -> None:
        """Raise StaleCallback unless ``timestamp`` (Unix seconds) is within the window and
        ``signature`` was not accepted before. Call after the signature is verified, and
        :meth:`accepted` once the callback is handled (a callback that failed may come
        again: the platform retries it)."""
        if self.window <= 0:
            return  # checking switched off (a connector's config says so)
        try:
            sent = float(timestamp)
        except ValueError:
            raise StaleCallback(f"timestamp {timestamp[:20]!r} is not a Unix time") from None
        age = self.clock() - sent
        if age != age or abs(age) > self.window:  # NaN fails as well
            raise StaleCallback(
                f"timestamp {timestamp[:20]} is {_age(age)}; callbacks are accepted within "
                f"{self.window:g} s of this server's clock (a replay, or a clock to fix)"
            )
        with self._lock:
            if signature in self._seen:
                raise StaleCallback("this signed callback was received before (a replay)")

    def accepted(self, timestamp: str, signature: str) -> None:
        if self.window <= 0:
            return
        now = self.clock()
        with self._lock:
            if len(self._seen) > 1000:  # forget what the time check refuses by now
                self._seen = {s: t for s, t in self._seen.items() if t > now}
            self._seen[signature] = float(timestamp) + self.window


def _age(seconds: float) -> str:
    if seconds != seconds:
        return "not a time"
    size = abs(seconds)
    shown = f"{size / 86400:.1f} days" if size >= 86400 else f"{size:.0f} s"
    return f"{shown} old" if seconds > 0 else f"{shown} in the future"
