"""An external bridge's claims on the outbox: two bridges polling at once take each row once;
a claim left without an outcome is taken again once it is stale; a row goes to the bridge of
its platform and community only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from qunzhu.events import Action
from qunzhu.store import Store, outbox
from qunzhu.store.models import Community
from qunzhu.store.outbox_bridge import claim_for_bridge


def _communities(store: Store) -> tuple[int, int]:
    with store.unit_of_work() as session:
        session.add_all([Community(slug="acme", name="A"), Community(slug="rival", name="R")])
    with store.reading() as session:
        ids = dict(session.execute(select(Community.slug, Community.id)).tuples().all())
    return ids["acme"], ids["rival"]


def _queue(store: Store, community_id: int, n: int, platform: str = "api") -> None:
    actions = [
        Action(kind="warn", platform=platform, community="acme", group="g", member=str(i))
        for i in range(n)
    ]
    with store.unit_of_work() as session:
        outbox.enqueue(session, community_id, actions, f"test:{platform}")


def test_two_bridges_polling_at_once_take_each_row_once(store):
    acme, _ = _communities(store)
    _queue(store, acme, 60)
    taken: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def poll(n: int) -> None:
        start.wait()
        while True:
            with store.unit_of_work() as session:
                items = claim_for_bridge(session, acme, "api", f"bridge{n}", limit=7)
            if not items:
                return
            taken[n].extend(i["id"] for i in items)

    threads = [threading.Thread(target=poll, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    both = taken[0] + taken[1]
    assert len(both) == 60 and len(set(both)) == 60


def test_a_bridge_gets_only_its_platform_and_community(store):
    acme, rival = _communities(store)
    _queue(store, acme, 2, platform="api")
    _queue(store, acme, 1, platform="telegram")
    with store.unit_of_work() as session:
        assert claim_for_bridge(session, rival, "api", "b") == []
        items = claim_for_bridge(session, acme, "api", "b")
    assert [i["platform"] for i in items] == ["api", "api"]
    assert [i["member"] for i in items] == ["0", "1"]


def test_a_claim_left_without_an_outcome_is_taken_again_when_stale(store):
    acme, _ = _communities(store)
    _queue(store, acme, 1)
    with store.unit_of_work() as session:
        [first] = claim_for_bridge(session, acme, "api", "crashed")
        assert claim_for_bridge(session, acme, "api", "other") == []
        later = datetime.now(UTC) + outbox.STALE_CLAIM + timedelta(seconds=1)
        [again] = claim_for_bridge(session, acme, "api", "other", now=later)
    assert again["id"] == first["id"]
