"""Personas and an in-process HTTP client for the API and dashboard tests.

The cast, on a fresh database per test (``store`` from tests/conftest.py)::

    acme  (community "栗子读书会")   owner, admin, moderator, analyst
    rival (community "Rival Club")   outsider is its owner: a stranger to acme
    root                             superuser, no roles

Each persona has the password :data:`PASSWORD` and an API token (``persona.headers``).
tests/http/web/conftest.py loads this file too, so both suites share one cast; test modules
import the helpers with ``from qunzhu_tests_http import log_in, message, …``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qunzhu.auth.credentials import hash_password
from qunzhu.auth.operators import create_token
from qunzhu.auth.ratelimit import MemoryLimiter
from qunzhu.events import event_from_json
from qunzhu.http.app import create_app
from qunzhu.pipeline import Pipeline
from qunzhu.settings import Settings
from qunzhu.store import Store
from qunzhu.store.models import Community, Operator, OperatorRole

HELPERS_MODULE = "qunzhu_tests_http"
PASSWORD = "correct horse battery staple"
ROLES_IN_ACME = ("owner", "admin", "moderator", "analyst")
_HASH: list[str] = []


def password_hash() -> str:
    # argon2 is slow by design: hash the shared password once per test session
    if not _HASH:
        _HASH.append(hash_password(PASSWORD))
    return _HASH[0]


@dataclass(frozen=True)
class Persona:
    name: str
    operator_id: int
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Cast:
    store: Store
    people: dict[str, Persona] = field(default_factory=dict)
    communities: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Persona:
        return self.people[name]


def _add_operator(
    store: Store, name: str, *, superuser: bool = False, roles: dict[int, str] | None = None
) -> Persona:
    with store.unit_of_work() as session:
        operator = Operator(
            username=name,
            display_name=name.title(),
            password_hash=password_hash(),
            is_superuser=superuser,
            active=True,
        )
        session.add(operator)
        session.flush()
        for community_id, role in (roles or {}).items():
            session.add(OperatorRole(operator_id=operator.id, community_id=community_id, role=role))
        issued = create_token(session, name, f"{name}'s test token", source="system")
        return Persona(name=name, operator_id=operator.id, token=issued.token)


@pytest.fixture
def personas(store: Store) -> Cast:
    return make_cast(store)


def make_cast(store: Store) -> Cast:
    """The cast of this module's docstring, in ``store``."""
    cast = Cast(store=store)
    with store.unit_of_work() as session:
        for slug, name in (("acme", "栗子读书会"), ("rival", "Rival Club")):
            community = Community(slug=slug, name=name)
            session.add(community)
            session.flush()
            cast.communities[slug] = community.id
    acme, rival = cast.communities["acme"], cast.communities["rival"]
    for role in ROLES_IN_ACME:
        cast.people[role] = _add_operator(store, role, roles={acme: role})
    cast.people["outsider"] = _add_operator(store, "outsider", roles={rival: "owner"})
    cast.people["root"] = _add_operator(store, "root", superuser=True)
    return cast


def make_app(settings: Settings, store: Store, **kwargs: Any) -> Any:
    kwargs.setdefault("login_limiter", MemoryLimiter(settings.login_rate_limit))
    return create_app(settings, store, **kwargs)


@pytest.fixture
def app_factory(settings: Settings, store: Store) -> Any:
    def make(**kwargs: Any) -> Any:
        return make_app(settings, store, **kwargs)

    return make


@pytest.fixture
def client(app_factory: Any) -> Iterator[TestClient]:
    with TestClient(app_factory()) as test_client:
        yield test_client


def message(
    n: int,
    *,
    community: str = "acme",
    group: str = "g1",
    member: str | None = None,
    days_ago: int = 0,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON form of one message event."""
    when = datetime.now(UTC) - timedelta(days=days_ago, minutes=n)
    return {
        "type": "message_posted",
        "platform": "api",
        "community": community,
        "group": group,
        "member": member or f"u{n % 7}",
        "occurred_at": when.isoformat(),
        "message_id": f"{group}-m{n}-{days_ago}",
        "text": f"消息 {n}",
        **extra,
    }


def joined(member: str, *, community: str = "acme", group: str = "g1") -> dict[str, Any]:
    return {
        "type": "member_joined",
        "platform": "api",
        "community": community,
        "group": group,
        "member": member,
        "occurred_at": (datetime.now(UTC) - timedelta(days=30)).isoformat(),
    }


def feed(store: Store, items: list[dict[str, Any]]) -> None:
    """Put events in the store directly, the way an importer would."""
    Pipeline(store).run([event_from_json(i) for i in items], source="test")


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def log_in(
    client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/"
) -> Any:
    """Log in through the form, as a browser does; returns the POST response."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(page.text),
            "next": next_path,
        },
        follow_redirects=False,
    )


# Test modules here and in tests/http/web import the helpers above by this one name (see
# tests/http/web/conftest.py), which works under any pytest import mode.
sys.modules.setdefault(HELPERS_MODULE, sys.modules[__name__])
