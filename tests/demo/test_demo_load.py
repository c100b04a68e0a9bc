"""Loading the sample into a store: the community with its spec, named groups, and a second
load that adds nothing. The full sample is loaded once per backend (module scope)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from qunzhu.demo import GROUPS, SLUG, load_demo
from qunzhu.demo.spec import DEMO_SPEC
from qunzhu.pipeline import IngestReport
from qunzhu.spec import load_spec
from qunzhu.store import Store
from qunzhu.store.models import Community, Group, Member, Message

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _counts(store: Store) -> dict[str, int]:
    with store.reading() as session:
        return {
            "communities": session.scalar(select(func.count()).select_from(Community)) or 0,
            "groups": session.scalar(select(func.count()).select_from(Group)) or 0,
            "members": session.scalar(select(func.count()).select_from(Member)) or 0,
            "messages": session.scalar(select(func.count()).select_from(Message)) or 0,
        }


@pytest.fixture
def loaded(store: Store) -> Iterator[tuple[Store, IngestReport, IngestReport, dict[str, Any]]]:
    first = load_demo(store, now=NOW)
    after_first = _counts(store)
    second = load_demo(store, now=NOW)
    yield store, first, second, after_first


@pytest.mark.slow
def test_load_twice_adds_nothing_the_second_time(
    loaded: tuple[Store, IngestReport, IngestReport, dict[str, Any]],
) -> None:
    store, first, second, after_first = loaded
    assert first.added > 40_000 and not first.quarantined
    assert second.received == first.received
    assert second.added == 0 and second.duplicates == second.received
    assert _counts(store) == after_first
    assert after_first["groups"] == 3 and 500 <= after_first["members"] <= 700

    with store.reading() as session:
        community = session.scalars(select(Community).where(Community.slug == SLUG)).one()
        assert community.spec_yaml == DEMO_SPEC
        groups = session.scalars(select(Group).where(Group.community_id == community.id)).all()
        described = {g.platform_group_id: (g.name, g.cap, g.segment) for g in groups}
    assert described == {gid: (i.name, i.cap, i.segment) for gid, i in GROUPS.items()}
    spec = load_spec(community.spec_yaml)
    assert {gid for s in spec.segments for gid in s.groups} == set(described)
