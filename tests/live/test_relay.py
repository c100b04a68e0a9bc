"""Calls relayed through Redis from the live worker to the web process, which holds the
OneBot reverse WebSocket: RelayClient and RelayServer on their own, then `qunzhu serve`
split in two (a web hub and a worker hub on one Redis stream) against the fake OneBot."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from connector_fakes import onebot as ob
from qunzhu_tests_connectors import SPAM, connect, count, rows, serving, wait_until
from sqlalchemy import select

from qunzhu.adapters.base import ConnectorError
from qunzhu.events import Action
from qunzhu.live.hub import ConnectorHub, load_infos
from qunzhu.live.queue import RedisQueue
from qunzhu.live.relay import RelayClient, RelayServer, request_key
from qunzhu.store import Store
from qunzhu.store.connectors import ConnectorAction
from qunzhu.store.models import Message

CID = 7
NOW = int(time.time()) - 600


def _forget(client: redis.Redis, pattern: str) -> None:
    keys = list(client.scan_iter(match=pattern, count=500))
    if keys:
        client.delete(*keys)


# -- RelayClient and RelayServer ---------------------------------------------------------


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    made = redis.Redis.from_url(redis_url)
    yield made
    made.close()


@pytest.fixture
def namespace(client: redis.Redis) -> Iterator[str]:
    name = f"qunzhu:test-relay:{uuid.uuid4().hex}"
    yield name
    _forget(client, f"qunzhu:relay:{name}:*")


class _Web:
    """What the web process does with a relayed call: records it, answers or raises."""

    def __init__(self, answer: Callable[[str, dict[str, Any]], Any]) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def __call__(self, api: str, params: dict[str, Any]) -> Any:
        with self._lock:
            self.calls.append((api, params))
        return self.answer(api, params)


@pytest.fixture
def serve(client: redis.Redis, namespace: str) -> Iterator[Callable[..., RelayServer]]:
    started: list[RelayServer] = []

    def start(call_for: Callable[[int], Any]) -> RelayServer:
        server = RelayServer(client, [CID], call_for, namespace=namespace)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_a_call_is_answered_with_the_web_sides_result(client, namespace, serve):
    web = _Web(lambda api, params: {"status": "ok", "retcode": 0, "data": {"message_id": 42}})
    server = serve(lambda cid: web if cid == CID else None)
    relay = RelayClient(client, CID, namespace=namespace)
    params = {"group_id": ob.GROUP, "message": "早上好"}
    got = relay.call("send_group_msg", params)
    assert got == {"status": "ok", "retcode": 0, "data": {"message_id": 42}}
    assert web.calls == [("send_group_msg", params)]
    server.stop()  # its count goes up just after the answer is pushed
    assert server.answered == 1
    # the answer was taken and nothing is left waiting for the web process
    assert client.llen(request_key(namespace, CID)) == 0
    assert list(client.scan_iter(match=f"{request_key(namespace, CID)}:reply:*")) == []


def test_an_exception_on_the_web_side_comes_back_with_its_text(client, namespace, serve):
    def refuse(api: str, params: dict[str, Any]) -> Any:
        raise RuntimeError("the socket broke under the send")

    web = _Web(refuse)
    serve(lambda cid: web)
    relay = RelayClient(client, CID, namespace=namespace)
    with pytest.raises(ConnectorError) as caught:
        relay.call("delete_msg", {"message_id": 7001})
    assert "delete_msg" in str(caught.value)
    assert "RuntimeError: the socket broke under the send" in str(caught.value)
    assert web.calls == [("delete_msg", {"message_id": 7001})]


def test_a_connector_without_a_live_socket_is_an_error(client, namespace, serve):
    asked: list[int] = []

    def call_for(cid: int) -> Any:
        asked.append(cid)
        return None

    serve(call_for)
    relay = RelayClient(client, CID, namespace=namespace)
    with pytest.raises(ConnectorError, match="delete_msg: no live WebSocket in the web process"):
        relay.call("delete_msg", {"message_id": 7001})
    assert asked == [CID]


def test_a_request_found_after_its_deadline_is_not_performed(client, namespace, serve):
    web = _Web(lambda api, params: {"status": "ok", "retcode": 0, "data": None})
    late = RelayClient(client, CID, namespace=namespace, timeout=0.2)
    with pytest.raises(ConnectorError, match="did not answer"):
        late.call("delete_msg", {"message_id": 1})  # no web process yet: it waits in Redis
    assert client.llen(request_key(namespace, CID)) == 1
    server = serve(lambda cid: web)
    wait_until(lambda: client.llen(request_key(namespace, CID)) == 0, 30, "the server to take it")
    # a fresh call after the stale one is still made: the server works, it only skipped
    fresh = RelayClient(client, CID, namespace=namespace)
    assert fresh.call("delete_msg", {"message_id": 2})["status"] == "ok"
    server.stop()  # waits for every request it took to be handled
    assert web.calls == [("delete_msg", {"message_id": 2})]
    assert server.answered == 1


def test_no_web_process_answering_is_an_error_after_the_timeout(client, namespace):
    relay = RelayClient(client, CID, namespace=namespace, timeout=0.5)
    with pytest.raises(ConnectorError, match="send_group_msg: the web process did not answer"):
        relay.call("send_group_msg", {"group_id": ob.GROUP, "message": "x"})


# -- split serve with the reverse WebSocket ----------------------------------------------


@pytest.fixture
def api() -> Iterator[ob.FakeOneBotApi]:
    # the reverse WebSocket client answers from this; no HTTP API is served (no api_url)
    yield ob.FakeOneBotApi()


@pytest.fixture
def stream(client: redis.Redis) -> Iterator[str]:
    name = f"qunzhu:test-relay-split:{uuid.uuid4().hex}"
    yield name
    client.delete(name, *client.keys(f"{name}:*"))
    _forget(client, f"qunzhu:early:{name}:*")
    _forget(client, f"qunzhu:relay:{name}:*")


@pytest.fixture
def split(
    store: Store, community: str, redis_url: str, stream: str, api: ob.FakeOneBotApi
) -> Iterator[tuple[ConnectorHub, ConnectorHub]]:
    web = ConnectorHub(
        store,
        role="web",
        durable=RedisQueue(redis_url, stream=stream, consumer="t-web"),
        backoff=0.05,
    )
    worker = ConnectorHub(
        store,
        role="worker",
        durable=RedisQueue(redis_url, stream=stream, consumer="t-worker"),
        backoff=0.05,
    )
    try:
        connect(store, web, "qq", "qqbot", {}, {"access_token": api.token})
        bot = worker.add(next(i for i in load_infos(store) if i.name == "qqbot"))
        assert bot.relay is not None, "the worker's OneBot connector relays through Redis"
        yield web, worker
    finally:
        worker.stop()
        web.stop()


def _ws_url(server: Any) -> str:
    return f"ws://127.0.0.1:{server.port}/hooks/onebot/qqbot/ws"


def test_an_ad_over_the_web_socket_is_acted_on_once_through_the_web(store, split, api):
    web, worker = split
    with serving(store, web) as server, ob.FakeOneBotWs(_ws_url(server), api.token, api) as bot:
        worker.start()
        bot.wait_connected()
        bot.report(ob.group_message(7001, 555, SPAM, at=NOW))
        bot.report(ob.group_message(7002, 556, "早上好", at=NOW + 1))
        wait_until(lambda: count(store, Message) == 2, 30, "the worker to store both")
        wait_until(lambda: api.called("send_group_msg"), 30, "the warning over the web's socket")
        assert worker.sink.drain(30), "the worker did not finish the stream"
        assert worker.executor.drain(30) and web.executor.drain(30)
        assert web.relay is not None
        relayed = web.relay.answered
    assert api.called("delete_msg") == [{"message_id": 7001}]
    [warn] = api.called("send_group_msg")
    assert warn["group_id"] == ob.GROUP and warn["message"].startswith("[CQ:at,qq=555] ")
    assert "禁止留联系方式拉人" in warn["message"]
    # the warning, at least, was the worker's, made by the web process on its socket
    assert relayed >= 1
    logged = rows(store, select(ConnectorAction.kind, ConnectorAction.status))
    assert sorted(logged) == [("delete_message", "sent"), ("warn", "sent")]


def test_without_a_live_socket_the_workers_action_fails_saying_so(store, split, api):
    web, worker = split
    [cid] = list(worker.connectors)
    held = web.connectors[cid]
    # the worker's view of the connector: the web process's StateBook writes the same row
    errors: list[str] = []
    noted = worker.state.error

    def note(connector_id: int, message: str, **kwargs: Any) -> None:
        errors.append(message)
        noted(connector_id, message, **kwargs)

    worker.state.error = note  # type: ignore[method-assign]
    with serving(store, web) as server:
        worker.start()
        with ob.FakeOneBotWs(_ws_url(server), api.token, api) as bot:
            bot.wait_connected()
        wait_until(lambda: held.session is None, 30, "the web process to see the socket closed")
        worker.executor.submit(
            [
                Action(
                    kind="send_message",
                    platform="qq",
                    community="acme",
                    group=str(ob.GROUP),
                    text="读书会今晚八点开始",
                )
            ]
        )
        # each attempt is answered by the web process at once, not left to the timeout
        assert worker.executor.drain(30), "the worker's action did not settle"
        relay = web.relay
        assert relay is not None
        wait_until(
            lambda: relay.answered >= worker.executor.max_attempts, 30, "every attempt answered"
        )
        answered = relay.answered
    [(status, attempts, error)] = rows(
        store, select(ConnectorAction.status, ConnectorAction.attempts, ConnectorAction.error)
    )
    assert status == "failed" and error == "gave up after retries"
    assert answered == attempts == worker.executor.max_attempts
    assert len(errors) == attempts
    assert all(
        "send_group_msg: ConnectorError: no live WebSocket in the web process" in e for e in errors
    ), errors
    assert api.calls == []
