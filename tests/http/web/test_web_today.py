"""Today: each section counts what waits and links to where to act."""

from __future__ import annotations

from qunzhu_tests_http import log_in
from web_seed import ACME_PHONE


def test_today_lists_what_waits_with_links_to_act(client, acme):
    log_in(client, "moderator")
    page = client.get("/c/acme")
    assert page.status_code == 200
    html = page.text
    for key in ("review", "applications", "questions", "at_risk", "rewards", "errors"):
        assert f'id="todo-{key}"' in html
    assert 'href="/c/acme/review"' in html
    assert "有人知道怎么配置代理吗" in html  # the unanswered question
    assert "no timestamp on the line" in html  # the quarantined input
    assert 'href="/c/acme/growth#rewards"' in html  # the held reward (or referral)
    assert ACME_PHONE not in html  # moderators see contact details masked
    assert "138****5678" in html


def test_analyst_today_has_no_review_section(client, acme):
    log_in(client, "analyst")
    html = client.get("/c/acme").text
    assert 'id="todo-review"' not in html
    assert 'href="/c/acme/review"' not in html


def test_answered_question_leaves_today(client, acme, personas):
    from qunzhu_tests_http import feed, message
    from sqlalchemy import select

    from qunzhu.store.models import Message

    with personas.store.reading() as session:
        question = session.scalars(select(Message).where(Message.text.contains("配置代理"))).one()
    feed(
        personas.store,
        [message(950, member="u4", text="用环境变量", reply_to=question.platform_message_id)],
    )
    log_in(client, "analyst")
    assert "有人知道怎么配置代理吗" not in client.get("/c/acme").text


def test_empty_community_shows_empty_states(client, personas):
    log_in(client, "owner")
    page = client.get("/c/acme")
    assert page.status_code == 200
    assert page.text.count('class="empty"') >= 5
    assert 'class="act"' not in page.text  # no "act" link when nothing waits


def test_connector_errors_and_alerts_wait_on_today(client, acme, personas):
    from qunzhu.store.connectors import Connector, ConnectorAlert

    with personas.store.unit_of_work() as session:
        cid = personas.communities["acme"]
        session.add(
            Connector(
                community_id=cid,
                platform="telegram",
                name="acme-bot",
                status="error",
                status_reason="bot was removed from the group",
            )
        )
        session.add(
            ConnectorAlert(
                community_id=cid,
                platform="wechat",
                platform_group_id="g1",
                kind="cannot_act",
                text="删除广告：微信不能自动执行",
                reason="WeChat cannot delete messages",
                key="a1",
            )
        )
        session.add(
            ConnectorAlert(
                community_id=cid,
                platform="wechat",
                platform_group_id="g1",
                kind="cannot_act",
                text="done already",
                key="a2",
                status="done",
            )
        )
    log_in(client, "analyst")
    html = client.get("/c/acme").text
    assert 'id="todo-connectors"' in html
    assert "bot was removed from the group" in html
    assert "删除广告：微信不能自动执行" in html
    assert "done already" not in html  # handled alerts leave Today


def test_connectors_section_is_empty_when_all_is_well(client, personas):
    log_in(client, "owner")
    html = client.get("/c/acme").text
    assert 'id="todo-connectors"' in html
    assert "Every connector is working" in html or "所有连接器运行正常" in html
