"""QQ through the OneBot v11 forward WebSocket: qunzhu connects to the implementation's
WebSocket server with the access token, events come in and API calls go out on the one
socket, a dropped socket reconnects with backoff and nothing is lost or doubled."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from connector_fakes import onebot as ob
from qunzhu_tests_connectors import SPAM, connect, count, rows, wait_until
from sqlalchemy import select

from qunzhu.adapters.base import ConnectorError
from qunzhu.live.hub import ConnectorHub
from qunzhu.store import Store
from qunzhu.store.connectors import Connector
from qunzhu.store.models import Message

NOW = int(time.time()) - 600


@pytest.fixture
def api() -> ob.FakeOneBotApi:
    return ob.FakeOneBotApi()


@pytest.fixture
def server(api: ob.FakeOneBotApi) -> Iterator[ob.FakeOneBotWsServer]:
    with ob.FakeOneBotWsServer(api.token, api) as made:
        yield made


def _qq(store: Store, hub: ConnectorHub, url: str, token: str) -> Any:
    return connect(store, hub, "qq", "qqfwd", {"ws_url": url}, {"access_token": token})


def _status(store: Store) -> tuple[str, str]:
    [(status, reason)] = rows(store, select(Connector.status, Connector.status_reason))
    return status, reason


def test_events_come_in_and_actions_go_out_on_the_socket(store, hub, api, server):
    _qq(store, hub, server.url, api.token)
    hub.start()
    server.wait_connected()
    wait_until(lambda: _status(store)[0] == "connected", what="connected state")
    server.report(ob.group_message(7001, 555, SPAM, at=NOW))
    server.report(ob.group_message(7002, 556, "早上好", at=NOW))
    wait_until(lambda: len(api.called("send_group_msg")) == 1, what="the warning")
    assert hub.executor.drain()
    assert api.called("delete_msg") == [{"message_id": 7001}]
    assert api.called("send_group_msg")[0]["message"].startswith("[CQ:at,qq=555] ")
    assert count(store, Message) == 2


def test_a_wrong_token_disables_the_connector_with_the_reason(store, hub, api, server):
    _qq(store, hub, server.url, "forged")
    hub.start()
    wait_until(lambda: _status(store)[0] == "disabled", what="disabled state")
    assert "refused the access token (403)" in _status(store)[1]
    assert server.connections == 0 and server.refused == 1  # no retrying a refused token
    server.report(ob.group_message(7001, 555, SPAM, at=NOW))
    assert count(store, Message) == 0


def test_a_dropped_socket_reconnects_with_nothing_lost_or_doubled(store, hub, api, server):
    _qq(store, hub, server.url, api.token)
    hub.start()
    server.wait_connected()
    for n in range(20):
        text = SPAM if n == 12 else f"读书笔记 {n}"
        server.report(ob.group_message(8000 + n, 500 + n % 4, text, at=NOW + n))
        if n == 9:
            server.drop()
            server.wait_connected(2)  # the runner came back (and was sent 0–9 again)
    wait_until(lambda: count(store, Message) >= 20, what="twenty messages")
    wait_until(lambda: len(api.called("delete_msg")) >= 1, what="the delete")
    time.sleep(0.3)  # anything doubled would arrive now
    assert hub.executor.drain()
    assert count(store, Message) == 20
    assert api.called("delete_msg") == [{"message_id": 8012}]
    assert hub.runners[next(iter(hub.runners))].reconnects >= 1


def test_without_a_socket_a_call_fails_as_transient(store, hub, api):
    bot = _qq(store, hub, "ws://127.0.0.1:9/", api.token)  # nothing listens there
    with pytest.raises(ConnectorError, match="no live WebSocket"):
        bot.call("delete_msg", {"message_id": 1})
