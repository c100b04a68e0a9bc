"""WeCom end to end: callback URL verification, encrypted change_external_chat callbacks,
group sync, and decisions WeCom cannot carry out turned into alerts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from connector_fakes import wecom as wc
from connector_fakes.liveserver import LiveServer
from qunzhu_tests_connectors import SPAM, connect, count, rows, serving
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.live.hub import ConnectorHub
from qunzhu.store import Store
from qunzhu.store.connectors import ConnectorAction, ConnectorAlert, ConnectorGroup
from qunzhu.store.models import Identity, Membership, MembershipEvent

NOW = int(time.time()) - 600


@pytest.fixture
def fake() -> Iterator[wc.FakeWeCom]:
    platform = wc.FakeWeCom()
    with LiveServer(platform.app) as server:
        platform.url = server.url  # type: ignore[attr-defined]
        yield platform


def _app(store: Store, hub: ConnectorHub, fake: wc.FakeWeCom, *, sync: int = 0) -> Any:
    return connect(
        store,
        hub,
        "wecom",
        "wecom1",
        {"api_base": fake.url, "sync_interval": sync},  # type: ignore[attr-defined]
        {"corp_id": wc.CORP_ID, "secret": wc.SECRET, "token": wc.TOKEN, "aes_key": wc.AES_KEY},
    )


def _hook(server: LiveServer) -> str:
    return f"{server.url}/hooks/wecom/wecom1"


def test_the_callback_url_is_verified_and_a_forgery_refused(store, hub, fake):
    _app(store, hub, fake)
    with serving(store, hub) as server:
        answer = wc.verify_url(_hook(server), "echo-1234567")
        assert answer.status_code == 200 and answer.text == "echo-1234567"
        assert wc.verify_url(_hook(server), "echo", forge=True).status_code == 403


def test_a_forged_callback_is_refused_and_nothing_stored(store, hub, fake):
    _app(store, hub, fake)
    xml = wc.change_xml(wc.CHAT, "update", detail="add_member", members=("wmA",), at=NOW)
    with serving(store, hub) as server:
        assert wc.post_callback(_hook(server), xml, forge=True).status_code == 403
    assert count(store, Membership) == 0


def test_a_validly_signed_callback_30_days_old_is_refused_and_nothing_stored(store, hub, fake):
    _app(store, hub, fake)
    xml = wc.change_xml(wc.CHAT, "update", detail="add_member", members=("wmA",), at=NOW)
    with serving(store, hub) as server:
        answer = wc.post_callback(_hook(server), xml, age=30 * 86400)
        assert answer.status_code == 403
        assert "30.0 days old" in answer.text
    assert count(store, Membership) == 0


def test_a_replayed_callback_is_refused_once_it_was_taken(store, hub, fake):
    _app(store, hub, fake)
    xml = wc.change_xml(wc.CHAT, "update", detail="add_member", members=("wmA",), at=NOW)
    request = wc.callback_request(xml, age=60)  # a minute old: within the window
    with serving(store, hub) as server:
        assert httpx.post(_hook(server), timeout=30, **request).status_code == 200
        again = httpx.post(_hook(server), timeout=30, **request)
        assert again.status_code == 403 and "replay" in again.text
    assert count(store, Membership) == 1


def test_joins_name_their_inviter_and_removals_their_scene(store, hub, fake):
    _app(store, hub, fake)
    fake.chats[wc.CHAT] = wc.chat_detail(
        wc.CHAT,
        "owner1",
        [
            wc.member("owner1", join_time=NOW - 9999, kind=1),
            wc.member("wmA", join_time=NOW, invitor="owner1", scene=1),
        ],
    )
    with serving(store, hub) as server:
        xml = wc.change_xml(wc.CHAT, "update", detail="add_member", members=("wmA",), at=NOW)
        assert wc.post_callback(_hook(server), xml).status_code == 200
        assert wc.post_callback(_hook(server), xml).status_code == 200  # WeCom retried
        xml = wc.change_xml(
            wc.CHAT, "update", detail="del_member", members=("wmA",), quit_scene=1, at=NOW + 60
        )
        assert wc.post_callback(_hook(server), xml).status_code == 200
    history = rows(
        store,
        select(MembershipEvent.kind, MembershipEvent.via, MembershipEvent.other_member_id).order_by(
            MembershipEvent.occurred_at
        ),
    )
    [(owner,)] = rows(
        store, select(Identity.member_id).where(Identity.platform_user_id == "owner1")
    )
    assert [k for k, _, _ in history] == ["join", "remove"]
    assert history[0].via == "invite"
    assert history[0].other_member_id == owner


def test_a_join_over_the_cap_becomes_an_alert_and_a_group_message(store, hub, fake):
    _app(store, hub, fake)
    fake.chats[wc.CHAT] = wc.chat_detail(wc.CHAT, "owner1", [])
    with serving(store, hub) as server:
        for n, user in enumerate(("wm1", "wm2", "wm3")):
            xml = wc.change_xml(wc.CHAT, "update", detail="add_member", members=(user,), at=NOW + n)
            assert wc.post_callback(_hook(server), xml).status_code == 200
        assert hub.executor.drain()
    [alert] = rows(store, select(ConnectorAlert.kind, ConnectorAlert.member, ConnectorAlert.text))
    assert alert.kind == "decline_join" and alert.member == "wm3"
    assert "remove the member by hand" in alert.text
    [task] = fake.called("add_msg_template")
    assert task["chat_id_list"] == [wc.CHAT] and task["sender"] == "owner1"
    assert "候补" in task["text"]["content"]


def test_an_ad_on_wecom_becomes_an_alert_and_nothing_is_sent(store, hub, fake):
    _app(store, hub, fake)
    hub.start()
    # content arrives only through the archive SDK or an import; the decision still counts
    hub.sink.deliver(
        [
            ev.MessagePosted(
                platform="wecom",
                community="acme",
                group=wc.CHAT,
                member="wmS",
                occurred_at=datetime.fromtimestamp(NOW, UTC),
                message_id="arch-1",
                text=SPAM,
            )
        ]
    )
    assert hub.executor.drain()
    [alert] = rows(store, select(ConnectorAlert.kind, ConnectorAlert.text))
    assert "wecom cannot act" in alert.text and "delete_message" in alert.text
    assert fake.calls == []
    assert [s for (s,) in rows(store, select(ConnectorAction.status))] == ["alerted"]


def test_the_group_sync_adds_members_once_and_sees_who_left(store, hub, fake):
    app = _app(store, hub, fake)
    fake.chats[wc.CHAT] = wc.chat_detail(
        wc.CHAT,
        "owner1",
        [
            wc.member("owner1", join_time=NOW - 9999, kind=1),
            wc.member("wmA", join_time=NOW - 50, invitor="owner1"),
            wc.member("wmB", join_time=NOW - 40, scene=3),
        ],
    )
    hub.start()
    assert app.sync() == 3
    assert app.sync() == 3
    assert count(store, Membership, Membership.status == "active") == 3
    fake.chats[wc.CHAT]["member_list"].pop()
    fake.expire_tokens()  # the next call meets 42001 and fetches a new token
    app.sync()
    assert count(store, Membership, Membership.status == "active") == 2


def test_the_runner_syncs_in_the_background(store, hub, fake, wait_for):
    fake.chats[wc.CHAT] = wc.chat_detail(
        wc.CHAT, "owner1", [wc.member("owner1", join_time=NOW - 9999, kind=1)]
    )
    _app(store, hub, fake, sync=3600)
    with serving(store, hub):
        wait_for(lambda: count(store, Membership) == 1, what="synced member")


def test_a_dismissed_group_is_marked_and_shown(store, hub, fake):
    _app(store, hub, fake)
    with serving(store, hub) as server:
        xml = wc.change_xml(wc.CHAT, "dismiss", at=NOW)
        assert wc.post_callback(_hook(server), xml).status_code == 200
    [(status,)] = rows(store, select(ConnectorGroup.status))
    assert status == "dismissed"
    assert count(store, ConnectorAlert, ConnectorAlert.kind == "group_dismissed") == 1
