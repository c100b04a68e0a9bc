"""The send page with a preview showing, and the playbooks page and editor with a playbook in
them — states the page-by-page layout test cannot reach with a GET — at a phone's 390 px and
a laptop's 1366 px, in both languages: nothing wider than the screen. Screenshots go to
``$QUNZHU_SCREENSHOTS`` to be looked at."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from test_layout_in_browser import LANGUAGES, WIDTHS, _context, _problems, _Tab

from qunzhu.demo import SLUG
from qunzhu.store.models import Community, Group

pytestmark = pytest.mark.xdist_group("browser")


def _groups(site: Any) -> list[int]:
    with site.store.reading() as session:
        cid = session.scalars(select(Community.id).where(Community.slug == SLUG)).one()
        return list(session.scalars(select(Group.id).where(Group.community_id == cid)))


def _playbook(page: Any, site: Any) -> None:
    """The sample has no playbook: the owner writes one through the editor."""
    page.goto(f"{site.url}/c/{SLUG}/playbooks")
    if page.locator("#playbook-newcomer").count():
        return
    page.goto(f"{site.url}/c/{SLUG}/playbooks/edit")
    page.fill("#pb-name", "newcomer")
    page.fill("#step-0-day", "0")
    page.select_option("#step-0-to", "group")
    page.fill("#step-0-zh", "欢迎 {name} 来到{group}！先看群公告，再做个自我介绍：姓名-城市-岗位")
    page.fill(
        "#step-0-en", "Welcome to {group}, {name}! Read the pinned rules, then introduce yourself"
    )
    page.fill("#step-1-day", "3")
    page.select_option("#step-1-unless", "spoke")
    page.fill("#step-1-zh", "{name}，这几天有什么问题都可以在群里问，大家都很乐意帮忙")
    page.click("#playbook-save")
    page.wait_for_selector("#playbook-newcomer")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("size", list(WIDTHS))
def test_send_preview_and_playbooks_fit_the_screen(browser, site, log_in, screenshots, size, lang):
    width = WIDTHS[size]
    context = _context(browser, site, width, lang)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        log_in(_Tab(page), "owner", f"/c/{SLUG}/send")
        problems: list[str] = []
        page.fill(
            "#send-text-zh",
            "{group} 的各位：本周六晚八点线上分享「用 RAG 搭建知识库」，欢迎带问题来",
        )
        page.fill(
            "#send-text-en", "{group}: Saturday 8 pm online talk on building a knowledge base"
        )
        for group in _groups(site):
            page.check(f"#send-groups input[value='{group}']")
        page.click("#send-preview")
        page.wait_for_selector("#preview")
        page.screenshot(path=screenshots / f"send-preview.{lang}.{width}.png", full_page=True)
        problems += _problems(page, width, "send preview")

        _playbook(page, site)
        page.screenshot(path=screenshots / f"playbooks.{lang}.{width}.png", full_page=True)
        problems += _problems(page, width, "playbooks")
        page.goto(f"{site.url}/c/{SLUG}/playbooks/edit?name=newcomer")
        page.screenshot(path=screenshots / f"playbook-edit.{lang}.{width}.png", full_page=True)
        problems += _problems(page, width, "playbook editor")
        assert not problems, "\n".join(problems)
        assert errors == []
    finally:
        context.close()
