"""How fast this machine runs plain Python at the moment of a benchmark.

Shared machines change speed from hour to hour (other tenants, CPU frequency, the disk):
on 2026-11-23 the import floor, same script and file, needed 2.2 times the CPU seconds in
the afternoon that it needed in the morning. Every result file records this figure at its
start and end. It is a rough guide only: that afternoon this loop was *not* slower, the
SQLite- and file-bound work was. The floors, measured in the same run as each figure, are
the comparison to trust.
"""

from __future__ import annotations

import time
from typing import Any


def python_loop_seconds(n: int = 10_000_000) -> float:
    """CPU seconds of a plain Python loop of ``n`` additions (about 0.5 s on a quick core)."""
    started = time.process_time()
    total = 0
    for i in range(n):
        total += i
    assert total == n * (n - 1) // 2
    return round(time.process_time() - started, 3)


def speed() -> dict[str, Any]:
    return {"python_loop_10M_cpu_s": python_loop_seconds()}
