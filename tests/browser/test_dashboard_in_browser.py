"""The dashboard in Debian's Chromium: what an operator does on a phone and a desktop."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from qunzhu.demo import SLUG
from qunzhu.store.models import AuditEntry, ModerationAction

pytestmark = pytest.mark.xdist_group("browser")


def test_log_in_and_see_todays_list(tab, site, log_in):
    log_in(tab, "owner", f"/c/{SLUG}")
    page = tab.page
    assert page.url.endswith(f"/c/{SLUG}")
    assert page.locator("#todo-review").is_visible()
    assert page.locator("#todo-applications .count").inner_text() != "0"  # the demo has some
    for key in ("review", "applications", "questions", "at_risk", "rewards", "errors"):
        assert page.locator(f"#todo-{key}").count() == 1
    assert page.locator("#todo-review li").count() >= 1
    assert tab.errors == []


def test_approve_a_flagged_message_and_it_leaves_the_queue(tab, site, log_in):
    log_in(tab, "moderator", f"/c/{SLUG}/review")
    page = tab.page
    item = page.locator(f"#item-{site.flagged_action_id}")
    assert item.is_visible()
    item.locator("button[value=approve]").click()
    page.wait_for_selector(".notice[role=status]")
    assert page.locator(f"#item-{site.flagged_action_id}").count() == 0
    with site.store.reading() as session:
        action = session.get(ModerationAction, site.flagged_action_id)
        assert action is not None and action.status == "approved"
        assert (
            session.scalar(
                select(AuditEntry).where(
                    AuditEntry.action == "moderation.approve",
                    AuditEntry.target == str(site.flagged_action_id),
                )
            )
            is not None
        )
    assert tab.errors == []


def test_switch_language_and_it_sticks(tab, site, log_in):
    log_in(tab, "analyst", f"/c/{SLUG}/community")
    page = tab.page
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("nav.tabs").inner_text().find("社群总览") >= 0
    page.click("form.lang button[value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Community" in page.locator("nav.tabs").inner_text()
    page.goto(site.url + f"/c/{SLUG}")  # another page: still English
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Review queue" not in page.content()  # analysts do not moderate
    assert "Pending applications" in page.content()


def test_chart_is_drawn_without_console_errors(tab, site, log_in):
    log_in(tab, "analyst", f"/c/{SLUG}/community")
    page = tab.page
    chart = page.locator("#chart-value_trend .chart")
    page.wait_for_selector("#chart-value_trend .chart[data-chart-state=drawn]", timeout=15000)
    assert chart.locator("svg text").count() >= 1  # drawn as SVG: its text is text
    box = chart.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    assert tab.errors == []


def test_community_page_on_a_phone(phone, site, log_in, artifact):
    log_in(phone, "owner", f"/c/{SLUG}/community")
    page = phone.page
    page.wait_for_selector("#chart-value_trend .chart[data-chart-state=drawn]", timeout=15000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"
    shot = artifact("community-390.png")
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert phone.errors == []


def test_members_filter_updates_the_table_in_place(tab, site, log_in):
    log_in(tab, "analyst", f"/c/{SLUG}/groups/1")
    page = tab.page
    rows = page.locator("#members tbody tr")
    before = rows.count()
    assert before > 1
    first = page.locator("#members tbody th a").first.inner_text()
    page.fill("#member-search", first)
    page.wait_for_function(
        "n => document.querySelectorAll('#members tbody tr').length < n", arg=before
    )
    assert first in page.locator("#members").inner_text()
    assert "q=" in page.url  # the filter is in the address, so a reload keeps it
    assert tab.errors == []


def test_analyst_is_refused_an_action(tab, site, log_in):
    log_in(tab, "analyst", f"/c/{SLUG}")
    page = tab.page
    answer = page.goto(site.url + f"/c/{SLUG}/review")
    assert answer is not None and answer.status == 403
    assert re.search("不允许|does not allow", page.content())
    # a forged form post with the analyst's own valid CSRF token is refused too
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    status = page.evaluate(
        """async ([url, token]) => {
            const body = new URLSearchParams({csrf_token: token, decision: "approve", ids: "1"});
            const r = await fetch(url, {method: "POST", body});
            return r.status;
        }""",
        [site.url + f"/c/{SLUG}/review/decide", token],
    )
    assert status == 403
