"""Every route that names an object by id, called with the ids of another community: 404.

The routes come from the app's own route table, so a new route is covered the day it is
added: each path parameter must be in :data:`VERBS` (names no object) or have a maker in
:meth:`Objects.make` that creates that kind of object in a community, else the route's test
fails. Each route is called, every method it has, by every role of community "acme" with
the ids of objects of community "rival", and must answer 404 (not 200, 403 or 500) and
change nothing of rival's; then acme's owner calls it with acme's own ids, which must not
answer 404 (so the 404 above was about whose the object is, not a broken call).

The routes share one store, cast and app per backend (``world``): building them for each
route was most of this module's time. Rival's objects are made once and each test checks
that rival's rows are as they were before its calls; acme's, which the owner's control call
may change or delete, are made anew for each test (:meth:`Objects.next_test`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from qunzhu_tests import settings_for
from qunzhu_tests_http import ROLES_IN_ACME, _add_operator, feed, make_app, make_cast, message
from qunzhu_tests_routes import ID_ROUTES, PARAM, ROUTES, VERBS, object_params
from sqlalchemy import select, update

from qunzhu.auth.operator_sessions import start_session
from qunzhu.store import Store
from qunzhu.store.base import Base
from qunzhu.store.connectors import Connector, ConnectorAlert, OutboxAction
from qunzhu.store.growth import Campaign, EvictionProposal, ReferralReward
from qunzhu.store.library import LibraryItem
from qunzhu.store.messaging import Broadcast, PlannedPost
from qunzhu.store.models import (
    ApiToken,
    Application,
    Community,
    Group,
    Member,
    Message,
    ModerationAction,
    OperatorSession,
)
from qunzhu.store.tasks import OperatorTask

# routes outside any community: authenticated otherwise (signatures), nothing to scope
UNSCOPED = {"/api/v1/payments/{provider}/webhook"}
CALLERS = (*ROLES_IN_ACME, "root")
SPEC = """
name: acme
purpose: read together
tiers:
  - {id: member, name_zh: 成员}
monetization:
  plans:
    - {id: year, name: 年费, price_cents: 36500, period_days: 365, tier: member}
"""
IMPORT_LOG = b"[10:00] <ann> hello\n[10:01] <bo> ann: hi\n"


def test_every_route_with_an_object_id_is_scoped_by_its_community() -> None:
    unscoped = {p for _, p in ROUTES if object_params(p) and "{slug}" not in p}
    assert unscoped <= UNSCOPED, (
        f"{sorted(unscoped - UNSCOPED)} name an object outside any community: scope them "
        "by /communities/{slug}/ or explain here why not"
    )
    # the table is read, not left empty by a bug of _flat
    assert ("GET", "/api/v1/communities/{slug}/members/{member_id}/explain") in ID_ROUTES


class Objects:
    """One object of each kind per community, made the first time a route needs it: rival's
    once per store, acme's once per test (:meth:`next_test`)."""

    def __init__(self, client: TestClient, store: Store, personas: Any) -> None:
        self.client, self.store, self.personas = client, store, personas
        self.made: dict[tuple[str, str, str], str] = {}
        self.serial = 0  # the test's number: part of acme's keys and names, which are unique
        # rival's owner is "outsider"; acme's stand-in for "another operator" is an analyst
        # of the test's own (``_operator``): the owner's call may revoke its token or role
        self.operator = {"rival": personas["outsider"]}
        self.campaigns: dict[str, str] = {}
        with store.unit_of_work() as session:  # signed in, so a revoke would show
            start_session(
                session, personas["outsider"].operator_id, user_agent="test", address=None
            )
        feed(
            store,
            [
                message(n, community=c, member=f"{c}-u{n % 3}")
                for c in ("acme", "rival")
                for n in range(6)
            ],
        )

    def next_test(self) -> None:
        """Forget acme's objects: the next test makes its own."""
        self.serial += 1
        self.made = {key: made for key, made in self.made.items() if key[2] != "acme"}
        self.operator.pop("acme", None)
        self.campaigns.pop("acme", None)

    def id_for(self, param: str, path: str, slug: str) -> str:
        kind = param
        if param == "item_id":
            kind = (
                "outbox" if "/outbox/" in path else "moderation" if "/moderation/" in path else ""
            )
            kind = "library" if "/library/" in path else kind
        key = (kind, path if kind == "job_id" else "", slug)
        if key not in self.made:
            self.made[key] = str(self.make(kind, slug, param, path))
        return self.made[key]

    def _cid(self, slug: str) -> int:
        return int(self.personas.communities[slug])

    def _first(self, model: type[Base], slug: str, offset: int = 0) -> int:
        """Rival's first group, member, message; acme's of this test (made on first use: a
        group with two members, one message each)."""
        t = model.__table__
        order = t.c.id
        if slug == "acme":
            if ("base", "", slug) not in self.made:
                n = 100 + 2 * self.serial
                group, members = (
                    f"t{self.serial}",
                    (f"acme-t{self.serial}-a", f"acme-t{self.serial}-b"),
                )
                feed(
                    self.store,
                    [
                        message(n + k, community=slug, group=group, member=m)
                        for k, m in enumerate(members)
                    ],
                )
                self.made[("base", "", slug)] = group
            order = t.c.id.desc()  # the newest: this test's
        with self.store.reading() as session:
            return int(
                session.execute(
                    select(t.c.id).where(t.c.community_id == self._cid(slug)).order_by(order)
                ).all()[offset][0]
            )

    def _operator(self, slug: str) -> Any:
        if slug not in self.operator:
            who = _add_operator(
                self.store, f"analyst{self.serial}", roles={self._cid(slug): "analyst"}
            )
            with self.store.unit_of_work() as session:  # signed in, so a revoke would show
                start_session(session, who.operator_id, user_agent="test", address=None)
            self.operator[slug] = who
        return self.operator[slug]

    def _add(self, row: Base) -> int:
        with self.store.unit_of_work() as session:
            session.add(row)
            session.flush()
            return int(row.id)  # type: ignore[attr-defined]

    def make(self, kind: str, slug: str, param: str, path: str) -> object:
        cid, now = self._cid(slug), datetime.now(UTC)
        if kind == "member_id":
            return self._first(Member, slug)
        if kind == "group_id":
            return self._first(Group, slug)
        if kind == "moderation":
            return self._add(
                ModerationAction(
                    community_id=cid,
                    group_id=self._first(Group, slug),
                    member_id=self._first(Member, slug),
                    key=f"{slug}-mod{self.serial}",
                    action="delete",
                    rule="spam",
                    status="pending_review",
                    evidence={"text": "buy now"},
                )
            )
        if kind == "outbox":
            return self._add(
                OutboxAction(
                    community_id=cid,
                    origin="review:1",
                    key=f"{slug}-out{self.serial}",
                    kind="warn",
                    platform="api",
                    action={"kind": "warn"},
                    status="failed",
                )
            )
        if kind == "library":
            message = self._first(Message, slug)
            return self._add(
                LibraryItem(
                    community_id=cid,
                    message_id=message,
                    group_id=self._first(Group, slug),
                    member_id=self._first(Member, slug),
                    status="kept",
                    text="好书推荐",
                    tags=["书单"],
                    value=1.0,
                    posted_at=now,
                    search_text="好书推荐\n书单",
                    decided_by="t",
                )
            )
        if kind == "post_id":
            return self._add(
                PlannedPost(
                    community_id=cid,
                    kind="topic",
                    title="t",
                    texts={"zh-CN": "话题"},
                    audience={"every_group": True},
                    starts_at=now + timedelta(days=1),
                    timezone="Asia/Shanghai",
                    status="draft",
                    created_by="t",
                    next_at=now + timedelta(days=1),
                    sent=0,
                    missed=0,
                )
            )
        if kind == "broadcast_id":
            return self._add(
                Broadcast(
                    community_id=cid,
                    created_by="t",
                    texts={"zh-CN": "你好"},
                    audience={"every_group": True},
                    targets=0,
                )
            )
        if kind == "application_id":
            return self._add(
                Application(
                    community_id=cid,
                    key=f"{slug}-app{self.serial}",
                    external_id="x",
                    status="pending",
                    submitted_at=now,
                )
            )
        if kind == "campaign":
            self._campaign(slug)
            return self.campaigns[slug]
        if kind == "reward_id":
            return self._add(
                ReferralReward(
                    community_id=cid,
                    campaign_id=self._campaign(slug),
                    member_id=self._first(Member, slug),
                    rung=1,
                    kind="points",
                    value="10",
                    status="held",
                )
            )
        if kind == "proposal_id":
            return self._add(
                EvictionProposal(
                    community_id=cid,
                    group_id=self._first(Group, slug),
                    member_id=self._first(Member, slug),
                    for_member_id=self._first(Member, slug, 1),
                    status="proposed",
                )
            )
        if kind == "alert_id":
            return self._add(
                ConnectorAlert(
                    community_id=cid,
                    platform="telegram",
                    platform_group_id="g1",
                    kind="no_right",
                    key=f"{slug}-alert{self.serial}",
                )
            )
        if kind == "connector_id":
            return self._add(
                Connector(community_id=cid, platform="telegram", name=f"{slug}-bot{self.serial}")
            )
        if kind == "operator_id":
            return self._operator(slug).operator_id
        if kind == "token_id":
            with self.store.reading() as session:
                return session.scalar(
                    select(ApiToken.id).where(
                        ApiToken.operator_id == self._operator(slug).operator_id
                    )
                )
        if kind == "job_id":
            return self._import_job(slug)
        if kind == "task_id":
            return self._add(
                OperatorTask(
                    community_id=cid,
                    kind="manual",
                    source_key=f"{slug}-task{self.serial}",
                    text="call ann",
                    detail={},
                    due_at=now,
                    state="open",
                )
            )
        pytest.fail(
            f"{path}: no maker for path parameter {param!r}; add one to Objects.make "
            "(and to qunzhu.http.ownership) or to VERBS if it names no object"
        )

    def _campaign(self, slug: str) -> int:
        name = self.campaigns.setdefault(slug, f"{slug}-spring{self.serial}")
        with self.store.reading() as session:
            found = session.scalar(select(Campaign.id).where(Campaign.slug == name))
        if found is not None:
            return int(found)
        return self._add(
            Campaign(
                community_id=self._cid(slug),
                slug=name,
                name="Spring",
                starts_at=datetime.now(UTC),
                ladder=[],
            )
        )

    def _import_job(self, slug: str) -> str:
        owner = self.personas["owner" if slug == "acme" else "outsider"]
        url = f"/api/v1/communities/{slug}/imports"
        started = self.client.post(
            url,
            headers=owner.headers,
            files={"file": ("x.log", IMPORT_LOG, "text/plain")},
            data={"group": "#c", "tz": "UTC"},
        )
        assert started.status_code == 202, started.text
        job = started.json()["id"]
        for _ in range(600):  # wait for the import thread to end, not for a time
            if self.client.get(f"{url}/{job}", headers=owner.headers).json()["status"] != "running":
                return str(job)
            time.sleep(0.05)
        raise AssertionError(f"import {job} did not finish")


def _rival_state(store: Store, rival: int, outsider: int) -> list[Any]:
    """Every row of rival's, and its owner's account, tokens and sessions: what must not
    change."""
    out: list[Any] = []
    with store.reading() as session:
        for table in Base.metadata.sorted_tables:
            if "community_id" in table.c:
                rows = session.execute(
                    select(table).where(table.c.community_id == rival).order_by(*table.primary_key)
                ).all()
                out.append((table.name, [tuple(map(str, r)) for r in rows]))
        tokens = select(ApiToken.id, ApiToken.revoked_at).where(ApiToken.operator_id == outsider)
        out.append([tuple(r) for r in session.execute(tokens.order_by(ApiToken.id))])
        sessions = select(OperatorSession.id, OperatorSession.revoked_at).where(
            OperatorSession.operator_id == outsider
        )
        out.append([tuple(r) for r in session.execute(sessions.order_by(OperatorSession.id))])
    return out


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    return client.request(method, path, headers=headers)


@dataclass(frozen=True)
class World:
    client: TestClient
    store: Store
    personas: Any
    objects: Objects


@pytest.fixture(scope="module")
def world(module_db_url: str) -> Iterator[World]:
    """One store, cast and app for every route of a backend (see the module docstring)."""
    settings = settings_for(module_db_url)
    store = Store(settings)
    personas = make_cast(store)
    with TestClient(make_app(settings, store)) as client:
        yield World(client, store, personas, Objects(client, store, personas))
    store.dispose()


@pytest.mark.parametrize(("method", "route"), ID_ROUTES, ids=[f"{m} {p}" for m, p in ID_ROUTES])
def test_another_communitys_ids_answer_404_for_every_role(
    method: str, route: str, world: World
) -> None:
    client, store, personas, objects = world.client, world.store, world.personas, world.objects
    objects.next_test()

    def path_for(slug: str, ids_of: str) -> str:
        def fill(found: re.Match[str]) -> str:
            name = found.group(1)
            if name == "slug":
                return slug
            return VERBS.get(name) or objects.id_for(name, route, ids_of)

        return PARAM.sub(fill, route)

    foreign = path_for("acme", "rival")
    own = path_for("acme", "acme")
    before = _rival_state(store, personas.communities["rival"], personas["outsider"].operator_id)
    for role in CALLERS:
        answer = _call(client, method, foreign, personas[role].headers)
        assert answer.status_code == 404, f"{role}: {method} {foreign} → {answer.status_code}"
    after = _rival_state(store, personas.communities["rival"], personas["outsider"].operator_id)
    assert after == before, f"{method} {foreign} changed rival's data"
    control = _call(client, method, own, personas["owner"].headers)
    # a 404 of the route's own (a tier that is not locked) is fine; "not_found" is ours
    refused = control.status_code == 404 and control.json()["error"]["code"] == "not_found"
    assert control.status_code != 500 and not refused, (
        f"owner: {method} {own} → {control.status_code}: {control.text[:300]}"
    )


def test_another_communitys_ids_in_bodies_and_forms_change_nothing(
    client: TestClient, store: Store, personas: Any
) -> None:
    """Ids that travel in a body (bulk review, invite link's group, an order's member, the
    review form's ticks) are looked up in the path's community too."""
    objects = Objects(client, store, personas)
    item = int(objects.id_for("item_id", "/moderation/", "rival"))
    rival_group = int(objects.id_for("group_id", "", "rival"))
    rival_member = int(objects.id_for("member_id", "", "rival"))
    own_member = objects.id_for("member_id", "", "acme")
    base, owner = "/api/v1/communities/acme", personas["owner"].headers
    before = _rival_state(store, personas.communities["rival"], personas["outsider"].operator_id)
    bulk = client.post(
        f"{base}/moderation/bulk", json={"operation": "approve", "ids": [item]}, headers=owner
    )
    assert bulk.status_code == 404, bulk.text
    link = client.post(
        f"{base}/members/{own_member}/invite-link", json={"group_id": rival_group}, headers=owner
    )
    assert link.status_code == 404 and link.json()["error"]["code"] == "unknown_group"
    with store.unit_of_work() as session:
        session.execute(update(Community).where(Community.slug == "acme").values(spec_yaml=SPEC))
    order = client.post(
        f"{base}/orders", json={"member_id": rival_member, "plan": "year"}, headers=owner
    )
    assert order.status_code == 404 and order.json()["error"]["code"] == "unknown_member"
    form = client.post(
        "/c/acme/review/decide",
        data={"decision": "approve", "ids": [str(item)]},
        headers=owner,
        follow_redirects=False,
    )
    assert form.status_code == 303 and "nothing_changed" in form.headers["location"]
    after = _rival_state(store, personas.communities["rival"], personas["outsider"].operator_id)
    assert after == before
