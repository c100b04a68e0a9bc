"""A broadcast to 50 Telegram groups on the fake Bot API: a 429 in the way, a daily cap that
leaves half for the next day, a restart of the serving process in between, and rows a
process that died had claimed — each group gets the message exactly once, none is lost."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from connector_fakes import telegram as tg
from qunzhu_tests_connectors import serving, telegram_bot
from sqlalchemy import select, update

from qunzhu.cli.main import app as cli_app
from qunzhu.live.hub import ConnectorHub
from qunzhu.store import Store
from qunzhu.store.community import Community, Group
from qunzhu.store.connectors import OutboxAction

GROUPS = 50


def _groups(store: Store) -> list[str]:
    chats = [f"-100200000{n:03d}" for n in range(GROUPS)]
    with store.unit_of_work() as session:
        cid = session.scalar(select(Community.id).where(Community.slug == "acme"))
        for n, chat in enumerate(chats):
            session.add(
                Group(community_id=cid, platform="telegram", platform_group_id=chat, name=f"群{n}")
            )
    return chats


def _statuses(store: Store) -> Counter[str]:
    with store.reading() as session:
        return Counter(session.scalars(select(OutboxAction.status)))


def test_a_broadcast_reaches_each_group_once_through_a_429_and_a_restart(
    store, community, fake_telegram, wait_for, cli, cli_env
):
    fake: tg.FakeTelegram = fake_telegram
    chats = _groups(store)
    with store.unit_of_work() as session:
        spec = session.scalar(select(Community.spec_yaml).where(Community.slug == "acme"))
        session.execute(
            update(Community)
            .where(Community.slug == "acme")
            .values(spec_yaml=f"{spec}messaging: {{daily_cap: 25}}\n")
        )
    hub = ConnectorHub(store, backoff=0.05, reconnect_base=0.05, outbox_interval=0.05)
    telegram_bot(store, hub, fake)
    sent = cli.invoke(
        cli_app, ["send", "-c", "acme", "--all-groups", "-t", "{group} 周一话题", "--json"]
    )
    assert sent.exit_code == 0, sent.output
    broadcast = json.loads(sent.output)["id"]

    # a process that died had claimed five rows (it may or may not have sent them: the
    # platform never saw these) and recorded five as sent (the platform saw those)
    with store.reading() as session:
        ids = list(session.scalars(select(OutboxAction.id).order_by(OutboxAction.id)))
    long_ago = datetime.now(UTC) - timedelta(minutes=11)
    with store.unit_of_work() as session:
        session.execute(
            update(OutboxAction)
            .where(OutboxAction.id.in_(ids[:5]))
            .values(status="sending", claimed_by="dead:1", claimed_at=long_ago)
        )
        session.execute(
            update(OutboxAction)
            .where(OutboxAction.id.in_(ids[5:10]))
            .values(status="sent", done_at=long_ago)
        )
    already = {f"-100200000{n:03d}" for n in range(5, 10)}
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    fake.delay = 0.05  # slow enough that the restart comes in the middle

    def successes() -> list[str]:
        calls = fake.called("sendMessage")
        return [c["chat_id"] for c in calls[1:]]  # the first answer was the 429

    with serving(store, hub):
        wait_for(lambda: _statuses(store)["sent"] == 25, what="the first day's share sent")
    hub.stop()  # the serving process restarts in between
    assert _statuses(store) == Counter({"sent": 25, "queued": 25})
    with store.unit_of_work() as session:  # the next day has come
        session.execute(
            update(OutboxAction)
            .where(OutboxAction.status == "queued")
            .values(not_before=datetime.now(UTC) - timedelta(seconds=1))
        )
    second = ConnectorHub(store, backoff=0.05, reconnect_base=0.05, outbox_interval=0.05)
    telegram_bot(store, second, fake)
    try:
        with serving(store, second):
            wait_for(
                lambda: _statuses(store) == Counter({"sent": GROUPS}),
                timeout=60,
                what="every delivery sent",
            )
    finally:
        second.stop()

    delivered = Counter(successes())
    assert set(delivered) == set(chats) - already
    assert max(delivered.values()) == 1, "a group got the message twice"
    texts = {c["chat_id"]: c["text"] for c in fake.called("sendMessage")}
    assert texts["-100200000000"] == "群0 周一话题"
    status = json.loads(
        cli.invoke(cli_app, ["sent", str(broadcast), "-c", "acme", "--json"]).output
    )
    assert status["counts"] == {"sent": GROUPS}
    assert threading.active_count() < 100
