"""One figure, one definition: on the sample community, every figure the home, community,
group and member pages and the weekly report show (their ``data-figure`` elements) equals the
same figure from the REST API, and each carries its definition as a tooltip."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from qunzhu.reports.render import render_html
from qunzhu.reports.weekly import weekly_data
from qunzhu.store.models import Group

sys.path.insert(0, str(Path(__file__).parent))
from sample_site import Site, build, figures, open_site

# one worker builds the module fixture: with --dist loadgroup an ungrouped module is spread
# over the workers and each would build it
pytestmark = pytest.mark.xdist_group("sample-figures")


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    build(demo_template, path)
    return path


@pytest.fixture(scope="module")
def site(sample_db: Path) -> Iterator[Site]:
    yield from open_site(sample_db)


def _close(a: str | float, b: float, places: int = 2) -> bool:
    return abs(float(a) - float(b)) <= 10**-places


def test_home_page_states_people_and_memberships_as_the_api_does(site):
    shown = figures(site.page("/"))
    community = next(
        c
        for c in site.client.get(
            "/api/v1/communities", headers={"Authorization": f"Bearer {site.token}"}
        ).json()
        if c["slug"] == "demo"
    )
    groups = site.api("/groups")
    assert int(shown["people", "demo"]) == community["members"]
    assert int(shown["memberships", "demo"]) == community["memberships"]
    assert community["memberships"] == sum(g["members"] for g in groups)
    assert community["memberships"] > community["members"]  # someone is in two groups
    for g in groups:
        assert int(shown["group_members", str(g["id"])]) == g["members"]
        assert int(shown["messages_7d", str(g["id"])]) == g["messages_7d"]
        assert int(shown["messages_total", str(g["id"])]) == g["messages_total"]


def test_community_page_figures_equal_the_api(site):
    shown = figures(site.page("/c/demo/community"))
    detail = site.api("")
    health = site.api("/health")["groups"]
    assert int(shown["people", "demo"]) == detail["members"]
    assert int(shown["memberships", "demo"]) == detail["memberships"]
    assert int(shown["messages_7d", "demo"]) == detail["messages_7d"]
    assert int(shown["groups", ""]) == len(health)
    assert int(shown["at_risk", ""]) == sum(1 for h in health if h["risk"] == "high")
    groups = {g["id"]: g for g in site.api("/groups")}
    for h in health:
        key = str(h["group_id"])
        assert _close(shown["death_risk", key], h["death_risk"])
        assert shown["risk", key] == h["risk"]
        assert int(shown["group_members", key]) == h["members"]
        assert int(shown["messages_7d", key]) == groups[h["group_id"]]["messages_7d"]


def test_a_group_with_most_questions_unanswered_is_not_called_healthy(site):
    health = site.api("/health?lang=zh-CN")["groups"]
    flooded = [h for h in health if (h["unanswered_share"] or 0) >= 0.5]
    assert flooded, "the sample has groups where most questions go unanswered"
    for h in flooded:
        assert h["risk"] != "ok"
        assert h["reason_codes"][0] == "unanswered" or h["death_risk"] >= 40
        page = site.page(f"/c/demo/groups/{h['group_id']}")
        assert figures(page)["risk", str(h["group_id"])] == h["risk"]
        assert h["reasons"][0] in page  # the group page says why


def test_group_page_figures_equal_the_api(site):
    capacity = {g["group_id"]: g for g in site.api("/capacity")["groups"]}
    health = {h["group_id"]: h for h in site.api("/health")["groups"]}
    with site.store.reading() as session:
        groups = session.execute(
            select(Group.id, Group.platform_group_id).where(Group.community_id == site.community_id)
        ).all()
    for gid, pgid in groups:
        shown = figures(site.page(f"/c/demo/groups/{gid}"))
        key = str(gid)
        for name in ("seats_taken", "cap", "waitlist", "pending_applications"):
            assert int(shown[name, key]) == capacity[gid][name], name
        assert int(shown["group_members", key]) == capacity[gid]["members"]
        assert _close(shown["death_risk", key], health[gid]["death_risk"])
        assert shown["risk", key] == health[gid]["risk"]
        # value (30 days) and role of each member listed: the API's value in the group
        ranked = {
            m["member"]: m for m in site.api(f"/members/value?group={pgid}&limit=1000")["members"]
        }
        listed = [(k, v) for (name, k), v in shown.items() if name == "value_30d"]
        assert len(listed) >= 10
        for member, value in listed:
            assert _close(value, ranked[int(member)]["value"]), member
            assert shown["role", member] == ranked[int(member)]["role"]


def test_member_page_figures_equal_the_api_and_say_what_decided(site):
    top = site.api("/members/value?limit=5")["members"]
    with site.store.reading() as session:
        names = dict(
            session.execute(
                select(Group.id, Group.platform_group_id).where(
                    Group.community_id == site.community_id
                )
            ).all()
        )
    for m in top:
        page = site.page(f"/c/demo/members/{m['member']}")
        shown = figures(page)
        explained = site.api(f"/members/{m['member']}/explain?lang=zh-CN")
        assert _close(shown["value", ""], explained["value"])
        assert shown["tier", ""] == (explained["tier"] or {}).get("tier", "")
        assert explained["roles"], "the engines gave every top member a role"
        for role in explained["roles"]:
            assert shown["role", str(role["group_id"])] == role["role"]
            assert role["reason"] in page  # the role with the figure it was decided on
            ranked = site.api(f"/members/value?group={names[role['group_id']]}&limit=1000")[
                "members"
            ]
            mine = next(r for r in ranked if r["member"] == m["member"])
            assert _close(shown["value_30d", str(role["group_id"])], mine["value"])


def test_weekly_report_figures_equal_the_api(site):
    report = site.api("/reports/weekly?lang=zh-CN")
    health = {h["group_id"]: h for h in site.api("/health")["groups"]}
    with site.store.engine.connect() as conn:
        data = weekly_data(conn, site.community_id, None, "zh-CN", site.store.settings.tz)
    shown = figures(render_html(data, "zh-CN"))
    assert _close(shown["value_week", ""], report["value"]["this_week"], 1)
    for g in report["groups"]:
        key = str(g["group_id"])
        assert _close(shown["death_risk", key], health[g["group_id"]]["death_risk"])
        assert shown["risk", key] == health[g["group_id"]]["risk"]
        assert _close(shown["value_per_day", key], health[g["group_id"]]["value_per_day"])
        assert int(shown["health_members", key]) == health[g["group_id"]]["members"]
        # the chart's points, per day, average to the table's value per day
        assert _close(report["value_trend"]["per_day"][g["name"]], g["value_per_day"], 1)


def test_growth_states_the_rewards_held_that_today_lists(site):
    growth = site.page("/c/demo/growth")
    held = site.api("/queues")["held_rewards"]
    assert held > 0  # the sample's fraud check holds some
    assert int(figures(growth)["rewards_held", "demo"]) == held
    today = site.page("/c/demo")
    assert 'id="todo-rewards"' in today
    section = today[today.index('id="todo-rewards"') :]
    assert f">{held}<" in section[:600]  # Today's count of the same rewards
    assert "1970" not in growth  # a campaign without a start says so, not the epoch


def test_what_worked_figures_have_one_definition_in_the_report_and_the_dashboard():
    """The ranking's figures on the calendar page (catalog ``figure.worked_*``) and in the
    weekly report (its labels) are defined by the same sentence, in each language."""
    from qunzhu.http.i18n import catalog
    from qunzhu.readmodels.what_worked import FIGURES
    from qunzhu.reports.labels import LABELS

    for lang, labels in (("en", LABELS["en"]), ("zh-CN", LABELS["zh"])):
        for name in FIGURES:
            assert catalog(lang)[f"figure.{name}"] == labels[f"{name}_def"], (lang, name)


def test_review_page_states_flag_precision_as_the_api_does(site):
    """flag_precision (docs/figures.md): the review page and ``GET …/moderation/precision``
    give the same figure, overall and per detector, once flags were decided."""
    pending = site.api("/moderation/queue")["items"]
    assert len(pending) >= 2, "the sample's review queue has flags to decide"
    headers = {"Authorization": f"Bearer {site.token}"}
    base = "/api/v1/communities/demo/moderation/items"
    for item, operation in zip(pending[:2], ("approve", "undo"), strict=True):
        answer = site.client.post(f"{base}/{item['id']}/{operation}", json={}, headers=headers)
        assert answer.status_code == 200, answer.text
    api = site.api("/moderation/precision")
    shown = figures(site.page("/c/demo/review"))
    assert api["reviewed"] >= 2
    assert _close(shown["flag_precision", "demo"], api["precision"], 4)
    for d in api["by_detector"]:
        assert _close(shown["flag_precision", d["detector"]], d["precision"], 4)
