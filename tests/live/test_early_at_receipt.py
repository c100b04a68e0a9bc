"""Early deletes carried out on the receiving connector's own event loop
(Executor.perform_early): claimed first, sent with the connector's asynchronous call, and
anything out of the ordinary left to the executor's usual way."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from qunzhu_tests_connectors import rows, run_coroutine
from sqlalchemy import select

from qunzhu.adapters.base import ConnectorError, ConnectorInfo
from qunzhu.adapters.state import StateBook
from qunzhu.events import Action
from qunzhu.live.executor import EARLY_PACE_S, EARLY_STATE_S, Executor
from qunzhu.moderation.early import EARLY
from qunzhu.moderation.early_warn import EARLY_WARNING
from qunzhu.moderation.sent_once import SentOnce
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


def test_a_stale_group_state_is_read_again_without_holding_the_next_delete(store, community):
    executor, fake = _executor(store, community)
    key = (fake.info.id, "g1")
    try:
        run_coroutine(executor.perform_early([_delete("1")], fake.adelete, claim=True))
        records.set_group_state(store, fake.info.id, "g1", "disabled", "403 Missing Access")
        at, state = executor._groups[key]
        executor._groups[key] = (at - EARLY_STATE_S, state)  # read EARLY_STATE_S ago
        # sent by the state read then (no database read waited for on the loop), which
        # is read again meanwhile: the next delete finds the group disabled
        run_coroutine(executor.perform_early([_delete("2")], fake.adelete, claim=True))
        run_coroutine(executor.perform_early([_delete("3")], fake.adelete, claim=True))
        assert executor.drain()
    finally:
        executor.stop()
    assert fake.async_calls == ["1", "2"] and fake.sync_calls == []
    statuses = rows(store, select(ConnectorAction.status).order_by(ConnectorAction.id))
    assert statuses == [("sent",), ("sent",), ("skipped",)]


# -- early warnings on the loop of the connection that received the ad (loop_perform) -----
WARN_CONFIG = {"send_min_gap": 0.2, "send_jitter": 0, "send_daily_cap": 0}


class _Bridge:
    """A connector that offers ``loop_perform``: its warnings on an event loop of its own
    (the live connection's), recorded apart from those its ``perform`` sends on a worker."""

    def __init__(self, info: ConnectorInfo, *, fail_async: int = 0, offer: bool = True) -> None:
        self.info = info
        self.sync_calls: list[str] = []
        self.async_calls: list[str] = []
        self.fail_async = fail_async
        self.offer = offer
        self.once = SentOnce()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def perform(self, action: Action) -> dict[str, Any]:
        return self.once.run(action, lambda: self._sent(self.sync_calls, action))

    def loop_perform(self, action: Action) -> Any:
        return (self.loop, self.aperform) if self.offer else None

    async def aperform(self, action: Action) -> dict[str, Any]:
        async def send() -> dict[str, Any]:
            if self.fail_async:
                self.fail_async -= 1
                self.async_calls.append(f"failed {action.member}")
                raise ConnectorError("the WebSocket closed")
            return self._sent(self.async_calls, action)

        return await self.once.arun(action, send)

    @staticmethod
    def _sent(calls: list[str], action: Action) -> dict[str, Any]:
        calls.append(str(action.member))
        return {"message_id": f"s{len(calls)}"}

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _warning(member: str, group: str = "g1@chatroom") -> Action:
    """An early warning as moderation.early_warn makes it: the batch's key and detail."""
    return Action(
        kind="warn",
        platform="wechat",
        community="acme",
        group=group,
        member=member,
        text="请勿发广告",
        reason="contact_solicitation: wechat_id",
        key=f"warn-{member}",
        detail={"event": f"ev-{member}", "decision": "delete_warn", EARLY_WARNING: True},
    )


@contextlib.contextmanager
def _bridged(
    store: Store, community: str, config: dict[str, Any] | None = None, **kw: Any
) -> Iterator[tuple[Executor, _Bridge]]:
    from qunzhu.adapters.manage import save_connector

    config = config or WARN_CONFIG
    cid = save_connector(
        store, community=community, platform="wechat", name="wx",
        config={"protocol": "onebot12", **config}, credentials={"access_token": "t"},
    )  # fmt: skip
    info = ConnectorInfo(
        id=cid, name="wx", platform="wechat", community=community, config=config,
        credentials={},
    )  # fmt: skip
    fake = _Bridge(info, **kw)
    executor = Executor(store, StateBook(store), lambda a: fake, backoff=0.01)  # type: ignore[arg-type,return-value]
    try:
        yield executor, fake
    finally:
        executor.stop()
        fake.close()


def test_an_early_warning_goes_on_the_receiving_loop_once_despite_a_redelivery(store, community):
    with _bridged(store, community) as (executor, fake):
        executor.submit_early([_warning("wxid_a")])
        executor.submit_early([_warning("wxid_a")])  # the update again: its claim is taken
        assert executor.drain()
    assert fake.async_calls == ["wxid_a"] and fake.sync_calls == []
    logged = rows(store, select(ConnectorAction.kind, ConnectorAction.status))
    assert logged == [("warn", "sent")]


def test_warnings_a_near_slot_apart_go_on_the_loop_in_order(store, community):
    # two ads in one group received together: the first's slot is free now, the second's
    # is the account's gap (0.2 s) later, within EARLY_PACE_S: the loop waits for it with
    # a timer, and sends it there, after the first
    near = {**WARN_CONFIG, "send_per_second": 100}
    assert near["send_min_gap"] <= EARLY_PACE_S
    with _bridged(store, community, near) as (executor, fake):
        executor.submit_early([_warning("wxid_a"), _warning("wxid_b")])
        assert executor.drain()
    assert fake.async_calls == ["wxid_a", "wxid_b"]
    assert fake.sync_calls == []
    assert sorted(rows(store, select(ConnectorAction.status))) == [("sent",), ("sent",)]


def test_a_warning_whose_slot_is_far_goes_to_a_worker(store, community):
    # the account's gap (1 s) is longer than the loop waits: a worker waits for that slot
    far = {**WARN_CONFIG, "send_min_gap": 1.0}
    assert far["send_min_gap"] > EARLY_PACE_S
    with _bridged(store, community, far) as (executor, fake):
        executor.submit_early([_warning("wxid_a"), _warning("wxid_b")])
        assert executor.drain()
    assert fake.async_calls == ["wxid_a"]
    assert fake.sync_calls == ["wxid_b"]
    assert sorted(rows(store, select(ConnectorAction.status))) == [("sent",), ("sent",)]


def test_a_warning_that_fails_on_the_loop_is_sent_by_a_worker(store, community):
    with _bridged(store, community, fail_async=1) as (executor, fake):
        executor.submit_early([_warning("wxid_a")])
        assert executor.drain()
    assert fake.async_calls == ["failed wxid_a"]
    assert fake.sync_calls == ["wxid_a"]  # the first try failed: the worker's run sends
    assert rows(store, select(ConnectorAction.status)) == [("sent",)]


def test_a_connector_without_a_loop_offer_sends_on_a_worker(store, community):
    with _bridged(store, community, offer=False) as (executor, fake):
        executor.submit_early([_warning("wxid_a")])
        assert executor.drain()
    assert fake.async_calls == [] and fake.sync_calls == ["wxid_a"]


def test_a_warning_in_a_disabled_group_is_skipped_not_sent(store, community):
    with _bridged(store, community) as (executor, fake):
        records.set_group_state(store, fake.info.id, "g1@chatroom", "disabled", "removed")
        executor.submit_early([_warning("wxid_a")])
        assert executor.drain()
    assert fake.async_calls == [] and fake.sync_calls == []
    assert rows(store, select(ConnectorAction.status)) == [("skipped",)]


def test_the_batchs_twin_of_a_warning_sent_on_the_loop_is_not_sent_again(store, community):
    with _bridged(store, community) as (executor, fake):
        executor.submit_early([_warning("wxid_a")])
        assert executor.drain()
        executor.submit([_warning("wxid_a")])  # the batch's twin got to the executor too
        assert executor.drain()
    assert fake.async_calls == ["wxid_a"] and fake.sync_calls == []
    [first, twin] = rows(
        store, select(ConnectorAction.status, ConnectorAction.result).order_by(ConnectorAction.id)
    )
    assert first.status == "sent" and twin.result["once"] == "sent by its twin"
