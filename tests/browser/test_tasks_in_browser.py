"""Today's plan in Chromium: on a 390-px phone a moderator signs in, opens Today, finishes a
task and sees it gone from the open list; screenshots of the plan at 390 px and 1366 px in
zh-CN and en (tests/browser/artifacts/today-*.png), with nothing wider than the screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from qunzhu.auth.sessions import LANG_COOKIE
from qunzhu.demo import SLUG
from qunzhu.store import tasks as store_tasks
from qunzhu.store.admin import Operator
from qunzhu.store.models import Community, Group
from qunzhu.store.tasks import OperatorTask

pytestmark = pytest.mark.xdist_group("browser")
WIDE = "() => document.scrollingElement.scrollWidth"


def _plan(site: Any) -> dict[str, int]:
    """The moderator looks after the first group; three tasks of theirs (one overdue, one a
    welcome to post by hand, one later), and one of a group they do not look after."""
    now = datetime.now(UTC)
    with site.store.reading() as session:
        cid = session.scalars(select(Community.id).where(Community.slug == SLUG)).one()
        first, second = session.scalars(
            select(Group.id).where(Group.community_id == cid).order_by(Group.id).limit(2)
        ).all()
        moderator = session.scalars(
            select(Operator.id).where(Operator.username == "moderator")
        ).one()
    with site.store.engine.begin() as conn:
        store_tasks.assign(conn, cid, moderator, [first], now)
        store_tasks.add(
            conn,
            cid,
            [
                {
                    "kind": "playbook",
                    "source_key": "bt-1",
                    "group_id": first,
                    "text": "问问新人第一周的感受，记下他们最想学的主题",
                    "due_at": now - timedelta(hours=3),
                    "detail": {"what": "do", "member": "小林"},
                },
                {
                    "kind": "welcome",
                    "source_key": "bt-2",
                    "group_id": first,
                    "text": "欢迎新朋友加入！先读群规，再做个自我介绍吧。",
                    "due_at": now + timedelta(minutes=40),
                    "detail": {"what": "send"},
                },
                {
                    "kind": "review",
                    "source_key": "bt-3",
                    "group_id": first,
                    "text": "review: 3",
                    "due_at": now + timedelta(days=2),
                    "detail": {"count": 3},
                },
                {
                    "kind": "health",
                    "source_key": "bt-4",
                    "group_id": second,
                    "text": "x",
                    "due_at": now + timedelta(hours=2),
                    "detail": {"death_risk": 82},
                },
            ],
            now,
        )
    with site.store.reading() as session:
        return {
            t.source_key: t.id
            for t in session.scalars(select(OperatorTask).where(OperatorTask.community_id == cid))
        }


def test_a_moderator_finishes_a_task_on_a_phone(site, phone, log_in, artifact):
    ids = _plan(site)
    log_in(phone, "moderator", f"/c/{SLUG}")
    page = phone.page
    page.wait_for_selector("#plan")
    overdue = page.locator(f"#tasks-overdue #task-{ids['bt-1']}")
    assert overdue.is_visible()
    assert page.locator(f"#task-{ids['bt-4']}").count() == 0  # "mine": not their group
    done = overdue.get_by_role("button", name="完成")
    box = done.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390  # reachable on the phone
    with page.expect_navigation(url="**done=task_done*"):
        done.click()
    assert "done=task_done" in page.url
    assert page.locator(f"#task-{ids['bt-1']}").count() == 0  # gone from the open list
    assert page.locator(f"#task-{ids['bt-2']}").is_visible()
    assert page.locator(".notice").inner_text().strip() == "任务已完成。"
    assert page.evaluate(WIDE) <= 390, "the plan is wider than the phone"
    page.screenshot(path=str(artifact("today-done-390-zh-CN.png")), full_page=True)
    assert not phone.errors, phone.errors


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("width", [390, 1366])
def test_screenshots_of_the_plan(site, browser, log_in, artifact, lang, width):
    _plan(site)  # the same tasks whichever test runs first: their keys make them once
    context = browser.new_context(
        locale=lang, viewport={"width": width, "height": 900}, device_scale_factor=1
    )
    context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": site.url}])
    page = context.new_page()
    try:
        page.goto(f"{site.url}/login?next=/c/{SLUG}?scope=all")
        page.fill("#username", "owner")
        page.fill("#password", "browser test password")
        page.click("form.form button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.goto(f"{site.url}/c/{SLUG}?scope=all")
        assert page.locator("#plan .task").count() >= 3
        assert page.evaluate(WIDE) <= width, f"Today is wider than {width} px in {lang}"
        page.locator("#plan").screenshot(path=str(artifact(f"today-{width}-{lang}.png")))
    finally:
        context.close()
