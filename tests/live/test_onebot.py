"""QQ through OneBot v11 end to end: HTTP POST reporting with X-Signature, the reverse
WebSocket with its access token, and API calls, against a fake OneBot implementation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from connector_fakes import onebot as ob
from connector_fakes.liveserver import LiveServer
from qunzhu_tests_connectors import SPAM, connect, count, rows, serving, wait_until
from sqlalchemy import select

from qunzhu.events import Action
from qunzhu.live.hub import ConnectorHub
from qunzhu.store import Store
from qunzhu.store.connectors import ConnectorAlert, ConnectorGroup
from qunzhu.store.models import Identity, Membership, MembershipEvent, Message

SECRET = "onebot-post-secret"
NOW = int(time.time()) - 600
G = str(ob.GROUP)


@pytest.fixture
def api() -> Iterator[ob.FakeOneBotApi]:
    fake = ob.FakeOneBotApi()
    with LiveServer(fake.app) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        yield fake


def _qq(
    store: Store,
    hub: ConnectorHub,
    api: ob.FakeOneBotApi,
    *,
    http: bool = True,
    window: int = 3600,
) -> Any:
    # events here are ten minutes old (NOW): a window wider than the default 300 s takes them
    config: dict[str, Any] = {"callback_window": window}
    if http:
        config["api_url"] = api.url  # type: ignore[attr-defined]
    return connect(store, hub, "qq", "qqbot", config, {"access_token": api.token, "secret": SECRET})


def _post(server: LiveServer, event: dict[str, Any], secret: str = SECRET) -> int:
    return ob.signed_post(f"{server.url}/hooks/onebot/qqbot", event, secret).status_code


def test_an_ad_is_deleted_and_its_sender_warned(store, hub, api):
    _qq(store, hub, api)
    with serving(store, hub) as server:
        assert _post(server, ob.group_message(7001, 555, SPAM, at=NOW)) == 204
        assert _post(server, ob.group_message(7002, 556, "早上好", at=NOW)) == 204
        assert hub.executor.drain()
    assert api.called("delete_msg") == [{"message_id": 7001}]
    [warn] = api.called("send_group_msg")
    assert warn["group_id"] == ob.GROUP and warn["message"].startswith("[CQ:at,qq=555] ")
    assert "禁止留联系方式拉人" in warn["message"]
    assert count(store, Message) == 2


def test_a_forged_signature_is_refused_and_nothing_stored(store, hub, api):
    _qq(store, hub, api)
    with serving(store, hub) as server:
        assert _post(server, ob.group_message(7001, 555, SPAM, at=NOW), "forged") == 403
    assert count(store, Message) == 0 and api.calls == []


def test_a_signed_event_too_old_or_replayed_is_refused(store, hub, api):
    _qq(store, hub, api, window=300)
    now = int(time.time())
    with serving(store, hub) as server:
        month_old = ob.group_message(7001, 555, "早上好", at=now - 30 * 86400)
        assert _post(server, month_old) == 403
        assert _post(server, ob.group_message(7002, 556, "未来", at=now + 3600)) == 403
        fresh = ob.group_message(7003, 557, "你好", at=now)
        assert _post(server, fresh) == 204
        assert _post(server, fresh) == 403  # the same signed body again: a replay
    assert rows(store, select(Message.platform_message_id)) == [("7003",)]


def test_the_third_offence_mutes(store, hub, api):
    _qq(store, hub, api)
    with serving(store, hub) as server:
        for n in range(3):
            _post(server, ob.group_message(7100 + n, 555, f"{SPAM} {n}", at=NOW + n))
            assert hub.executor.drain()
    [mute] = api.called("set_group_ban")
    assert mute == {"group_id": ob.GROUP, "user_id": 555, "duration": 3600}


def test_a_join_over_the_cap_is_waitlisted(store, hub, api):
    _qq(store, hub, api)
    with serving(store, hub) as server:
        for n, user in enumerate((801, 802, 803)):
            assert _post(server, ob.group_increase(user, at=NOW + n)) == 204
        assert hub.executor.drain()
    assert api.called("set_group_kick") == [
        {"group_id": ob.GROUP, "user_id": 803, "reject_add_request": False}
    ]
    assert "候补" in api.called("send_group_msg")[0]["message"]


def test_joins_name_their_inviter_and_leaves_their_remover(store, hub, api):
    _qq(store, hub, api)
    with serving(store, hub) as server:
        _post(server, ob.group_increase(901, at=NOW))
        _post(server, ob.group_increase(902, at=NOW + 1, operator=901, sub="invite"))
        _post(server, ob.group_decrease(902, at=NOW + 2, operator=901, sub="kick"))
    [(inviter,)] = rows(
        store,
        select(Membership.inviter_member_id)
        .join(Identity, Identity.member_id == Membership.member_id)
        .where(Identity.platform_user_id == "902"),
    )
    [(first,)] = rows(store, select(Identity.member_id).where(Identity.platform_user_id == "901"))
    assert inviter == first
    history = rows(
        store,
        select(MembershipEvent.kind, MembershipEvent.other_member_id).order_by(
            MembershipEvent.occurred_at, MembershipEvent.id
        ),
    )
    assert [k for k, _ in history] == ["join", "join", "remove"]
    assert history[-1].other_member_id == first


def test_the_bot_kicked_disables_the_group_and_a_platform_mute_is_shown(store, hub, api):
    _qq(store, hub, api)
    with serving(store, hub) as server:
        _post(server, ob.group_ban(555, at=NOW, operator=901, duration=600))
        _post(server, ob.group_decrease(ob.SELF_ID, at=NOW + 1, operator=901, sub="kick_me"))
    [(status, reason)] = rows(store, select(ConnectorGroup.status, ConnectorGroup.reason))
    assert status == "disabled" and "removed" in reason
    kinds = {k for (k,) in rows(store, select(ConnectorAlert.kind))}
    assert kinds == {"platform_mute", "connector_disabled"}


def test_missing_admin_rights_disable_the_group(store, hub, api):
    _qq(store, hub, api)
    api.fail(
        "delete_msg",
        200,
        {"status": "failed", "retcode": 100, "data": None, "wording": "NOT_ADMIN: not admin"},
    )
    with serving(store, hub) as server:
        _post(server, ob.group_message(7001, 555, SPAM, at=NOW))
        assert hub.executor.drain()
    [(status, reason)] = rows(store, select(ConnectorGroup.status, ConnectorGroup.reason))
    assert status == "disabled" and "admin" in reason


def test_add_requests_are_answered_with_their_flag(store, hub, api):
    _qq(store, hub, api)
    with serving(store, hub) as server:
        _post(server, ob.add_request(4001, "flag-a", at=NOW))
        _post(server, ob.add_request(4002, "flag-b", at=NOW))
        assert hub.executor.drain()
        base = {"platform": "qq", "community": "acme", "group": G}
        hub.executor.submit(
            [
                Action(kind="approve_join", member="4001", **base),
                Action(kind="decline_join", member="4002", text="名额已满", **base),
            ]
        )
        assert hub.executor.drain()
    assert api.called("set_group_add_request") == [
        {"flag": "flag-a", "sub_type": "add", "approve": True},
        {"flag": "flag-b", "sub_type": "add", "approve": False, "reason": "名额已满"},
    ]


def test_member_list_sync_adds_each_member_once(store, hub, api):
    bot = _qq(store, hub, api)
    api.members[ob.GROUP] = [
        {
            "group_id": ob.GROUP,
            "user_id": 100 + n,
            "nickname": f"n{n}",
            "card": "",
            "join_time": NOW - 86400 * n,
            "role": "member",
        }
        for n in range(5)
    ]
    with serving(store, hub):
        assert bot.sync(G) == 5
        assert bot.sync(G) == 5
    assert count(store, Membership) == 5


def test_the_reverse_websocket_carries_events_in_and_actions_out(store, hub, api):
    _qq(store, hub, api, http=False)
    with serving(store, hub) as server:
        url = f"ws://127.0.0.1:{server.port}/hooks/onebot/qqbot/ws"
        with ob.FakeOneBotWs(url, api.token, api) as bot:
            bot.wait_connected()
            bot.report(ob.group_message(7001, 555, SPAM, at=NOW))
            wait_until(lambda: len(api.called("delete_msg")) == 1 and hub.executor.drain(1))
    assert api.called("delete_msg") == [{"message_id": 7001}]
    assert count(store, Message) == 1


def test_the_reverse_websocket_refuses_a_wrong_token(store, hub, api):
    _qq(store, hub, api, http=False)
    with serving(store, hub) as server:
        url = f"ws://127.0.0.1:{server.port}/hooks/onebot/qqbot/ws"
        with ob.FakeOneBotWs(url, "forged", api) as bot:
            wait_until(lambda: bot.refused >= 1)
            bot.report(ob.group_message(7001, 555, SPAM, at=NOW))
            assert bot.connections == 0
    assert count(store, Message) == 0


def test_a_dropped_socket_reconnects_with_nothing_lost_or_doubled(store, hub, api):
    _qq(store, hub, api, http=False)
    with serving(store, hub) as server:
        url = f"ws://127.0.0.1:{server.port}/hooks/onebot/qqbot/ws"
        with ob.FakeOneBotWs(url, api.token, api) as bot:
            bot.wait_connected()
            for n in range(20):
                text = SPAM if n == 12 else f"读书笔记 {n}"
                bot.report(ob.group_message(8000 + n, 500 + n % 4, text, at=NOW + n))
                if n == 9:
                    bot.drop()
            bot.wait_connected(2)
            wait_until(lambda: count(store, Message) >= 20 and hub.executor.drain(1))
            time.sleep(0.3)  # anything doubled would arrive now
            assert hub.executor.drain()
    assert count(store, Message) == 20
    assert api.called("delete_msg") == [{"message_id": 8012}]


def test_a_ban_kicks_refuses_rejoining_and_tells_the_group(store, hub, api):
    _qq(store, hub, api)
    with serving(store, hub):
        base = {"platform": "qq", "community": "acme", "group": G}
        hub.executor.submit(
            [
                Action(kind="ban", member="555", text="已移出: 多次发广告", **base),
                Action(kind="unban", member="555", **base),
            ]
        )
        assert hub.executor.drain()
    assert api.called("set_group_kick") == [
        {"group_id": ob.GROUP, "user_id": 555, "reject_add_request": True}
    ]
    assert api.called("send_group_msg") == [{"group_id": ob.GROUP, "message": "已移出: 多次发广告"}]
    [alert] = rows(store, select(ConnectorAlert.kind, ConnectorAlert.text))
    assert alert.kind == "unban" and "no ban list" in alert.text
