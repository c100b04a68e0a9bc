"""Where an ad's receipt → delete goes, stage by stage (``bench_discord.py --stages``).

Bench-only: in the hub's process, :func:`install` wraps a few functions of the live path
so that each stamps ``time.monotonic()`` per Discord message id as the message passes;
:func:`dump` writes the stamps out when the hub stops. ``time.monotonic`` is the system's
CLOCK_MONOTONIC, the same in every process of the machine, so the hub's stamps compare
with the fake's (which sent the dispatch, and received the DELETE). Nothing of the product
changes; a stamp costs about a microsecond.
"""

from __future__ import annotations

import functools
import itertools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

STAMPS: dict[str, dict[str, float]] = {}
ORDER = (
    "receive",  # the connector reads the dispatch (on the gateway's loop)
    "queued",  # its event in the Redis stream (the queue's put returned)
    "watched",  # seen by whoever decides early deletes
    "decided",  # its early delete decided, handed to the executor
    "claimed",  # its claim won in Redis (at receipt, on the gateway's loop)
    "submitted",  # claimed and in an executor worker's queue
    "performing",  # an executor worker calls the connector
    "rest_loop",  # discord.py's delete_message coroutine starts (REST loop)
)


def stamp(stage: str, ids: Sequence[Any]) -> None:
    now = time.monotonic()
    for i in ids:
        if i:
            STAMPS.setdefault(str(i), {}).setdefault(stage, now)


def _wrap(owner: Any, name: str, ids_of: Callable[..., Sequence[Any]], stage: str,
          after: bool = False) -> None:  # fmt: skip
    original = getattr(owner, name)
    static = isinstance(owner.__dict__.get(name), staticmethod)

    if _is_coroutine(original):

        @functools.wraps(original)
        async def awrapped(*args: Any, **kwargs: Any) -> Any:
            if not after:
                stamp(stage, ids_of(*args, **kwargs))
            out = await original(*args, **kwargs)
            if after:
                stamp(stage, ids_of(*args, **kwargs))
            return out

        setattr(owner, name, awrapped)
        return

    @functools.wraps(original)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not after:
            stamp(stage, ids_of(*args, **kwargs))
        out = original(*args, **kwargs)
        if after:
            stamp(stage, ids_of(*args, **kwargs))
        return out

    setattr(owner, name, staticmethod(wrapped) if static else wrapped)


def _is_coroutine(fn: Any) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


def _message_ids(items: Sequence[Any]) -> list[Any]:
    return [getattr(e, "message_id", None) for e in items]


_key_ids: dict[str, str] = {}  # an early delete's key → its message id


def _note_keys(self: Any, actions: Sequence[Any], *args: Any, **kwargs: Any) -> list[Any]:
    for a in actions:
        _key_ids[a.key] = a.message_id
    return [a.message_id for a in actions]


def _dispatch_id(self: Any, name: Any, data: Any, *args: Any, **kwargs: Any) -> list[Any]:
    return [data.get("id")] if name == "MESSAGE_CREATE" else []


def install() -> None:
    from discord.http import HTTPClient

    from qunzhu.adapters.discord.adapter import DiscordConnector
    from qunzhu.live.executor import Executor
    from qunzhu.live.queue import RedisQueue
    from qunzhu.live.sink import Sink

    sample_cpu_until_stopped()
    _wrap(DiscordConnector, "_dispatched", _dispatch_id, "receive")
    _wrap(RedisQueue, "put", lambda self, events, *a, **k: _message_ids(events), "queued", True)
    _wrap(RedisQueue, "put_claiming", lambda self, events, *a, **k: _message_ids(events),
          "queued", True)  # fmt: skip
    _wrap(RedisQueue, "aput", lambda self, events, *a, **k: _message_ids(events), "queued", True)
    _wrap(Sink, "_decide_early", lambda self, items: _message_ids(items), "watched")
    _wrap(Sink, "_hand", lambda to, actions: _message_ids(actions), "decided")
    _wrap(Sink, "early_for", lambda self, events: _message_ids(events), "watched")
    _wrap(Executor, "perform_early", _note_keys, "decided")
    _wrap(Executor, "submit", lambda self, actions: _message_ids(actions), "submitted")
    _wrap(Executor, "_carry_out", lambda self, a: [a.message_id], "performing")
    from qunzhu.live.early_ledger import RedisLedger

    _wrap(RedisLedger, "aclaim", lambda self, key: [_key_ids.get(key)], "claimed", True)
    _wrap(HTTPClient, "delete_message", lambda self, channel, message, **k: [message],
          "rest_loop")  # fmt: skip


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each live thread of this process, by name."""
    import threading

    out: dict[str, float] = {}
    for t in threading.enumerate():
        try:
            clock = time.pthread_getcpuclockid(t.ident or 0)
            out[t.name] = out.get(t.name, 0.0) + round(time.clock_gettime(clock), 3)
        except (OSError, TypeError):
            continue
    return out


_CPU: dict[str, dict[str, float]] = {}


def sample_cpu_until_stopped() -> None:
    """Keep the threads' CPU seconds as they were last seen (a thread gone by the end of
    the run keeps its last figure)."""
    import threading

    def run() -> None:
        while True:
            _CPU["threads"] = {**_CPU.get("threads", {}), **thread_cpu()}
            _CPU["process"] = {"cpu_s": round(time.process_time(), 3)}
            time.sleep(0.5)

    threading.Thread(target=run, name="bench-cpu-sampler", daemon=True).start()


def dump(path: str) -> None:
    Path(path).write_text(json.dumps(STAMPS))
    Path(path).with_suffix(".cpu.json").write_text(json.dumps(_CPU, indent=1))


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def report(path: Path, sent: dict[str, float], deleted: dict[str, float]) -> dict[str, Any]:
    """p50/p99 of each stage's share (ms from the stage before it that was stamped), for
    the ads in ``sent`` (message id → when the fake sent it) and ``deleted`` (→ when the
    fake received its DELETE)."""
    stamps: dict[str, dict[str, float]] = json.loads(path.read_text())
    shares: dict[str, list[float]] = {}
    for mid, at in sent.items():
        if mid not in deleted:
            continue
        seen = {"sent": at, **stamps.get(mid, {}), "fake_got_delete": deleted[mid]}
        # in the order the hub passed them (which differs between the modes)
        path_of = sorted(seen, key=lambda stage: (seen[stage], ORDER.index(stage)
                         if stage in ORDER else -1 if stage == "sent" else 99))  # fmt: skip
        for before, stage in itertools.pairwise(path_of):
            shares.setdefault(f"{before}→{stage}", []).append((seen[stage] - seen[before]) * 1000)
    common = sorted(shares, key=lambda step: -len(shares[step]))
    return {
        step: {"n": len(v), "p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99), "max_ms": pct(v, 1.0)}
        for step, v in ((step, shares[step]) for step in common)
    }


def profile_gateway(path: str) -> None:
    """cProfile the Discord connector's gateway thread (its loop) into ``path``."""
    import cProfile

    from qunzhu.adapters.discord.adapter import DiscordConnector

    original = DiscordConnector.run_once

    def run_once(self: Any, stop: Any) -> None:
        prof = cProfile.Profile()
        try:
            prof.runcall(original, self, stop)
        finally:
            prof.dump_stats(path)

    DiscordConnector.run_once = run_once  # type: ignore[method-assign]
