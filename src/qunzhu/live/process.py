"""The live worker of ``qunzhu serve``: a child process running ``qunzhu worker``.

``serve`` starts it when Redis is configured and ``QUNZHU_LIVE_PROCESS`` is true (the
default), hands it the same settings through the environment, and restarts it when it
dies (after 1 s, doubling up to a minute while it keeps dying within a minute of its
start). The web process answers webhooks once an update is in its shard's Redis stream;
the worker stores it and carries out what was decided. It is one ``qunzhu worker`` like any
other started by hand on this host or another: the shards a dead worker held, and the
entries it had read, are taken over once its leases lapse (by its successor or another
worker), so a crash loses nothing; their idempotency keys make the second pass a no-op.
"""

from __future__ import annotations

import gc
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from qunzhu.settings import Settings

log = logging.getLogger(__name__)

READY_FD = "QUNZHU_LIVE_READY_FD"
MAX_BACKOFF_S = 60.0
HEALTHY_AFTER_S = 60.0


def wants_live_process(settings: Settings) -> bool:
    return bool(settings.redis_url) and settings.live_process


def worker_command() -> list[str]:
    return [sys.executable, "-m", "qunzhu", "worker"]


def freeze_startup_heap() -> None:
    """Once a serving process has started: what it made so far (the spam model's
    vocabulary, the specs, compiled statements, imported modules) lives as long as the
    process, and is moved out of the cyclic collector's sight. Every full collection walked
    all of it: under load it paused the web process for 200-290 ms, and each such pause was
    the p99 of the webhooks that arrived meanwhile (bench/bench_webhooks.py)."""
    gc.collect()
    gc.freeze()


def tell_ready() -> None:
    """In the worker: tell the serving process that the queue is being taken."""
    fd = os.environ.pop(READY_FD, None)
    if fd is None:
        return
    try:
        with os.fdopen(int(fd), "wb") as pipe:
            pipe.write(b"ready\n")
    except (OSError, ValueError):  # serve gone or not waiting: nothing to tell
        pass


class LiveProcess:
    def __init__(self, settings: Settings, *, backoff: float = 1.0) -> None:
        self.settings = settings
        self.backoff = backoff
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.last_exit: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self, ready_timeout: float = 60.0) -> bool:
        """Start the worker and wait until it takes the queue (or ``ready_timeout``):
        answered updates then wait for the pipeline, not for an interpreter starting.
        False when it was not ready in time (it keeps starting; updates wait queued)."""
        if self._thread is not None:
            return True
        self._stop.clear()
        ready = self._spawn(ready_timeout)
        self._thread = threading.Thread(target=self._watch, name="qunzhu-live-watch", daemon=True)
        self._thread.start()
        return ready

    def _spawn(self, ready_timeout: float = 0.0) -> bool:
        env = dict(os.environ)
        env.update(self.settings.as_environment())
        env["QUNZHU_SAMPLE_DATA"] = "false"  # serve loaded it already if it was wanted
        read_end, write_end = os.pipe()
        env[READY_FD] = str(write_end)
        try:
            with self._lock:
                self.proc = subprocess.Popen(worker_command(), env=env, pass_fds=(write_end,))
                self.starts += 1
        finally:
            os.close(write_end)
        log.info("live worker started (pid %s)", self.proc.pid)
        with os.fdopen(read_end, "rb") as said:
            if ready_timeout <= 0:
                return False
            # the line comes once the worker's hub runs; EOF (b"") if it died first
            readable, _, _ = select.select([said], [], [], ready_timeout)
            return bool(readable) and said.readline().strip() == b"ready"

    def _watch(self) -> None:
        wait = self.backoff
        while not self._stop.is_set():
            proc = self.proc
            assert proc is not None
            started = time.monotonic()
            while proc.poll() is None:
                if self._stop.wait(0.2):
                    return
            self.last_exit = proc.returncode
            if self._stop.is_set():
                return
            wait = self.backoff if time.monotonic() - started > HEALTHY_AFTER_S else wait
            log.error(
                "the live worker exited with %s; starting it again in %.0f s",
                proc.returncode,
                wait,
            )
            if self._stop.wait(wait):
                return
            wait = min(MAX_BACKOFF_S, wait * 2)
            self._spawn()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM: the worker finishes the batch in hand and its actions, then exits."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.error("the live worker did not stop within %.0f s: killed", timeout)
            proc.kill()
            proc.wait(5)
        self.last_exit = proc.returncode

    def describe(self) -> dict[str, Any]:
        proc = self.proc
        return {
            "pid": proc.pid if proc is not None else None,
            "running": proc is not None and proc.poll() is None,
            "starts": self.starts,
            "last_exit": self.last_exit,
        }
