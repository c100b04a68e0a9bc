"""Times in the community's and the group's zone: the weekly report and the dashboard show
one message at the same local time (qunzhu.spec.zones.local_time for both)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from qunzhu_tests_http import feed, log_in, message
from sqlalchemy import select, update

from qunzhu.engines.recompute import recompute_community
from qunzhu.reports.render import render_html
from qunzhu.reports.weekly import weekly_data
from qunzhu.store.models import Community, Group

SPEC = """\
name: 栗子读书会
purpose: read together
timezone: Asia/Shanghai
groups:
  g1: {timezone: Europe/Berlin}
"""


def test_report_and_group_page_show_a_question_at_the_same_local_time(client, personas):
    store = personas.store
    cid = personas.communities["acme"]
    with store.unit_of_work() as session:
        session.execute(update(Community).where(Community.id == cid).values(spec_yaml=SPEC))
    at = datetime.combine(datetime.now(UTC).date() - timedelta(days=2), time(23, 30), UTC)
    question = message(1, member="asker", text="does anyone run ollama on a mac?")
    feed(store, [{**question, "occurred_at": at.isoformat()}])
    berlin = at.astimezone(ZoneInfo("Europe/Berlin"))
    shanghai = at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert berlin.strftime("%H:%M") != shanghai.strftime("%H:%M")
    with store.engine.begin() as conn:
        recompute_community(conn, cid, shanghai.date(), store.settings.tz)
    with store.engine.connect() as conn:
        report = weekly_data(conn, cid, shanghai.date(), default_zone=store.settings.tz)
    (asked,) = report["unanswered"]
    assert asked["asked_local"] == berlin.strftime("%Y-%m-%d %H:%M")
    html = render_html(report, "en")
    assert berlin.strftime("%Y-%m-%d %H:%M") in html
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d Asia/Shanghai", html)  # made when, and where

    with store.reading() as session:
        group_id = session.scalar(select(Group.id).where(Group.platform_group_id == "g1"))
    log_in(client, "analyst")
    page = client.get(f"/c/acme/groups/{group_id}").text
    item = page.split(f'id="msg-{asked["message"]}"', 1)[1].split("</li>", 1)[0]
    shown = re.search(r"<time[^>]*>([^<]+)</time>", item).group(1)
    assert shown == berlin.strftime("%m-%d %H:%M")
    assert asked["asked_local"].endswith(shown)  # the same local time in both


def test_without_a_zone_in_the_spec_times_are_in_qunzhu_timezone(client, personas):
    store = personas.store
    at = datetime.combine(datetime.now(UTC).date() - timedelta(days=1), time(1, 5), UTC)
    feed(store, [{**message(2, member="ann"), "occurred_at": at.isoformat()}])
    with store.reading() as session:
        group_id = session.scalar(select(Group.id).where(Group.platform_group_id == "g1"))
    log_in(client, "analyst")
    page = client.get(f"/c/acme/groups/{group_id}").text
    assert at.astimezone(store.settings.tz).strftime("%m-%d %H:%M") in page
