"""A small community in code, fed through the real pipeline with the growth reactor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.growth.reactor import GrowthReactor
from qunzhu.pipeline import IngestReport, Pipeline
from qunzhu.spec.loader import load_spec
from qunzhu.store import Store
from qunzhu.store.models import Community, Group, Identity

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

BASE_SPEC = """
name: 栗子读书会
purpose: read together
"""


@dataclass
class Town:
    store: Store
    slug: str = "acme"

    def feed(self, *events: ev.Event) -> IngestReport:
        return Pipeline(self.store, reactors=[GrowthReactor()]).run(list(events), source="test")

    def join(
        self,
        member: str,
        *,
        group: str = "g1",
        at: datetime = T0,
        inviter: str | None = None,
        code: str | None = None,
    ) -> IngestReport:
        return self.feed(
            ev.MemberJoined(
                platform="test",
                community=self.slug,
                group=group,
                member=member,
                occurred_at=at,
                inviter=inviter,
                invite_code=code,
                via="invite" if inviter else "link",
            )
        )

    def leave(self, member: str, *, group: str = "g1", at: datetime = T0) -> IngestReport:
        return self.feed(
            ev.MemberLeft(
                platform="test", community=self.slug, group=group, member=member, occurred_at=at
            )
        )

    def say(
        self,
        member: str,
        text: str = "我读完了第三章，笔记整理在这里，欢迎讨论",
        *,
        group: str = "g1",
        at: datetime = T0,
        n: int = 0,
    ) -> IngestReport:
        return self.feed(
            ev.MessagePosted(
                platform="test",
                community=self.slug,
                group=group,
                member=member,
                occurred_at=at,
                message_id=f"{member}-{at.timestamp()}-{n}",
                text=text,
            )
        )

    def member_id(self, user: str) -> int:
        with self.store.engine.connect() as conn:
            found = conn.execute(
                select(Identity.member_id).where(Identity.platform_user_id == user)
            ).scalar()
        assert found is not None, user
        return int(found)

    def group_id(self, group: str = "g1") -> int:
        with self.store.engine.connect() as conn:
            return int(
                conn.execute(select(Group.id).where(Group.platform_group_id == group)).scalar_one()
            )

    @property
    def community_id(self) -> int:
        with self.store.engine.connect() as conn:
            return int(
                conn.execute(select(Community.id).where(Community.slug == self.slug)).scalar_one()
            )


@pytest.fixture
def town(store: Store) -> Callable[[str], Town]:
    def make(spec_extra: str = "") -> Town:
        load_spec(BASE_SPEC + spec_extra)  # a typo in a test's spec fails here, loudly
        with store.unit_of_work() as session:
            session.add(Community(slug="acme", name="栗子读书会", spec_yaml=BASE_SPEC + spec_extra))
        return Town(store)

    return make


def days(n: float) -> timedelta:
    return timedelta(days=n)


def rows(store: Store, query: Any) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(query))


# Test modules import the helpers above by this one name, under any pytest import mode.
import sys  # noqa: E402

sys.modules.setdefault("qunzhu_tests_growth", sys.modules[__name__])
