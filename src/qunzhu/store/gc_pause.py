"""Cyclic garbage collection paused while a large batch of rows is alive: one counter for the
whole process, so a bulk import and a recompute in threads side by side pause and resume it
together.

A bulk import keeps a chunk of tens of thousands of tuples alive, a recompute its snapshot
of millions; every collection their allocations trigger walks them all again (a sixth of a
WeChat import, a third of a daily recompute: bench_intelligence --quick 2.0–2.4 s with the
collector, 1.4–1.5 s without). What such a run frees, reference counting frees; cycles made
meanwhile (by anyone in the process) wait until the last run ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausers = 0
_was_enabled = True


@contextmanager
def gc_paused() -> Iterator[None]:
    global _pausers, _was_enabled
    with _lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _was_enabled:
                gc.enable()
