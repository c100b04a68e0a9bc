"""Explaining a member reads only the community asked about: another community's member is
unknown there, whatever its id (the API's explain once answered with its names and texts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.engines import views
from qunzhu.engines.recompute import recompute_community
from qunzhu.pipeline import Pipeline
from qunzhu.store.models import Community, Member

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def _two_communities(store) -> dict[str, tuple[int, int]]:
    events = [
        ev.MessagePosted(
            platform="telegram",
            community=community,
            group="g1",
            member=f"{community}-ann",
            member_name=f"{community}-ann",
            occurred_at=T0 + timedelta(days=day),
            message_id=f"{community}-{day}",
            text=f"secret plans of {community}, day {day}",
        )
        for community in ("c1", "c2")
        for day in range(5)
    ]
    Pipeline(store, create_communities=True).run(events, source="test")
    out = {}
    with store.engine.connect() as conn, conn.begin():
        for slug in ("c1", "c2"):
            cid = conn.execute(select(Community.id).where(Community.slug == slug)).scalar_one()
            member = conn.execute(select(Member.id).where(Member.community_id == cid)).scalar_one()
            recompute_community(conn, cid, (T0 + timedelta(days=4)).date(), UTC)
            out[slug] = (cid, member)
    return out


def test_another_communitys_member_is_unknown(store) -> None:
    ids = _two_communities(store)
    (c1, own), (_, foreign) = ids["c1"], ids["c2"]
    with store.engine.connect() as conn:
        mine = views.explain_member(conn, c1, own)
        with pytest.raises(views.UnknownMember):
            views.explain_member(conn, c1, foreign)
    assert mine["names"] == ["c1-ann"] and mine["messages"] == 5
    assert all("c1" in m["text"] for m in mine["top_messages"])


def test_the_cli_refuses_another_communitys_member(store, cli, cli_env) -> None:
    from qunzhu.cli.main import app

    ids = _two_communities(store)
    (_, own), (_, foreign) = ids["c1"], ids["c2"]
    refused = cli.invoke(app, ["members", "explain", str(foreign), "-c", "c1"])
    assert (
        refused.exit_code != 0 and f"没有成员 {foreign}" in refused.output
    )  # the CLI speaks zh-CN by default
    assert "secret plans of c2" not in refused.output
    shown = cli.invoke(app, ["members", "explain", str(own), "-c", "c1", "--json"])
    assert shown.exit_code == 0, shown.output
