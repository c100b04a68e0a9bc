"""Community: positioning with its lint, groups with health, charts, the spec editor."""

from __future__ import annotations

import json
import re

from qunzhu_tests_http import csrf_from, log_in
from sqlalchemy import select

from qunzhu.spec import template
from qunzhu.store.models import AuditEntry, Community

CHART_RE = re.compile(
    r'<script type="application/json" id="chart-data-([a-z_]+)">(.*?)</script>', re.S
)


def _set_spec(store, text):
    with store.unit_of_work() as session:
        session.scalars(select(Community).where(Community.slug == "acme")).one().spec_yaml = text


def _chart(client, name):
    answer = client.get(f"/c/acme/community/charts/{name}")
    assert answer.status_code == 200
    found = dict(CHART_RE.findall(answer.text))
    return json.loads(found[name]) if name in found else None, answer.text


def test_community_page_shows_groups_and_loads_each_chart(client, acme):
    log_in(client, "analyst")
    page = client.get("/c/acme/community")
    assert page.status_code == 200
    assert f'href="/c/acme/groups/{acme["g1"]}"' in page.text
    for name in ("value_trend", "role_mix", "funnel", "retention"):
        assert f'hx-get="/c/acme/community/charts/{name}"' in page.text
    trend, _ = _chart(client, "value_trend")
    bars = trend["series"][1]["data"]
    assert sum(bars) == 24 + 3  # every message of the last 30 days, from group_daily
    funnel, _ = _chart(client, "funnel")
    stages = [d["value"] for d in funnel["series"][0]["data"]]
    assert stages[0] >= stages[1] >= stages[2]  # the funnel only narrows
    cohorts, _ = _chart(client, "retention")
    assert cohorts["series"][0]["type"] == "heatmap"


def test_chart_without_data_shows_its_empty_state(client, personas):
    log_in(client, "analyst")
    option, html = _chart(client, "value_trend")
    assert option is None and 'class="empty"' in html
    assert client.get("/c/acme/community/charts/nope").status_code == 404


def test_community_without_spec_says_how_to_write_one(client, acme):
    log_in(client, "analyst")
    page = client.get("/c/acme/community")
    assert "qunzhu spec init" in page.text
    assert 'href="/c/acme/spec"' not in page.text  # analysts do not edit


def test_positioning_and_lint_findings_are_shown(client, acme, personas):
    _set_spec(personas.store, template())
    log_in(client, "owner")
    page = client.get("/c/acme/community")
    assert page.status_code == 200
    assert 'id="positioning"' in page.text
    assert 'class="facts"' in page.text
    assert 'href="/c/acme/spec"' in page.text


def test_spec_preview_shows_diff_and_save_is_audited(client, acme, personas):
    _set_spec(personas.store, template())
    log_in(client, "admin")
    form = client.get("/c/acme/spec")
    assert form.status_code == 200
    base = re.search(r'name="base" value="([0-9a-f]+)"', form.text).group(1)
    edited = template().replace("cap: 300", "cap: 250", 1)
    assert edited != template()
    token = csrf_from(form.text)
    preview = client.post(
        "/c/acme/spec/preview", data={"text": edited, "base": base, "csrf_token": token}
    )
    assert preview.status_code == 200
    assert "-  cap: 300" in preview.text or "cap: 300" in preview.text
    assert 'class="add"' in preview.text and 'class="del"' in preview.text
    saved = client.post(
        "/c/acme/spec/save",
        data={"text": edited, "base": base, "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with personas.store.reading() as session:
        stored = session.scalars(select(Community.spec_yaml).where(Community.slug == "acme")).one()
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "spec.update"))
    assert stored == edited
    assert entry is not None and entry.operator_id == personas["admin"].operator_id


def test_invalid_spec_is_not_saved_and_names_the_line(client, acme, personas):
    _set_spec(personas.store, template())
    log_in(client, "owner")
    form = client.get("/c/acme/spec")
    base = re.search(r'name="base" value="([0-9a-f]+)"', form.text).group(1)
    broken = template().replace("cap: 300", "cap: lots", 1)
    token = csrf_from(form.text)
    answer = client.post(
        "/c/acme/spec/save", data={"text": broken, "base": base, "csrf_token": token}
    )
    assert answer.status_code == 422
    assert "size.cap" in answer.text
    with personas.store.reading() as session:
        assert (
            session.scalars(select(Community.spec_yaml).where(Community.slug == "acme")).one()
            == template()
        )


def test_spec_saved_by_someone_else_meanwhile_is_not_overwritten(client, acme, personas):
    _set_spec(personas.store, template())
    log_in(client, "owner")
    form = client.get("/c/acme/spec")
    base = re.search(r'name="base" value="([0-9a-f]+)"', form.text).group(1)
    _set_spec(personas.store, template().replace("cap: 300", "cap: 200", 1))
    answer = client.post(
        "/c/acme/spec/save",
        data={"text": template(), "base": base, "csrf_token": csrf_from(form.text)},
    )
    assert answer.status_code == 409
    with personas.store.reading() as session:
        stored = session.scalars(select(Community.spec_yaml).where(Community.slug == "acme")).one()
    assert "cap: 200" in stored


def test_analyst_and_moderator_cannot_edit_the_spec(client, acme):
    for who in ("analyst", "moderator"):
        client.cookies.clear()
        log_in(client, who)
        assert client.get("/c/acme/spec").status_code == 403
        token = csrf_from(client.get("/c/acme").text)
        assert (
            client.post(
                "/c/acme/spec/save", data={"text": "x", "base": "", "csrf_token": token}
            ).status_code
            == 403
        )


def test_todays_unfinished_day_is_drawn_dashed_not_as_a_drop(client, acme):
    log_in(client, "analyst")
    trend, html = _chart(client, "value_trend")
    solid, bars, dashed = trend["series"]
    assert solid["data"][-1] is None  # the solid line stops at yesterday
    assert dashed["lineStyle"]["type"] == "dashed"
    assert [v is None for v in dashed["data"]] == [True] * 28 + [False, False]
    assert dashed["data"][-2] == solid["data"][-2]  # it starts where the solid line stops
    assert bars["type"] == "bar" and len(bars["data"]) == 30
    assert "今天" in trend["xAxis"]["data"][-1] or "today" in trend["xAxis"]["data"][-1]
    assert "chart-note" in html
