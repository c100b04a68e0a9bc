"""Early deletes carried out on the receiving connector's own event loop
(Executor.perform_early): claimed first, sent with the connector's asynchronous call, and
anything out of the ordinary left to the executor's usual way."""

from __future__ import annotations

from typing import Any

from qunzhu_tests_connectors import rows, run_coroutine
from sqlalchemy import select

from qunzhu.adapters.base import ConnectorError, ConnectorInfo
from qunzhu.adapters.state import StateBook
from qunzhu.events import Action
from qunzhu.live.executor import Executor
from qunzhu.moderation.early import EARLY
from qunzhu.store import Store
from qunzhu.store import connector_records as records
from qunzhu.store.connectors import ConnectorAction


class _Platform:
    """A connector whose synchronous ``perform`` (the usual way) and asynchronous
    ``adelete`` (on the loop) are both recorded."""

    def __init__(self, info: ConnectorInfo, *, fail_async: int = 0) -> None:
        self.info = info
        self.sync_calls: list[str] = []
        self.async_calls: list[str] = []
        self.fail_async = fail_async

    def perform(self, action: Action) -> dict[str, Any]:
        self.sync_calls.append(str(action.message_id))
        return {"deleted": True}

    async def adelete(self, action: Action) -> dict[str, Any]:
        self.async_calls.append(str(action.message_id))
        if self.fail_async:
            self.fail_async -= 1
            raise ConnectorError("connection reset")
        return {"deleted": True}


def _delete(message: str, group: str = "g1") -> Action:
    return Action(
        kind="delete_message",
        platform="discord",
        community="acme",
        group=group,
        member="m1",
        message_id=message,
        reason="ad",
        detail={EARLY: True},
    )


def _executor(store: Store, community: str, **platform: Any) -> tuple[Executor, _Platform]:
    from qunzhu.adapters.manage import save_connector

    cid = save_connector(
        store, community=community, platform="discord", name="dc", config={},
        credentials={"token": "t"},
    )  # fmt: skip
    info = ConnectorInfo(
        id=cid, name="dc", platform="discord", community=community, config={}, credentials={}
    )
    fake = _Platform(info, **platform)
    executor = Executor(store, StateBook(store), lambda a: fake, backoff=0.01)  # type: ignore[arg-type,return-value]
    return executor, fake


def test_an_early_delete_is_claimed_sent_on_the_loop_and_logged_once(store, community):
    executor, fake = _executor(store, community)
    try:
        actions = [_delete("1"), _delete("1"), _delete("2")]
        run_coroutine(executor.perform_early(actions, fake.adelete, claim=True))
        assert executor.drain()
    finally:
        executor.stop()
    assert sorted(fake.async_calls) == ["1", "2"]  # the second "1" lost its claim
    assert fake.sync_calls == []
    assert executor.early_ledger.outcome(actions[0].key, 0) == ("sent", 1, None, {"deleted": True})
    logged = rows(store, select(ConnectorAction.kind, ConnectorAction.status))
    assert logged == [("delete_message", "sent")] * 2


def test_an_early_delete_that_fails_on_the_loop_goes_the_usual_way(store, community):
    executor, fake = _executor(store, community, fail_async=1)
    try:
        run_coroutine(executor.perform_early([_delete("7")], fake.adelete, claim=True))
        assert executor.drain()
    finally:
        executor.stop()
    assert fake.async_calls == ["7"]
    assert fake.sync_calls == ["7"]  # retried by a worker, not claimed again
    assert rows(store, select(ConnectorAction.status)) == [("sent",)]


def test_an_early_delete_in_a_disabled_group_is_not_sent(store, community):
    executor, fake = _executor(store, community)
    records.set_group_state(store, fake.info.id, "g1", "disabled", "403 Missing Access")
    try:
        run_coroutine(executor.perform_early([_delete("9")], fake.adelete, claim=True))
        assert executor.drain()
    finally:
        executor.stop()
    assert fake.async_calls == [] and fake.sync_calls == []
    assert rows(store, select(ConnectorAction.status)) == [("skipped",)]
