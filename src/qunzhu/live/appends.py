"""Appends to the live shards from the web process: each update's early-delete claims and
events in one Redis transaction, and the updates of concurrent webhooks gathered so that
one round trip carries many."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qunzhu.live.early_ledger import set_claim

DECIDED = b"decided"
"""A stream entry's field saying its update was judged at receipt already (the early
deletes' watcher leaves it alone: judging it again only finds its claims taken)."""


def append(
    pipe: Any,
    payloads: Sequence[tuple[str, bytes]],
    claims: Sequence[str],
    decided: bool = False,
) -> None:
    """An update's commands: its claims first, so a reader of the stream finds them set."""
    for key in claims:
        set_claim(pipe, key)
    for stream, payload in payloads:
        pipe.xadd(stream, {"event": payload, DECIDED: b"1"} if decided else {"event": payload})


class Appends:
    """The appends of one event loop, gathered: while one transaction is on its way to
    Redis, the updates that arrive meanwhile wait for the next, so under load one round
    trip and one connection checkout carry many updates instead of one each.

    Each update's claims and events are in the same ``MULTI``: they reach the stream
    together, and a failed transaction fails every update in it (each webhook then answers
    with an error and the platform sends it again)."""

    def __init__(self, loop: Any, client: Any) -> None:
        self.loop = loop
        self.client = client
        self._waiting: list[tuple[list[tuple[str, bytes]], list[str], bool, Any]] = []
        self._flushing: Any = None  # the task sending, while one is

    async def put(
        self, payloads: list[tuple[str, bytes]], claims: list[str], decided: bool = False
    ) -> list[bool]:
        done = self.loop.create_future()
        self._waiting.append((payloads, claims, decided, done))
        if self._flushing is None:
            self._flushing = self.loop.create_task(self._flush())
        result: list[bool] = await done
        return result

    async def _flush(self) -> None:
        batch: list[tuple[list[tuple[str, bytes]], list[str], bool, Any]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                pipe = self.client.pipeline(transaction=True)
                for payloads, claims, decided, _ in batch:
                    append(pipe, payloads, claims, decided)
                try:
                    replies = await pipe.execute()
                except Exception as exc:
                    for *_, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                at = 0
                for payloads, claims, _, done in batch:
                    won = [bool(r) for r in replies[at : at + len(claims)]]
                    at += len(claims) + len(payloads)
                    if not done.done():
                        done.set_result(won)
        except BaseException:  # cancelled with the loop: no webhook waits for ever
            for *_, done in [*batch, *self._waiting]:
                if not done.done():
                    done.cancel()
            raise
        finally:
            self._flushing = None
