"""The executor's workers: a send paced to the platform's limits and the early actions that
reach the worker while it waits (Executor._pace)."""

from __future__ import annotations

from typing import Any

from qunzhu_tests_connectors import rows
from sqlalchemy import select

from qunzhu.adapters.base import ConnectorInfo
from qunzhu.adapters.state import StateBook
from qunzhu.events import Action
from qunzhu.live.executor import Executor
from qunzhu.moderation.early import EARLY
from qunzhu.store import Store
from qunzhu.store.connectors import ConnectorAction

# a millisecond between two messages: every send after the first waits in _pace
PACED = {"send_per_second": 1000, "send_per_chat_per_minute": 60000, "send_min_gap": 0.001}


class _Platform:
    def __init__(self, info: ConnectorInfo) -> None:
        self.info = info
        self.sent: list[str] = []

    def perform(self, action: Action) -> dict[str, Any]:
        self.sent.append(str(action.text))
        return {}


def test_a_burst_of_early_messages_is_sent_in_order_without_nesting_waits(
    store: Store, community: str
) -> None:
    from qunzhu.adapters.manage import save_connector

    cid = save_connector(
        store, community=community, platform="telegram", name="tg", config=PACED,
        credentials={"token": "t"},
    )  # fmt: skip
    info = ConnectorInfo(
        id=cid, name="tg", platform="telegram", community=community, config=PACED,
        credentials={},
    )  # fmt: skip
    fake = _Platform(info)
    executor = Executor(store, StateBook(store), lambda a: fake, workers=1)  # type: ignore[arg-type,return-value]
    # early messages in the first lane: each reaches the worker while the one before it
    # waits for its slot. Carried out inside that wait, each waited inside the last one's
    # (400 deep: RecursionError), and the innermost, the last, went first
    burst = [
        Action(
            kind="send_message",
            platform="telegram",
            community=community,
            group="-100",
            text=f"n{n}",
            detail={EARLY: True},
        )
        for n in range(400)
    ]
    try:
        executor.submit(burst)
        assert executor.drain(timeout=60)
    finally:
        executor.stop()
    assert fake.sent == [f"n{n}" for n in range(400)]
    statuses = rows(store, select(ConnectorAction.status))
    assert statuses == [("sent",)] * 400
