"""Where the operator looks: on the sample community, a top contributor whose flags a
moderator approved becomes a disruptor, and their member page says so with the reason (the
points against the spec's line) and every sanction with its rule and evidence in words."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qunzhu.engines.recompute import recompute_community
from qunzhu.engines.roles import describe_reason
from qunzhu.engines.views import latest_day
from qunzhu.http.i18n import translator
from qunzhu.store.intelligence import MemberValue, RoleAssignment, TierState
from qunzhu.store.models import ModerationAction

sys.path.insert(0, str(Path(__file__).parent))
from sample_site import Site, build, figures, open_site

T = translator("zh-CN")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Site]:
    path = tmp_path_factory.mktemp("explained") / "sample.db"
    build(sqlite_template, path)
    yield from open_site(path)


def _flagged_top_contributor(site: Site) -> tuple[int, list[int]]:
    """The most valuable member with two or more flags waiting for review."""
    ma, mv = ModerationAction, MemberValue
    with site.store.reading() as session:
        flagged = session.execute(
            select(ma.member_id, func.count())
            .where(ma.community_id == site.community_id, ma.status == "pending_review")
            .group_by(ma.member_id)
            .having(func.count() >= 2)
        ).all()
        value = dict(
            session.execute(
                select(mv.member_id, mv.value).where(
                    mv.community_id == site.community_id,
                    mv.member_id.in_([m for m, _ in flagged]),
                )
            ).all()
        )
        member = max(value, key=lambda m: value[m])
        ids = session.scalars(
            select(ma.id).where(ma.member_id == member, ma.status == "pending_review")
        ).all()
    return member, list(ids)


def _approve(site: Site, ids: list[int]) -> None:
    queue = site.page("/c/demo/review")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', queue)
    assert csrf is not None
    form = {"csrf_token": csrf.group(1), "decision": "approve", "ids": [str(i) for i in ids]}
    answer = site.client.post("/c/demo/review/decide", data=form)
    assert answer.status_code == 200


def test_a_flagged_top_contributor_shown_as_disruptor_says_why(site):
    member, ids = _flagged_top_contributor(site)
    _approve(site, ids)
    with site.store.engine.begin() as conn:
        day = latest_day(conn, site.community_id)
        assert day is not None
        recompute_community(conn, site.community_id, day, site.store.settings.tz)
        disruptors = conn.execute(
            select(RoleAssignment.member_id, RoleAssignment.group_id, RoleAssignment.reason).where(
                RoleAssignment.community_id == site.community_id,
                RoleAssignment.role == "disruptor",
            )
        ).all()
    assert member in {m for m, _, _ in disruptors}
    for who, group, reason in disruptors:  # any member flagged as a disruptor
        page = site.page(f"/c/demo/members/{who}")
        assert figures(page)["role", str(group)] == "disruptor"
        assert describe_reason("disruptor", reason, "zh-CN") in page  # "违规积分 8.0 ≥ 6"
        assert T("member.role_disruptor_see") in page
        sanctions = page[page.index('id="moderation"') :]
        assert sanctions.count('class="sanction"') >= 2
        assert 'data-problem="problem.classifier"' in sanctions  # what kind of problem
        assert T("problem.classifier", score=0).split("（")[0] in sanctions
        assert "classifier · classifier" not in page and "{&#39;" not in page


def test_the_tier_sentence_is_whole_and_names_the_decayed_value(site):
    with site.store.reading() as session:  # below core, whose next tier has criteria
        members = session.scalars(
            select(TierState.member_id)
            .where(TierState.community_id == site.community_id, TierState.tier != "core")
            .order_by(TierState.member_id)
            .limit(20)
        ).all()
    checked = 0
    for who in members:
        page = site.page(f"/c/demo/members/{who}")
        tier = page[page.index('id="tier"') : page.index('id="timeline"')]
        if "needs" not in tier:
            continue
        assert "下一级：" not in tier and "，需要<" not in tier  # the old cut sentence
        assert "还需要满足" in tier or "全部条件" in tier
        assert "衰减后价值" in tier or "min_value" not in tier
        checked += 1
    assert checked
