"""A community with a capped group fed through the real pipeline and growth reactor, and the
API/dashboard cast of tests/http/api/conftest.py (loaded by file path, as the dashboard
tests do), so one test can ask the CLI, the API and the dashboard for the same figure."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import select, update

from qunzhu import events as ev
from qunzhu.growth.reactor import GrowthReactor
from qunzhu.pipeline import Pipeline
from qunzhu.store import Store
from qunzhu.store.models import Community, Group, Identity


def _http_fixtures() -> ModuleType:
    name = "qunzhu_tests_http"  # tests/http/api/conftest.py registers itself under this name
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).resolve().parents[1] / "http" / "api" / "conftest.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_fixtures = _http_fixtures()
personas = _fixtures.personas
app_factory = _fixtures.app_factory
client = _fixtures.client

T0 = datetime.now(UTC) - timedelta(days=10)
CAPPED_SPEC = """
name: 栗子读书会
purpose: read together
size: {cap: 3, policy: waitlist}
"""


def feed(store: Store, *events: ev.Event) -> None:
    Pipeline(store, reactors=[GrowthReactor()]).run(list(events), source="test")


def join(member: str, at: datetime, group: str = "g1") -> ev.MemberJoined:
    return ev.MemberJoined(
        platform="test", community="acme", group=group, member=member, occurred_at=at, via="link"
    )


def leave(member: str, at: datetime, group: str = "g1") -> ev.MemberLeft:
    return ev.MemberLeft(
        platform="test", community="acme", group=group, member=member, occurred_at=at
    )


def ids(store: Store) -> dict[str, int]:
    """The acme community, its groups and its members, by name."""
    with store.engine.connect() as conn:
        out = {
            "acme": conn.execute(select(Community.id).where(Community.slug == "acme")).scalar_one()
        }
        out |= {
            str(p): int(i)
            for p, i in conn.execute(select(Group.platform_group_id, Group.id)).tuples()
        }
        out |= {
            str(u): int(m)
            for u, m in conn.execute(select(Identity.platform_user_id, Identity.member_id)).tuples()
        }
    return out


@pytest.fixture
def full_group(store: Store, personas: object) -> dict[str, int]:
    """acme's g1 is capped at 3 with a waitlist: a, b, c took the seats, d and e queued;
    then a left, so d is offered a seat held for them and e waits. Seats taken 3, waitlist 1.
    (The pipeline keeps the joins admission declined as memberships: members 4.)"""
    with store.unit_of_work() as session:
        session.execute(
            update(Community).where(Community.slug == "acme").values(spec_yaml=CAPPED_SPEC)
        )
    for i, name in enumerate("abcde"):
        feed(store, join(name, T0 + timedelta(minutes=i)))
    feed(store, leave("a", T0 + timedelta(hours=1)))
    return ids(store)


# Test modules import the helpers above by this one name, under any pytest import mode.
sys.modules.setdefault("qunzhu_tests_readmodels", sys.modules[__name__])
