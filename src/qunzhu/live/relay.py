"""Platform calls that only the web process can make, asked for by the live worker.

When ``qunzhu serve`` runs its pipeline in a worker process (Redis configured), a OneBot
implementation connected by *reverse* WebSocket is connected to the web process: the socket
lives there, but the executor that carries out actions lives in the worker. The worker's
connector then sends the call through Redis and the web process makes it on the socket:

- the worker pushes ``{"id", "api", "params", "reply", "deadline"}`` onto
  ``qunzhu:relay:<live stream>:<connector id>`` and waits on its own reply list;
- the web process pops it, calls the API on its live socket and pushes the answer (or the
  error) onto the reply list, which expires soon after.

A request found after its deadline is dropped unanswered: the worker has given up on it
and will retry, and performing it late as well would do the action twice.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from qunzhu.adapters.base import ConnectorError

log = logging.getLogger(__name__)

PREFIX = "qunzhu:relay:"
REPLY_TTL_S = 60
CALL_S = 16.0
"""The longest a call on the socket takes (the OneBot adapter's timeout, and a second)."""
CLIENT_WAIT_S = CALL_S + 4.0
"""The worker waits this long; the web process starts a call only while at least CALL_S of
that is left, so a call it starts always ends before the worker gives up and retries."""


def request_key(namespace: str, connector_id: int) -> str:
    """Per live stream (one deployment) and connector."""
    return f"{PREFIX}{namespace}:{connector_id}"


class RelayClient:
    """In the worker: ``call`` returns the raw answer the platform gave the web process."""

    def __init__(
        self, client: Any, connector_id: int, *, namespace: str, timeout: float = CLIENT_WAIT_S
    ) -> None:
        self.client = client
        self.key = request_key(namespace, connector_id)
        self.timeout = timeout

    def call(self, api: str, params: dict[str, Any]) -> Any:
        rid = uuid.uuid4().hex
        reply = f"{self.key}:reply:{rid}"
        request = {
            "id": rid,
            "api": api,
            "params": params,
            "reply": reply,
            "deadline": time.time() + self.timeout,
        }
        try:
            self.client.rpush(self.key, json.dumps(request, ensure_ascii=False))
            answered = self.client.blpop([reply], timeout=max(1, round(self.timeout)))
        except Exception as exc:  # Redis away: transient, the executor retries
            raise ConnectorError(f"{api}: relay through Redis failed: {exc}") from exc
        if answered is None:
            raise ConnectorError(
                f"{api}: the web process did not answer within {self.timeout:.0f} s "
                "(is `qunzhu serve` running?)"
            )
        body = json.loads(answered[1])
        if not body.get("ok"):
            raise ConnectorError(f"{api}: {body.get('error') or 'failed in the web process'}")
        return body.get("answer")


class RelayServer:
    """In the web process: answers relayed calls for the connectors ``call_for`` knows.

    ``call_for(connector_id)`` gives a function making the call on a live socket, or None
    when the connector has none here (then the request is answered with that error)."""

    def __init__(
        self,
        client: Any,
        connector_ids: list[int],
        call_for: Callable[[int], Callable[[str, dict[str, Any]], Any] | None],
        *,
        namespace: str,
        workers: int = 4,
    ) -> None:
        self.client = client
        self.keys = [request_key(namespace, c) for c in connector_ids]
        self._ids = dict(zip(self.keys, connector_ids, strict=True))
        self.call_for = call_for
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="qunzhu-relay")
        self.answered = 0
        self._count = threading.Lock()

    def start(self) -> None:
        if self._thread is None and self.keys:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="qunzhu-relay", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._pool.shutdown(wait=True, cancel_futures=False)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                got = self.client.blpop(self.keys, timeout=1)
            except Exception as exc:  # Redis away: wait and try again
                log.warning("reading relayed calls failed: %s", exc)
                self._stop.wait(1.0)
                continue
            if got is not None:
                key = got[0].decode() if isinstance(got[0], bytes) else str(got[0])
                self._pool.submit(self._answer, self._ids[key], got[1])

    def _answer(self, connector_id: int, raw: bytes) -> None:
        try:
            request = json.loads(raw)
            reply = str(request["reply"])
        except (ValueError, KeyError, TypeError):
            log.warning("a relayed call for connector %s could not be read", connector_id)
            return
        if time.time() + CALL_S > float(request.get("deadline") or 0):
            # the worker would give up before the call ends and retry: doing it now as
            # well could do it twice
            return
        call = self.call_for(connector_id)
        if call is None:
            body: dict[str, Any] = {
                "ok": False,
                "error": f"no live WebSocket in the web process for connector {connector_id}",
            }
        else:
            try:
                body = {"ok": True, "answer": call(str(request["api"]), request["params"])}
            except Exception as exc:  # the worker decides what the failure means
                body = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.rpush(reply, json.dumps(body, ensure_ascii=False, default=str))
            pipe.expire(reply, REPLY_TTL_S)
            pipe.execute()
            with self._count:
                self.answered += 1
        except Exception as exc:
            log.warning("answering a relayed call failed: %s", exc)
