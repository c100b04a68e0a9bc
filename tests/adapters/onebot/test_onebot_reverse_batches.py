"""The OneBot reverse WebSocket (shared by v11 and v12, adapters/onebot/adapter.py): events
read while earlier ones are being stored are stored together, in the order received; an
answer to one of our calls is taken at once, never behind the events; what was read before
the socket closed is all stored. Where the hub judges at receipt (``deliver.at_receipt``),
plain messages are judged on the loop as they are read, never behind a store under way,
and handed on as judged (not judged again)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from qunzhu_tests import run_coroutine

from qunzhu.adapters.base import ConnectorInfo
from qunzhu.adapters.onebot12.adapter import OneBot12Connector
from qunzhu.adapters.state import StateBook
from qunzhu.events import Event, MemberLeft, MessagePosted
from qunzhu.store import Store
from qunzhu.store import connector_records as records

NOW = time.time() - 600
SELF = "wxid_operator01"
GROUP = "24681357902@chatroom"


def _event(kind: str, detail: str, at: float, eid: str, sub: str = "") -> dict[str, Any]:
    return {"id": eid, "impl": "ComWeChat", "time": at, "type": kind, "detail_type": detail,
            "sub_type": sub, "self": {"platform": "wechat", "user_id": SELF}}  # fmt: skip


def message(message_id: str, user: str, text: str, *, at: float) -> dict[str, Any]:
    return {
        **_event("message", "group", at, f"ev-{message_id}"),
        "message_id": message_id,
        "message": [{"type": "text", "data": {"text": text}}],
        "alt_message": text,
        "group_id": GROUP,
        "user_id": user,
    }


def left(user: str, *, at: float, operator: str = "", sub: str = "leave") -> dict[str, Any]:
    return {
        **_event("notice", "group_member_decrease", at, f"dec-{user}-{at}", sub),
        "group_id": GROUP,
        "user_id": user,
        "operator_id": operator,
    }


class Socket:
    """A reverse WebSocket's two ends for ``ws_session``: frames the bridge reports, and
    what qunzhu sends back."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[str | None] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []

    def report(self, event: dict[str, Any]) -> None:
        self.frames.put_nowait(json.dumps(event))

    def close(self) -> None:
        self.frames.put_nowait(None)

    async def receive(self) -> str:
        frame = await self.frames.get()
        if frame is None:
            raise ConnectionError("closed")
        return frame

    async def send(self, text: str) -> None:
        self.sent.append(json.loads(text))


class Delivered:
    """The connector's ``deliver``: each call's messages; the first call can be held."""

    def __init__(self) -> None:
        self.calls: list[list[Event]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()

        self.decided: list[bool] = []

    def __call__(self, events: Any, *, decided: bool = False) -> None:
        self.entered.set()
        self.hold.wait(10)
        self.calls.append(list(events))
        self.decided.append(decided)


class Judging(Delivered):
    """A hub's ``deliver`` that judges at receipt: ``at_receipt`` notes what it was given,
    and what had been stored by then."""

    def __init__(self, *, fail: bool = False) -> None:
        super().__init__()
        self.judged: list[tuple[list[str], int]] = []
        self.fail = fail

    async def at_receipt(self, events: Any) -> None:
        self.judged.append((_ids(list(events)), sum(len(c) for c in self.calls)))
        if self.fail:
            raise RuntimeError("Redis away")


def _connector(store: Store, deliver: Delivered) -> OneBot12Connector:
    info = ConnectorInfo(
        id=1, name="wx", platform="wechat", community="acme", config={},
        credentials={"access_token": "t"},
    )  # fmt: skip
    return OneBot12Connector(info, store, StateBook(store), deliver)


def _ids(events: list[Event]) -> list[str]:
    return [e.message_id if isinstance(e, MessagePosted) else f"left:{e.member}" for e in events]


async def _wait_for(check: Any, what: str) -> None:
    until = time.monotonic() + 10
    while not check():
        if time.monotonic() > until:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def test_events_read_while_one_is_stored_are_stored_together_in_order(store: Store) -> None:
    deliver = Delivered()
    connector = _connector(store, deliver)

    async def run() -> None:
        socket = Socket()
        session = asyncio.create_task(connector.ws_session(socket.receive, socket.send))
        deliver.hold.clear()  # the first message's store is slow
        socket.report(message("m0", "wxid_a", "早", at=NOW))
        await _wait_for(deliver.entered.is_set, "the first delivery")
        for n in range(1, 6):  # these arrive meanwhile
            socket.report(message(f"m{n}", "wxid_a", f"早 {n}", at=NOW + n))
        await asyncio.sleep(0.05)
        deliver.hold.set()
        await _wait_for(lambda: sum(len(c) for c in deliver.calls) == 6, "six messages")
        socket.close()
        with pytest.raises(ConnectionError):
            await session

    run_coroutine(run())
    assert [_ids(c) for c in deliver.calls] == [["m0"], ["m1", "m2", "m3", "m4", "m5"]]
    assert connector.session is None


def test_what_an_event_writes_besides_messages_keeps_its_place_in_the_order(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the account removed from a group between two messages: what came before is handed
    # on before the group's state is written, the second message after
    order: list[str] = []
    connector = _connector(store, Delivered())
    connector.deliver = lambda events: order.append("deliver:" + ",".join(_ids(list(events))))
    monkeypatch.setattr(
        records, "set_group_state", lambda _s, _c, group, status, why: order.append(status)
    )
    monkeypatch.setattr(records, "add_alert", lambda *_, **alert: order.append(alert["kind"]))
    connector.handle_many(
        [
            message("m1", "wxid_a", "早", at=NOW),
            left("wxid_b", at=NOW + 1),
            left(SELF, at=NOW + 2, operator="wxid_owner", sub="kick"),
            message("m2", "wxid_a", "早", at=NOW + 3),
        ]
    )
    assert order == ["deliver:m1,left:wxid_b", "disabled", "connector_disabled", "deliver:m2"]


def test_an_answer_is_taken_while_events_wait_to_be_stored(store: Store) -> None:
    # a call made on the loop (an early warning) gets its answer though the store is slow
    deliver = Delivered()
    connector = _connector(store, deliver)

    async def run() -> dict[str, Any]:
        socket = Socket()
        session = asyncio.create_task(connector.ws_session(socket.receive, socket.send))
        deliver.hold.clear()
        socket.report(message("m0", "wxid_a", "早", at=NOW))
        await _wait_for(deliver.entered.is_set, "the first delivery")
        assert connector.session is not None
        call = asyncio.create_task(connector.session.call("send_message", {"x": 1}))
        await _wait_for(lambda: bool(socket.sent), "the call")
        socket.report({"status": "ok", "retcode": 0, "data": {"message_id": "s1"},
                       "message": "", "echo": socket.sent[0]["echo"]})  # fmt: skip
        answer = await asyncio.wait_for(call, 5)
        assert not deliver.calls  # the store is still held
        deliver.hold.set()
        socket.close()
        with pytest.raises(ConnectionError):
            await session
        return answer

    answer = run_coroutine(run())
    assert answer["data"] == {"message_id": "s1"}
    assert [_ids(c) for c in deliver.calls] == [["m0"]]


def test_events_read_before_the_socket_closed_are_all_stored(store: Store) -> None:
    deliver = Delivered()
    connector = _connector(store, deliver)

    async def run() -> None:
        socket = Socket()
        session = asyncio.create_task(connector.ws_session(socket.receive, socket.send))
        deliver.hold.clear()
        socket.report(message("m0", "wxid_a", "早", at=NOW))
        await _wait_for(deliver.entered.is_set, "the first delivery")
        socket.report(message("m1", "wxid_a", "早", at=NOW + 1))
        socket.report(left("wxid_c", at=NOW + 2))
        socket.close()  # closed while m0 is being stored: m1 and the leave were read
        await asyncio.sleep(0.05)
        deliver.hold.set()
        with pytest.raises(ConnectionError):
            await session

    run_coroutine(run())
    assert [_ids(c) for c in deliver.calls] == [["m0"], ["m1", "left:wxid_c"]]
    assert all(isinstance(e, MessagePosted | MemberLeft) for c in deliver.calls for e in c)


def test_messages_read_while_a_store_is_under_way_are_judged_before_it_ends(
    store: Store,
) -> None:
    # an ad among messages that arrive while a large batch is being stored: judged (and
    # its warning claimed and sent, by the hub) at once, not after that store
    deliver = Judging()
    connector = _connector(store, deliver)

    async def run() -> None:
        socket = Socket()
        session = asyncio.create_task(connector.ws_session(socket.receive, socket.send))
        deliver.hold.clear()  # the first message's store is slow
        socket.report(message("m0", "wxid_a", "早", at=NOW))
        await _wait_for(deliver.entered.is_set, "the first delivery")
        for n in range(1, 6):
            socket.report(message(f"m{n}", "wxid_a", f"早 {n}", at=NOW + n))
        await _wait_for(lambda: sum(len(j) for j, _ in deliver.judged) == 6, "the judging")
        assert deliver.calls == []  # nothing stored yet: the judging did not wait for it
        deliver.hold.set()
        await _wait_for(lambda: sum(len(c) for c in deliver.calls) == 6, "six messages")
        socket.close()
        with pytest.raises(ConnectionError):
            await session

    run_coroutine(run())
    assert [m for ids, _ in deliver.judged for m in ids] == [f"m{n}" for n in range(6)]
    assert all(stored == 0 for _, stored in deliver.judged)
    assert [_ids(c) for c in deliver.calls] == [["m0"], ["m1", "m2", "m3", "m4", "m5"]]
    assert deliver.decided == [True, True]  # judged at receipt: not judged again


def test_judged_messages_and_other_events_keep_their_order(store: Store) -> None:
    # a leave is read in the storing thread (it writes more than messages): the messages
    # judged at receipt before and after it are handed on around it, as received
    deliver = Judging()
    connector = _connector(store, deliver)

    async def run() -> None:
        socket = Socket()
        session = asyncio.create_task(connector.ws_session(socket.receive, socket.send))
        deliver.hold.clear()
        socket.report(message("m0", "wxid_a", "早", at=NOW))
        await _wait_for(deliver.entered.is_set, "the first delivery")
        socket.report(message("m1", "wxid_a", "早", at=NOW + 1))
        socket.report(left("wxid_b", at=NOW + 2))
        socket.report(message("m2", "wxid_a", "早", at=NOW + 3))
        await asyncio.sleep(0.05)
        deliver.hold.set()
        await _wait_for(lambda: sum(len(c) for c in deliver.calls) == 4, "four events")
        socket.close()
        with pytest.raises(ConnectionError):
            await session

    run_coroutine(run())
    assert [_ids(c) for c in deliver.calls] == [["m0"], ["m1"], ["left:wxid_b"], ["m2"]]
    assert deliver.decided == [True, True, False, True]
    assert [m for ids, _ in deliver.judged for m in ids] == ["m0", "m1", "m2"]


def test_when_judging_at_receipt_fails_the_store_judges_as_ever(store: Store) -> None:
    deliver = Judging(fail=True)
    connector = _connector(store, deliver)

    async def run() -> None:
        socket = Socket()
        session = asyncio.create_task(connector.ws_session(socket.receive, socket.send))
        socket.report(message("m0", "wxid_a", "早", at=NOW))
        await _wait_for(lambda: bool(deliver.calls), "the delivery")
        socket.close()
        with pytest.raises(ConnectionError):
            await session

    run_coroutine(run())
    assert [_ids(c) for c in deliver.calls] == [["m0"]]
    assert deliver.decided == [False]  # not marked judged: the sink judges it
