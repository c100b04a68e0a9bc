"""WeChat personal groups through a OneBot 12 bridge, end to end against a fake bridge
(connector_fakes/onebot12.py): the forward WebSocket, the reverse WebSocket and the HTTP
webhook with actions over HTTP; what the account can do is done, the rest becomes alerts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from connector_fakes import onebot12 as b
from connector_fakes.liveserver import LiveServer
from qunzhu_tests_connectors import SPAM, connect, count, rows, serving, wait_until
from sqlalchemy import select, update

from qunzhu.live.hub import ConnectorHub, load_infos
from qunzhu.live.queue import RedisQueue
from qunzhu.store import Store
from qunzhu.store.connectors import Connector, ConnectorAction, ConnectorAlert, OutboxAction
from qunzhu.store.models import (
    Community,
    Group,
    Identity,
    Membership,
    MembershipEvent,
    Message,
    ModerationAction,
)

NOW = time.time() - 600
# warned at the first breach (2 points), removed at the third (6): a WeChat group has no mute
SPEC = """\
name: 读书会
purpose: read together
rules:
  contact_solicitation:
    action: delete_warn
    severity: 2
  classifier:
    action: allow
    threshold_flag: 1.0
    threshold_act: 1.0
escalation:
  points_expire_days: 30
  ladder:
    - {points: 1, action: warn}
    - {points: 6, action: remove}
size: {cap: 50, policy: waitlist, protected: [owner]}
"""
# sending paced for a test, not for a real account (whose defaults are seconds apart)
FAST = {"send_min_gap": 0.001, "send_jitter": 0, "send_daily_cap": 0}


@pytest.fixture
def api(store: Store, community: str) -> Iterator[b.FakeBridgeApi]:
    with store.unit_of_work() as session:
        session.execute(update(Community).where(Community.slug == "acme").values(spec_yaml=SPEC))
    fake = b.FakeBridgeApi()
    with LiveServer(fake.app) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def bridge(api: b.FakeBridgeApi) -> Iterator[b.FakeBridgeServer]:
    with b.FakeBridgeServer(api.token, api) as made:
        yield made


def _wechat(store: Store, hub: ConnectorHub, config: dict[str, Any], token: str) -> Any:
    return connect(
        store,
        hub,
        "wechat",
        "wx",
        {"protocol": "onebot12", **FAST, **config},
        {"access_token": token},
    )


def _forward(store, hub, api, bridge, token: str | None = None) -> Any:
    made = _wechat(store, hub, {"ws_url": bridge.url}, token or api.token)
    hub.start()
    return made


def _alerts(store: Store) -> list[Any]:
    return rows(store, select(ConnectorAlert.kind, ConnectorAlert.text, ConnectorAlert.level))


def test_an_ad_is_warned_and_the_delete_it_cannot_do_is_an_alert(store, hub, api, bridge):
    _forward(store, hub, api, bridge)
    bridge.wait_connected()
    bridge.report(b.group_message("m1", "wxid_spam01", SPAM, at=NOW))
    bridge.report(b.group_message("m2", "wxid_read01", "早上好", at=NOW + 1))
    wait_until(lambda: len(api.called("send_message")) == 1, what="the warning")
    assert hub.executor.drain()
    [warn] = api.called("send_message")
    assert warn["detail_type"] == "group" and warn["group_id"] == b.GROUP
    assert warn["message"][0] == {"type": "mention", "data": {"user_id": "wxid_spam01"}}
    assert "禁止留联系方式拉人" in warn["message"][1]["data"]["text"]
    assert api.called("delete_message") == []  # WeChat recalls only the account's own
    [alert] = [a for a in _alerts(store) if "delete_message" in a.text]
    assert "wechat cannot act" in alert.text and "wxid_spam01" in alert.text
    assert rows(store, select(Message.platform_message_id).order_by(Message.id)) == [
        ("m1",),
        ("m2",),
    ]
    assert {p for (p,) in rows(store, select(Group.platform))} == {"wechat"}


def test_the_warning_goes_at_receipt_once_and_the_batch_records_it(store, hub, api, bridge):
    # WeChat cannot delete: the first answer to an ad is the warning, sent before the
    # message is stored (moderation.early_warn); the batch's twin is not handed on again
    _forward(store, hub, api, bridge)
    bridge.wait_connected()
    bridge.report(b.group_message("m1", "wxid_spam01", SPAM, at=NOW))
    wait_until(lambda: len(api.called("send_message")) == 1, what="the warning")
    wait_until(lambda: count(store, Message) == 1, what="the message")
    assert hub.executor.drain()
    sent = rows(store, select(ConnectorAction.kind, ConnectorAction.status))
    assert sorted(sent) == [("alert", "alerted"), ("warn", "sent")]  # one warning, one alert
    assert {k for (k,) in rows(store, select(OutboxAction.kind))} == {"alert"}
    [(decision, outcome)] = rows(store, select(ModerationAction.action, ModerationAction.outcome))
    assert decision == "delete_warn" and outcome in ("sent", "alerted")  # the alert's last


def test_the_third_offence_removes_where_the_account_is_admin(store, hub, api, bridge):
    _forward(store, hub, api, bridge)
    bridge.wait_connected()
    other = "13579246801@chatroom"  # the account is a plain member there
    for n in range(3):
        bridge.report(b.group_message(f"a{n}", "wxid_spam01", f"{SPAM} {n}", at=NOW + n))
        bridge.report(
            b.group_message(f"b{n}", "wxid_spam02", f"{SPAM} {n}", at=NOW + n, group=other)
        )
        wait_until(lambda n=n: count(store, Message) == 2 * (n + 1), what="the messages")
        assert hub.executor.drain()
    assert api.called("wx.delete_groupmember") == [
        {"group_id": b.GROUP, "user_list": ["wxid_spam01"]},
        {"group_id": other, "user_list": ["wxid_spam02"]},
    ]
    refused = [a for a in _alerts(store) if a.kind == "remove"]
    assert len(refused) == 1 and "owner or admin" in refused[0].text
    # the group where the removal worked was told why; sending still works in the other
    told = [m for m in api.called("send_message") if m["group_id"] == b.GROUP]
    assert len(told) == 3


def _member_id(store: Store, user: str) -> int:
    [(member,)] = rows(store, select(Identity.member_id).where(Identity.platform_user_id == user))
    return int(member)


def test_a_join_is_credited_to_its_inviter_by_event_or_by_system_line(store, hub, api, bridge):
    bot = _forward(store, hub, api, bridge)
    bridge.wait_connected()
    api.members[b.GROUP] = [
        {"user_id": "wxid_host01", "user_name": "老周", "user_displayname": "周老师"},
    ]
    bridge.report(b.member_increase("wxid_new01", at=NOW, operator="wxid_host01", sub="invite"))
    wait_until(lambda: count(store, Membership) == 1, what="the first join")
    wait_until(lambda: bot.sync(b.GROUP) == 1, what="the member list")
    bridge.report(b.system_line("“周老师”邀请“小林”加入了群聊", at=NOW + 5, n=1))
    wait_until(lambda: count(store, Membership) == 3, what="the joins")
    host = _member_id(store, "wxid_host01")
    invited = rows(
        store,
        select(Identity.platform_user_id, Membership.inviter_member_id, Membership.join_via)
        .join(Membership, Membership.member_id == Identity.member_id)
        .where(Membership.inviter_member_id.is_not(None))
        .order_by(Identity.platform_user_id),
    )
    assert invited == [("name:小林", host, "invite"), ("wxid_new01", host, "invite")]


def test_leaves_removals_recalls_and_renames_are_kept(store, hub, api, bridge):
    _forward(store, hub, api, bridge)
    bridge.wait_connected()
    bridge.report(b.group_message("m1", "wxid_a", "第一章读完了", at=NOW))
    bridge.report(b.message_delete("m1", "wxid_a", at=NOW + 1))
    bridge.report(b.member_decrease("wxid_a", at=NOW + 2))
    bridge.report(b.member_decrease("wxid_b", at=NOW + 3, operator=b.SELF, sub="kick"))
    bridge.report(b.system_line("“老周”修改群名为“读书会·春季班”", at=NOW + 4, n=2))
    wait_until(
        lambda: count(store, MembershipEvent, MembershipEvent.kind != "join") == 2,
        what="the leave and the removal",
    )
    wait_until(lambda: any(a.kind == "group_renamed" for a in _alerts(store)), what="rename")
    kinds = rows(store, select(MembershipEvent.kind).order_by(MembershipEvent.occurred_at))
    assert [k for (k,) in kinds if k != "join"] == ["leave", "remove"]
    assert rows(store, select(Group.name)) == [("读书会·春季班",)]
    assert rows(store, select(Message.recalled)) == [(True,)]


def test_every_kind_of_wechat_message_is_stored_with_its_kind(store, hub, api, bridge):
    _forward(store, hub, api, bridge)
    bridge.wait_connected()
    link = {
        "type": "wx.link",
        "data": {"title": "共读书单", "des": "春季", "url": "https://example.org/a", "file_id": ""},
    }
    app = {"type": "wx.app", "data": {"appid": "wx1234", "title": "打卡小程序", "url": ""}}
    sent = [
        b.group_message("k1", "wxid_a", [{"type": "image", "data": {"file_id": "f1"}}], at=NOW),
        b.group_message("k2", "wxid_a", [{"type": "file", "data": {"file_id": "f2"}}], at=NOW),
        b.group_message("k3", "wxid_a", [link], at=NOW),
        b.group_message("k4", "wxid_a", [app], at=NOW),
        b.group_message(
            "k5",
            "wxid_b",
            [{"type": "reply", "data": {"message_id": "k3", "user_id": "wxid_a"}}, b.text("好")],
            at=NOW,
        ),
        b.group_message(
            "k6",
            "wxid_b",
            [{"type": "mention", "data": {"user_id": "wxid_a"}}, b.text(" 收到")],
            at=NOW,
        ),
        b.contact_card("wxid_c", "卖课小王", at=NOW, n=7),
        b.red_envelope("wxid_c", at=NOW, n=8),
    ]
    for event in sent:
        bridge.report(event)
    wait_until(lambda: count(store, Message) == len(sent), what="every message")
    stored = dict(rows(store, select(Message.platform_message_id, Message.kind)))
    assert stored == {
        "k1": "image",
        "k2": "file",
        "k3": "link",
        "k4": "mini_program",
        "k5": "quote",
        "k6": "text",
        "card-7": "contact_card",
        "bag-8": "red_envelope",
    }


def test_a_dropped_connection_reconnects_with_nothing_lost_or_doubled(store, hub, api, bridge):
    _forward(store, hub, api, bridge)
    bridge.wait_connected()
    for n in range(20):
        text = SPAM if n == 12 else f"读书笔记 {n}"
        bridge.report(b.group_message(f"d{n}", f"wxid_{n % 4}", text, at=NOW + n))
        if n == 9:
            bridge.drop()
            bridge.wait_connected(2)  # back, and sent 0–9 again
    wait_until(lambda: count(store, Message) >= 20, what="twenty messages")
    wait_until(lambda: len(api.called("send_message")) >= 1, what="the warning")
    time.sleep(0.3)  # anything doubled would arrive now
    assert hub.executor.drain()
    assert count(store, Message) == 20
    assert len(api.called("send_message")) == 1
    assert hub.runners[next(iter(hub.runners))].reconnects >= 1


def _status(store: Store) -> tuple[str, str]:
    [(status, reason)] = rows(store, select(Connector.status, Connector.status_reason))
    return status, reason


def test_a_bridge_refusing_our_token_disables_the_connector(store, hub, api, bridge):
    _forward(store, hub, api, bridge, token="forged")
    wait_until(lambda: _status(store)[0] == "disabled", what="disabled state")
    assert "refused the access token (401)" in _status(store)[1]
    assert bridge.connections == 0 and bridge.refused == 1  # no retrying a refused token


def test_a_bridge_with_a_wrong_token_is_refused(store, hub, api):
    _wechat(store, hub, {}, api.token)
    with serving(store, hub) as server:
        hook = f"{server.url}/hooks/onebot/wx"
        event = b.group_message("w1", "wxid_a", "hi", at=NOW)
        assert b.post(hook, event, "forged").status_code == 401
        assert httpx.post(hook, json=event, timeout=30).status_code == 401  # no token at all
        url = f"ws://127.0.0.1:{server.port}/hooks/onebot/wx/ws"
        with b.FakeBridgeReverse(url, "forged", api) as client:  # type: ignore[arg-type]
            wait_until(lambda: client.refused >= 1, what="the refusal")
            assert client.connections == 0
    assert count(store, Message) == 0


def test_the_reverse_websocket_and_the_webhook_carry_events_and_actions(store, hub, api):
    _wechat(store, hub, {"api_url": api.url + "/"}, api.token)  # type: ignore[attr-defined]
    with serving(store, hub) as server:
        assert (
            b.post(f"{server.url}/hooks/onebot/wx", b.heartbeat(NOW), api.token).status_code == 204
        )
        hook = b.post(
            f"{server.url}/hooks/onebot/wx",
            b.group_message("h1", "wxid_spam01", SPAM, at=NOW),
            api.token,
        )
        assert hook.status_code == 204
        wait_until(lambda: len(api.called("send_message")) == 1, what="the warning over HTTP")
        url = f"ws://127.0.0.1:{server.port}/hooks/onebot/wx/ws"
        with b.FakeBridgeReverse(url, api.token, api) as client:  # type: ignore[arg-type]
            client.wait_connected()
            for n in range(3):
                client.report(b.group_message(f"r{n}", "wxid_b", f"{SPAM} {n}", at=NOW + n))
                if n == 1:
                    client.drop()
            client.wait_connected(2)
            wait_until(lambda: count(store, Message) == 4, what="four messages")
            time.sleep(0.3)
            assert hub.executor.drain()
    assert count(store, Message) == 4
    # wxid_b's third breach removed them; each breach got one warning or notice, not two
    assert len(api.called("send_message")) == 4
    assert api.called("wx.delete_groupmember") == [{"group_id": b.GROUP, "user_list": ["wxid_b"]}]


def test_a_qq_v11_and_a_wechat_v12_bridge_at_once_land_as_two_platforms(store, hub, api):
    from connector_fakes import onebot as ob

    connect(store, hub, "qq", "qq", {"callback_window": 3600}, {"secret": "s", "access_token": "t"})
    _wechat(store, hub, {}, api.token)
    with serving(store, hub) as server:
        qq = ob.group_message(7001, 555, "早上好", at=int(NOW))
        assert ob.signed_post(f"{server.url}/hooks/onebot/qq", qq, "s").status_code == 204
        wx = b.group_message("w1", "wxid_a", "早上好", at=NOW)
        assert b.post(f"{server.url}/hooks/onebot/wx", wx, api.token).status_code == 204
        # a OneBot 12 bridge for another platform: stored as what it says it is
        qq12 = {**b.group_message("q1", "10002", "你好", at=NOW, group="4455"), "impl": "walle-q"}
        qq12["self"] = {"platform": "qq", "user_id": "10001"}
        assert b.post(f"{server.url}/hooks/onebot/wx", qq12, api.token).status_code == 204
        odd = {**b.group_message("k1", "u1", "hi", at=NOW, group="k"), "impl": "kook-bridge"}
        odd["self"] = {"platform": "kaiheila", "user_id": "b"}
        assert b.post(f"{server.url}/hooks/onebot/wx", odd, api.token).status_code == 204
    stored = rows(
        store,
        select(Group.platform, Group.platform_group_id, Message.platform_message_id)
        .join(Message, Message.group_id == Group.id)
        .order_by(Group.platform, Message.platform_message_id),
    )
    assert set(stored) == {
        ("qq", "4455", "q1"),
        ("qq", str(ob.GROUP), "7001"),
        ("wechat", b.GROUP, "w1"),
    }
    [unknown] = [a for a in _alerts(store) if a.kind == "unknown_platform"]
    assert "kaiheila" in unknown.text


def test_past_the_daily_cap_a_message_becomes_an_alert(store, hub, api, bridge):
    # a personal account keeps to its cap: the second warning of the day is not sent
    made = _wechat(store, hub, {"ws_url": bridge.url, "send_daily_cap": 1}, api.token)
    assert made.info.config["send_daily_cap"] == 1
    hub.start()
    bridge.wait_connected()
    bridge.report(b.group_message("c1", "wxid_spam01", SPAM, at=NOW))
    bridge.report(b.group_message("c2", "wxid_spam02", SPAM, at=NOW + 1))
    wait_until(lambda: count(store, Message) == 2, what="both messages")
    wait_until(lambda: hub.executor.drain(1) and len(_alerts(store)) >= 3, what="the alerts")
    assert len(api.called("send_message")) == 1
    [capped] = [a for a in _alerts(store) if a.kind == "daily_cap"]
    assert "daily cap of 1 messages" in capped.text and "wxid_spam02" in capped.text


def test_the_bridge_saying_the_account_is_offline_shows_in_the_state(store, hub, api, bridge):
    _forward(store, hub, api, bridge)
    bridge.wait_connected()
    wait_until(lambda: _status(store)[0] == "connected", what="connected")
    bridge.report(
        {
            **b.heartbeat(NOW),
            "detail_type": "status_update",
            "status": {
                "good": True,
                "bots": [{"self": {"platform": "wechat", "user_id": b.SELF}, "online": False}],
            },
        }
    )
    wait_until(lambda: _status(store)[0] == "error", what="the offline state")
    assert b.SELF in _status(store)[1]


def test_over_the_reverse_websocket_the_warning_goes_on_its_loop_once(store, hub, api):
    # the ad's warning is sent on the event loop of the WebSocket that received it
    # (Executor.submit_early → loop_perform), not by a worker; redelivered, nothing more
    made = _wechat(store, hub, {}, api.token)
    by_worker: list[str] = []
    perform = made.perform
    made.perform = lambda action: by_worker.append(action.kind) or perform(action)
    with serving(store, hub) as server:
        url = f"ws://127.0.0.1:{server.port}/hooks/onebot/wx/ws"
        with b.FakeBridgeReverse(url, api.token, api) as client:  # type: ignore[arg-type]
            client.wait_connected()
            ad = b.group_message("r1", "wxid_spam01", SPAM, at=NOW)
            client.report(ad)
            wait_until(lambda: len(api.called("send_message")) == 1, what="the warning")
            client.report(ad)  # the bridge reports it again
            wait_until(lambda: count(store, Message) == 1, what="the message")
            time.sleep(0.3)
            assert hub.executor.drain()
    assert len(api.called("send_message")) == 1
    assert "warn" not in by_worker  # the worker carried out only the alert
    sent = rows(store, select(ConnectorAction.kind, ConnectorAction.status))
    assert sorted(sent) == [("alert", "alerted"), ("warn", "sent")]
    [(decision, outcome)] = rows(store, select(ModerationAction.action, ModerationAction.outcome))
    assert decision == "delete_warn" and outcome in ("sent", "alerted")


def test_split_an_ad_among_many_is_warned_before_any_is_stored_once_across_a_reconnect(
    store, community, api, redis_url
):
    # `qunzhu serve` split: the web process holds the reverse WebSocket and judges each
    # message as it is read; the ad's warning is claimed and sent there before anything is
    # stored (no worker yet). The bridge reports it all again after a drop: judged again,
    # the claim is taken, nothing more is sent, and the worker's batch sends no twin
    import redis

    stream = f"qunzhu:test-ob12:{uuid.uuid4().hex}"
    web = ConnectorHub(
        store, role="web", durable=RedisQueue(redis_url, stream=stream, consumer="w")
    )
    worker = ConnectorHub(
        store,
        role="worker",
        durable=RedisQueue(redis_url, stream=stream, consumer="k"),
        backoff=0.05,
    )
    try:
        _wechat(store, web, {}, api.token)
        worker.add(next(i for i in load_infos(store) if i.name == "wx"))
        with serving(store, web) as server:
            url = f"ws://127.0.0.1:{server.port}/hooks/onebot/wx/ws"
            with b.FakeBridgeReverse(url, api.token, api) as client:  # type: ignore[arg-type]
                client.wait_connected()
                for n in range(40):
                    ad = n == 25
                    user, text = ("wxid_spam01", SPAM) if ad else (f"wxid_m{n}", f"早上好 {n}")
                    client.report(b.group_message(f"m{n}", user, text, at=NOW + n))
                wait_until(lambda: len(api.called("send_message")) == 1, what="the warning")
                assert count(store, Message) == 0  # no worker yet: nothing was stored
                client.drop()  # the bridge reports all forty again on its new connection
                client.wait_connected(2)
                worker.start()
                wait_until(lambda: count(store, Message) == 40, 30, what="all forty stored")
                assert worker.sink.drain(30)
                time.sleep(0.3)
                assert worker.executor.drain() and web.executor.drain()
    finally:
        worker.stop()
        web.stop()
        client_ = redis.Redis.from_url(redis_url)
        client_.delete(
            stream, *client_.keys(f"{stream}:*"), *client_.keys(f"qunzhu:early:{stream}:*")
        )
    [warning] = api.called("send_message")
    assert {"type": "mention", "data": {"user_id": "wxid_spam01"}} in warning["message"]
    assert count(store, Message) == 40
    [(decision, outcome)] = rows(store, select(ModerationAction.action, ModerationAction.outcome))
    assert decision == "delete_warn" and outcome in ("sent", "alerted")
