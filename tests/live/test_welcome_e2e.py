"""Welcomes end to end on the fake platforms: people who join a Telegram group and a QQ group
are welcomed once, by name, in one message per burst; a private message to a QQ member goes
out through send_private_msg."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from connector_fakes import onebot as ob
from connector_fakes import telegram as tg
from connector_fakes.liveserver import LiveServer
from qunzhu_tests_connectors import connect, post_update, serving, telegram_bot, wait_until
from sqlalchemy import select, update

from qunzhu.growth.common import spec_of
from qunzhu.live.scheduler import Scheduler, jobs_from_settings
from qunzhu.messaging.broadcast import SendRequest, send
from qunzhu.store import Store
from qunzhu.store.community import Community

NOW = int(time.time()) - 120
WELCOME = 'messages:\n  welcome: {zh-CN: "欢迎 {member} 加入{group}！", en: "Welcome {member}"}\n'


@pytest.fixture
def onebot_api() -> Any:
    fake = ob.FakeOneBotApi()
    with LiveServer(fake.app) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        yield fake


def _welcome_spec(store: Store) -> None:
    with store.unit_of_work() as session:
        spec = session.scalar(select(Community.spec_yaml).where(Community.slug == "acme"))
        session.execute(
            update(Community).where(Community.slug == "acme").values(spec_yaml=spec + WELCOME)
        )


def _welcomed(telegram: Any, qq: Any) -> list[str]:
    texts = [m["text"] for m in telegram.called("sendMessage")]
    texts += [m["message"] for m in qq.called("send_group_msg")]
    return [t for t in texts if t.startswith("欢迎")]


def _welcome_job(store: Store) -> Scheduler:
    return Scheduler(store, [j for j in jobs_from_settings(store) if j.name == "welcome"])


def test_joins_on_telegram_and_qq_are_welcomed_once(
    store, community, hub, fake_telegram, onebot_api
):
    _welcome_spec(store)
    telegram_bot(store, hub, fake_telegram)
    connect(
        store,
        hub,
        "qq",
        "qqbot",
        {"api_url": onebot_api.url, "callback_window": 3600},
        {"access_token": onebot_api.token, "secret": "qq-secret"},
    )
    with serving(store, hub) as server:
        for n, uid in enumerate((3001, 3002)):
            update_ = tg.chat_member_update(n + 1, uid, "left", "member", date=NOW + n)
            assert post_update(server, update_).status_code == 200
        hook = f"{server.url}/hooks/onebot/qqbot"
        assert ob.signed_post(hook, ob.group_increase(801, at=NOW), "qq-secret").status_code == 204
        assert hub.executor.drain()
        job = _welcome_job(store)
        job.run_due(force=True)
        wait_until(lambda: len(_welcomed(fake_telegram, onebot_api)) == 2, what="two welcomes")
        job.run_due(force=True)  # the second round finds nobody new
        time.sleep(1.5)
        assert hub.executor.drain()
    welcomes = [m for m in fake_telegram.called("sendMessage") if m["text"].startswith("欢迎")]
    assert len(welcomes) == 1 and "、" in welcomes[0]["text"]
    qq = [m for m in onebot_api.called("send_group_msg") if m["message"].startswith("欢迎")]
    assert len(qq) == 1 and qq[0]["group_id"] == ob.GROUP


def test_a_private_message_to_a_qq_member(store, community, hub, onebot_api):
    connect(
        store,
        hub,
        "qq",
        "qqbot",
        {"api_url": onebot_api.url, "callback_window": 3600},
        {"access_token": onebot_api.token, "secret": "qq-secret"},
    )
    with serving(store, hub) as server:
        hook = f"{server.url}/hooks/onebot/qqbot"
        assert ob.signed_post(hook, ob.group_increase(802, at=NOW), "qq-secret").status_code == 204
        assert hub.executor.drain()
        with store.unit_of_work() as session:
            cid = session.scalar(select(Community.id).where(Community.slug == "acme"))
            send(
                session,
                cid,
                "acme",
                spec_of(session.connection(), cid),
                store.settings.tz,
                SendRequest(texts={"zh-CN": "{name} 你好"}, members=["802"]),
                datetime.now(UTC),
            )
        deadline = time.monotonic() + 15
        while not onebot_api.called("send_private_msg") and time.monotonic() < deadline:
            time.sleep(0.05)
    [private] = onebot_api.called("send_private_msg")
    assert private["user_id"] == 802 and private["message"].endswith("你好")
