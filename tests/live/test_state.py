"""StateBook: counters reach the connectors row, written inline until start() and by the
background thread after it (so a webhook request never waits for that UPDATE)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from qunzhu_tests_connectors import rows, run_coroutine
from sqlalchemy import select

from qunzhu.adapters import state as state_module
from qunzhu.adapters.manage import save_connector
from qunzhu.adapters.state import LoopCounter, StateBook
from qunzhu.store import Store
from qunzhu.store.connectors import Connector


def _saved(store: Store) -> int:
    return save_connector(
        store,
        community="acme",
        platform="telegram",
        name="tg",
        config={},
        credentials={"token": "1:x", "secret": "s"},
    )


def _counters(store: Store, cid: int) -> tuple[int, int, str]:
    row = rows(
        store,
        select(Connector.events_received, Connector.actions_sent, Connector.status).where(
            Connector.id == cid
        ),
    )[0]
    return int(row[0]), int(row[1]), str(row[2])


def test_status_changes_are_written_at_once(store: Store, community: str) -> None:
    cid = _saved(store)
    book = StateBook(store)
    book.set(cid, "disabled", "bot removed from the chat")
    assert _counters(store, cid)[2] == "disabled"


def test_without_a_flusher_counters_are_written_inline(
    store: Store, community: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_module, "FLUSH_EVERY", 0.0)
    cid = _saved(store)
    book = StateBook(store)
    book.event(cid, 3)
    book.action(cid)
    assert _counters(store, cid)[:2] == (3, 1)


def test_with_a_flusher_the_caller_never_writes(
    store: Store, community: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_module, "FLUSH_EVERY", 0.0)
    writers: list[str] = []
    real = state_module.records.set_status

    def spy(*args: Any, **kwargs: Any) -> None:
        writers.append(threading.current_thread().name)
        real(*args, **kwargs)

    monkeypatch.setattr(state_module.records, "set_status", spy)
    cid = _saved(store)
    book = StateBook(store)
    book.event(cid)
    assert writers == [threading.current_thread().name]  # inline before start()
    writers.clear()
    book.start()
    for _ in range(50):
        book.event(cid, 2)
        book.action(cid)
    book.stop()
    assert threading.current_thread().name not in writers[:-1]  # stop() writes the last
    assert _counters(store, cid)[:2] == (101, 50)


def test_the_flusher_writes_counters_on_its_own(
    store: Store,
    community: str,
    wait_for: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(state_module, "FLUSH_EVERY", 0.05)
    cid = _saved(store)
    book = StateBook(store)
    book.start()
    try:
        book.event(cid, 5)
        book.action(cid)
        wait_for(lambda: _counters(store, cid)[:2] == (5, 1), what="the flusher's write")
    finally:
        book.stop()


def test_a_loop_counter_hands_on_once_a_second_and_what_is_left_at_the_end():
    handed: list[tuple[int, int]] = []

    class Book:
        def event(self, connector_id: int, count: int = 1) -> None:
            handed.append((connector_id, count))

    async def count() -> None:
        loop = asyncio.get_running_loop()
        counter = LoopCounter(Book(), 7, loop)  # type: ignore[arg-type]
        counter.add(3)
        counter.add(2)
        await asyncio.sleep(0.05)  # a hand-off would have run by now
        assert handed == []  # within its second: kept
        counter.counted_at -= state_module.FLUSH_EVERY  # its second is over
        counter.add(4)
        counter.add(1, last=True)
        await asyncio.sleep(0.05)

    run_coroutine(count())
    assert handed == [(7, 9), (7, 1)]
