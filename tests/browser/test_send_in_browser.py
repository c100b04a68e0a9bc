"""Speaking to the community in a real browser, against the fake Telegram Bot API that the
connector tests use (tests/live/connector_fakes): plan a post on the calendar, approve it,
let the calendar job send it, see it sent and, once replies come in, what it caused; and
compose a broadcast on the send page, preview it, send it, see each delivery's status.
The hub (outbox drainer, executor, Telegram connector) runs as ``qunzhu serve`` runs it."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from qunzhu.adapters.manage import save_connector
from qunzhu.demo import SLUG
from qunzhu.events import event_from_json
from qunzhu.growth.common import spec_of
from qunzhu.live.hub import ConnectorHub, load_infos
from qunzhu.messaging import calendar
from qunzhu.pipeline import Pipeline
from qunzhu.store.connectors import Connector, OutboxAction
from qunzhu.store.models import Community, Group

sys.path.insert(0, str(Path(__file__).parents[1] / "live"))
from connector_fakes import telegram as tg
from connector_fakes.liveserver import LiveServer

pytestmark = pytest.mark.xdist_group("browser")
TG_GROUP = "tg-english"  # the sample community's Telegram group


def _wait(check: Callable[[], Any], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def telegram(site: Any) -> Iterator[tg.FakeTelegram]:
    """The sample community's Telegram bot on the fake Bot API, its hub running."""
    fake = tg.FakeTelegram()
    with LiveServer(fake.app) as server:
        connector_id = save_connector(
            site.store,
            community=SLUG,
            platform="telegram",
            name=f"browser-bot-{time.monotonic_ns()}",
            config={"mode": "polling", "api_base": server.url, "poll_timeout": 1},
            credentials={"token": fake.token},
        )
        hub = ConnectorHub(site.store, backoff=0.05, reconnect_base=0.05, outbox_interval=0.1)
        hub.add(next(i for i in load_infos(site.store) if i.id == connector_id))
        hub.start()
        try:
            yield fake
        finally:
            hub.stop()
            with site.store.unit_of_work() as session:  # the other tests see no live bot
                session.execute(
                    update(Connector).where(Connector.id == connector_id).values(enabled=False)
                )


def _community(site: Any) -> tuple[int, int, ZoneInfo]:
    with site.store.reading() as session:
        cid = session.scalars(select(Community.id).where(Community.slug == SLUG)).one()
        group = session.scalars(
            select(Group.id).where(Group.community_id == cid, Group.platform_group_id == TG_GROUP)
        ).one()
        zone = spec_of(session.connection(), cid).timezone or "Asia/Shanghai"
    return int(cid), int(group), ZoneInfo(zone)


def _sent_ids(site: Any, origin_like: str, saying: str) -> list[str]:
    """The platform ids of the sent deliveries whose text has ``saying``: the sample's own
    queued posts go out at the same time, in no order a query without one promises."""
    with site.store.reading() as session:
        rows = session.execute(
            select(OutboxAction.status, OutboxAction.action, OutboxAction.result)
            .where(OutboxAction.origin.like(origin_like), OutboxAction.platform == "telegram")
            .order_by(OutboxAction.id)
        ).all()
    return [
        str((r.result or {}).get("message_id"))
        for r in rows
        if r.status == "sent" and saying in str((r.action or {}).get("text") or "")
    ]


def _replies(site: Any, message_id: str, n: int) -> None:
    now = datetime.now(UTC)
    events = [
        {
            "type": "message_posted",
            "platform": "telegram",
            "community": SLUG,
            "group": TG_GROUP,
            "member": f"replier-{message_id}-{k}",
            "member_name": f"Reader {k}",
            "occurred_at": (now + timedelta(seconds=k + 1)).isoformat(),
            "message_id": f"reply-{message_id}-{k}",
            "text": "I am reading the RAG chapter this week",
            "reply_to": message_id,
        }
        for k in range(n)
    ]
    Pipeline(site.store).run([event_from_json(e) for e in events], source="test")


def test_plan_approve_send_and_see_the_effect_of_a_post(tab, site, log_in, telegram, artifact):
    cid, group_id, zone = _community(site)
    log_in(tab, "owner", f"/c/{SLUG}/calendar")
    page = tab.page
    starts = (datetime.now(zone) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#plan-title", "Weekly reading check")
    page.fill("#plan-text", "{group}: what are you reading this week?")
    page.fill("#plan-at", starts)
    page.check(f"#plan input[name=group][value='{group_id}']")
    page.click("#plan button[type=submit]")
    page.wait_for_load_state("networkidle")
    post = page.locator("li.queue-item", has_text="Weekly reading check")
    assert post.get_attribute("data-status") == "draft"
    post_id = int((post.get_attribute("id") or "").removeprefix("post-"))
    post.locator("button.ok").click()  # the owner approves
    page.wait_for_selector(f"#post-{post_id}[data-status=approved]")

    # the calendar job of qunzhu serve, when the post's time has come
    with site.store.unit_of_work() as session:
        spec = spec_of(session.connection(), cid)
        later = datetime.now(UTC) + timedelta(minutes=11)
        assert calendar.due(session, cid, SLUG, spec, later)["sent"] == 1
    origin = "broadcast:%"

    def ours() -> list[dict[str, Any]]:  # the sample's own queued warnings go out too
        return [c for c in telegram.called("sendMessage") if "reading this" in c["text"]]

    _wait(ours, "the post sent to Telegram")
    [call] = ours()
    assert call["chat_id"] == TG_GROUP
    assert call["text"] == f"{_group_name(site, group_id)}: what are you reading this week?"
    _wait(lambda: _sent_ids(site, origin, "reading this"), "the delivery recorded as sent")
    [message_id] = _sent_ids(site, origin, "reading this")

    _replies(site, message_id, 3)
    page.goto(f"{site.url}/c/{SLUG}/calendar")
    post = page.locator(f"#post-{post_id}")
    effect = post.locator("p[title]").inner_text()
    assert effect.startswith("已发：1 ")
    assert "直接回复 3" in effect, effect
    page.screenshot(path=artifact("calendar-post-effect.png"), full_page=True)
    assert tab.errors == []


def _group_name(site: Any, group_id: int) -> str:
    with site.store.reading() as session:
        return str(session.get_one(Group, group_id).name)


def test_compose_preview_send_and_follow_each_delivery(tab, site, log_in, telegram, artifact):
    _, group_id, _ = _community(site)
    with site.store.reading() as session:
        wechat = session.scalars(
            select(Group.id).where(Group.platform == "wechat").order_by(Group.id)
        ).first()
    log_in(tab, "owner", f"/c/{SLUG}/send")  # every group: an admin or owner
    page = tab.page
    page.fill("#send-text-zh", "{group} 的朋友们：周六晚上八点线上分享")
    page.check(f"#send-groups input[value='{group_id}']")
    page.check(f"#send-groups input[value='{wechat}']")
    page.click("#send-preview")
    page.wait_for_load_state("networkidle")
    preview = page.locator("#preview")
    assert preview.locator("[data-figure=targets]").inner_text() == "2"
    assert "线上分享" in preview.locator(".samples").inner_text()
    unreachable = preview.locator(".unreachable li")
    assert unreachable.count() == 1 and unreachable.get_attribute("data-outcome") == "task"
    page.screenshot(path=artifact("send-preview.png"), full_page=True)

    page.click("#send-confirm")
    page.wait_for_url("**/broadcasts/**")
    _wait(
        lambda: any("线上分享" in c["text"] for c in telegram.called("sendMessage")),
        "the Telegram delivery sent",
    )

    def sent_shown() -> bool:
        page.reload()
        return page.locator(".delivery[data-status=sent]").count() == 1

    _wait(sent_shown, "the page shows the Telegram delivery sent")
    statuses = page.locator(".delivery").evaluate_all(
        "(rows) => rows.map((r) => r.getAttribute('data-status'))"
    )
    # WeChat has live connectors now: with none set up here, its delivery is an alert (a task)
    assert sorted(statuses) == ["alerted", "sent"]
    page.screenshot(path=artifact("broadcast-statuses.png"), full_page=True)
    assert tab.errors == []
