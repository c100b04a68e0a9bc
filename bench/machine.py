"""How fast this machine runs Python at the moment of a benchmark.

Shared machines change speed from hour to hour (other tenants, CPU frequency): the same
code, same input, took 2.6 times the CPU seconds one afternoon that it took the morning
before. Every result file records this figure at its start and end, so figures from
different runs can be compared: scale by the ratio of their loop times. The floors, being
measured in the same run, need no such care.
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
