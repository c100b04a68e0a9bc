"""Discord end to end: discord.py's gateway client and REST calls against a fake Discord
(gateway and REST) on 127.0.0.1, through the hub, the pipeline and the executor."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from connector_fakes import discord as dc
from connector_fakes.liveserver import LiveServer
from qunzhu_tests_connectors import SPAM, connect, count, rows, wait_until
from sqlalchemy import select

from qunzhu.events import Action
from qunzhu.live.hub import ConnectorHub
from qunzhu.store import Store
from qunzhu.store.connectors import Connector, ConnectorAction
from qunzhu.store.models import Group, Identity, Membership, Message

ANN = dc.user("800000000000000011", "ann")
BOB = dc.user("800000000000000012", "bob")
CAT = dc.user("800000000000000013", "cat")


@pytest.fixture
def fake() -> Iterator[dc.FakeDiscord]:
    platform = dc.FakeDiscord()
    with LiveServer(platform.app) as server:
        platform.url = server.url
        yield platform


def _bot(store: Store, hub: ConnectorHub, fake: dc.FakeDiscord, token: str = "") -> Any:
    return connect(
        store,
        hub,
        "discord",
        "dcbot",
        {"api_base": fake.api_base, "gateway": fake.gateway},
        {"token": token or fake.token},
    )


def _status(store: Store) -> tuple[str, str]:
    [(status, reason)] = rows(store, select(Connector.status, Connector.status_reason))
    return status, reason


def _started(store: Store, hub: ConnectorHub, fake: dc.FakeDiscord) -> None:
    _bot(store, hub, fake)
    hub.start()
    fake.wait_connected()
    wait_until(lambda: _status(store)[0] == "connected", what="connected state")


def test_an_ad_is_deleted_and_its_sender_warned(store, fake, hub):
    _started(store, hub, fake)
    fake.message(5001, ANN, SPAM)
    fake.message(5002, BOB, "大家早上好", channel=dc.HELP)
    wait_until(lambda: len(fake.called("POST", "/channels/")) == 1, what="the warning")
    wait_until(lambda: count(store, Message) == 2, what="both messages")
    assert hub.executor.drain()
    assert fake.called("DELETE", "/channels/") == [(f"/channels/{dc.GENERAL}/messages/5001", None)]
    [(path, body)] = fake.called("POST", "/channels/")
    assert path == f"/channels/{dc.GENERAL}/messages"
    assert (
        body["content"].startswith(f"<@{ANN['id']}> ") and "禁止留联系方式拉人" in body["content"]
    )
    # a channel is a group, as DiscordChatExporter exports one
    assert {g for (g,) in rows(store, select(Group.platform_group_id))} == {dc.GENERAL, dc.HELP}
    assert count(store, Message) == 2


def test_the_third_offence_times_the_member_out(store, fake, hub):
    _started(store, hub, fake)
    for n in range(3):
        fake.message(5100 + n, ANN, f"{SPAM} {n}")
        wait_until(lambda n=n: len(fake.called("DELETE", "/channels/")) == n + 1, what="delete")
        assert hub.executor.drain()
    wait_until(lambda: len(fake.called("PATCH", "/guilds/")) == 1, what="the timeout")
    [(path, body)] = fake.called("PATCH", "/guilds/")
    assert path == f"/guilds/{dc.GUILD}/members/{ANN['id']}"
    assert body["communication_disabled_until"] > time.strftime("%Y-%m-%dT%H:%M:%S")


def test_remove_kicks_and_ban_bans_in_the_channels_server(store, fake, hub):
    _started(store, hub, fake)
    fake.message(5200, CAT, "hello")
    wait_until(lambda: count(store, Message) == 1, what="the message")
    for kind in ("remove", "ban"):
        hub.executor.submit(
            [
                Action(
                    kind=kind,  # type: ignore[arg-type]
                    platform="discord",
                    community="acme",
                    group=dc.HELP,
                    member=CAT["id"],
                    reason="test",
                )
            ]
        )
    assert hub.executor.drain()
    wait_until(lambda: fake.called("PUT", "/guilds/"), what="the ban")
    assert [p for p, _ in fake.called("DELETE", "/guilds/")] == [
        f"/guilds/{dc.GUILD}/members/{CAT['id']}"
    ]
    assert [p for p, _ in fake.called("PUT", "/guilds/")] == [
        f"/guilds/{dc.GUILD}/bans/{CAT['id']}"
    ]


def test_a_join_through_a_referral_invite_credits_its_referrer(store, fake, hub):
    _started(store, hub, fake)
    fake.join(ANN)
    wait_until(lambda: count(store, Membership) == 1, what="ann's join")
    hub.executor.submit(
        [
            Action(
                kind="create_invite_link",
                platform="discord",
                community="acme",
                group=dc.GENERAL,
                member=ANN["id"],
                detail={"referrer": ANN["id"], "member_limit": 5},
            )
        ]
    )
    assert hub.executor.drain()
    wait_until(lambda: fake.called("POST", f"/channels/{dc.GENERAL}/invites"), what="invite")
    [(_, made)] = fake.called("POST", f"/channels/{dc.GENERAL}/invites")
    assert made["max_uses"] == 5 and made["unique"] is True
    made_link = select(ConnectorAction.result).where(
        ConnectorAction.kind == "create_invite_link", ConnectorAction.status == "sent"
    )
    wait_until(lambda: rows(store, made_link), what="the invite's result")
    [(result,)] = rows(store, made_link)
    code = result["invite_link"].rsplit("/", 1)[1]
    fake.join(BOB, code)
    wait_until(lambda: count(store, Membership) == 2, what="bob's join")
    [joined] = rows(
        store,
        select(Membership.inviter_member_id, Membership.join_via)
        .join(Identity, Identity.member_id == Membership.member_id)
        .where(Identity.platform_user_id == BOB["id"]),
    )
    [(ann,)] = rows(store, select(Identity.member_id).where(Identity.platform_user_id == ANN["id"]))
    assert joined.inviter_member_id == ann and joined.join_via == "link"
    # joins are counted in the server's system channel
    groups = rows(
        store, select(Group.platform_group_id).join(Membership, Membership.group_id == Group.id)
    )
    assert {g for (g,) in groups} == {dc.GENERAL}


def test_a_dropped_gateway_resumes_with_nothing_lost_or_doubled(store, fake, hub):
    _started(store, hub, fake)
    for n in range(20):
        text = SPAM if n == 12 else f"读书笔记 {n}"
        fake.message(6000 + n, (ANN, BOB, CAT)[n % 3], text)
        if n == 9:
            fake.drop()  # 10–19 are sent while the bot is away, replayed on RESUME
    fake.wait_connected(2)
    wait_until(lambda: count(store, Message) >= 20, what="twenty messages")
    wait_until(lambda: len(fake.called("DELETE", "/channels/")) >= 1, what="the delete")
    time.sleep(0.3)  # anything doubled would arrive now
    assert hub.executor.drain()
    assert count(store, Message) == 20
    assert fake.resumed == 1 and fake.identified == 1  # resumed, not a new session
    assert fake.called("DELETE", "/channels/") == [(f"/channels/{dc.GENERAL}/messages/6012", None)]


def test_a_wrong_token_disables_the_connector_with_the_reason(store, fake, hub):
    _bot(store, hub, fake, token="forged")
    hub.start()
    wait_until(lambda: _status(store)[0] == "disabled", what="disabled state")
    assert "Discord refused the bot" in _status(store)[1]
    assert fake.identified == 0


@pytest.fixture
def stream(redis_url: str) -> Iterator[str]:
    import uuid

    import redis

    name = f"qunzhu:test-discord:{uuid.uuid4().hex}"
    yield name
    client = redis.Redis.from_url(redis_url)
    client.delete(name, *client.keys(f"{name}:*"), *client.keys(f"qunzhu:early:{name}:*"))


def test_split_the_web_holds_the_gateway_and_deletes_at_receipt_the_worker_does_the_rest(
    store, community, fake, redis_url, stream
):
    from qunzhu.live.hub import load_infos
    from qunzhu.live.queue import RedisQueue
    from qunzhu.store.models import ModerationAction

    web = ConnectorHub(
        store, role="web", durable=RedisQueue(redis_url, stream=stream, consumer="t-web")
    )
    worker = ConnectorHub(
        store,
        role="worker",
        durable=RedisQueue(redis_url, stream=stream, consumer="t-worker"),
        backoff=0.05,
    )
    try:
        _bot(store, web, fake)
        worker.add(next(i for i in load_infos(store) if i.name == "dcbot"))
        web.start()
        fake.wait_connected()
        fake.message(5301, ANN, SPAM)
        # deleted by the web process, on the gateway's loop, before anything is stored
        wait_until(lambda: fake.called("DELETE", "/channels/"), what="the early delete")
        assert web.executor.drain()
        assert count(store, Message) == 0
        worker.start()
        assert worker.runners == {}  # one gateway session per bot: the web process's
        wait_until(lambda: count(store, Message) == 1, 30, what="the worker to store it")
        wait_until(lambda: fake.called("POST", "/channels/"), 30, what="the batch's warning")
        # the worker never saw the guild: a timeout asks Discord for the channel's server
        worker.executor.submit(
            [
                Action(
                    kind="mute",
                    platform="discord",
                    community="acme",
                    group=dc.HELP,
                    member=BOB["id"],
                    duration_seconds=60,
                    reason="test",
                )
            ]
        )
        assert worker.executor.drain() and worker.sink.drain(30)
        assert web.executor.drain()
    finally:
        worker.stop()
        web.stop()
    assert fake.identified == 1
    assert fake.called("DELETE", "/channels/") == [(f"/channels/{dc.GENERAL}/messages/5301", None)]
    assert [p for p, _ in fake.called("PATCH", "/guilds/")] == [
        f"/guilds/{dc.GUILD}/members/{BOB['id']}"
    ]
    # the batch's decision records what the early delete did; the delete is logged once
    [(outcome,)] = rows(store, select(ModerationAction.outcome))
    assert outcome == "sent"
    logged = rows(store, select(ConnectorAction.kind, ConnectorAction.status))
    assert sorted(logged) == [("delete_message", "sent"), ("mute", "sent"), ("warn", "sent")]


def test_one_process_with_redis_deletes_an_ad_once_at_receipt(
    store, community, fake, redis_url, stream
):
    from qunzhu.live.queue import RedisQueue

    hub = ConnectorHub(
        store, durable=RedisQueue(redis_url, stream=stream, consumer="t-all"), backoff=0.05
    )
    try:
        _started(store, hub, fake)
        fake.message(5401, ANN, SPAM)
        fake.message(5402, BOB, "大家早上好")
        wait_until(lambda: count(store, Message) == 2, 30, what="both messages")
        wait_until(lambda: fake.called("POST", "/channels/"), 30, what="the batch's warning")
        assert hub.sink.drain(30) and hub.executor.drain()
    finally:
        hub.stop()
    assert fake.called("DELETE", "/channels/") == [(f"/channels/{dc.GENERAL}/messages/5401", None)]
    logged = rows(store, select(ConnectorAction.kind, ConnectorAction.status))
    assert sorted(logged) == [("delete_message", "sent"), ("warn", "sent")]
