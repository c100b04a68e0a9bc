"""What waits for a person: the same counts from the read model, ``GET …/queues`` and the
dashboard's today page, and none of another community's."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from qunzhu_tests_http import log_in
from qunzhu_tests_readmodels import feed, ids, join

from qunzhu import events as ev
from qunzhu.readmodels.queues import queue_counts
from qunzhu.store import outbox
from qunzhu.store.growth import Campaign, ReferralReward
from qunzhu.store.models import Application, ModerationAction

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _seed(store) -> dict[str, int]:
    feed(store, join("a", T0), join("b", T0))
    found = ids(store)
    cid, a = found["acme"], found["a"]
    with store.unit_of_work() as session:
        for i, status in enumerate(("pending_review", "pending_review", "applied")):
            session.add(
                ModerationAction(
                    community_id=cid,
                    group_id=found["g1"],
                    member_id=a,
                    key=f"k{i}",
                    action="delete",
                    rule="spam",
                    status=status,
                )
            )
        for i, status in enumerate(("pending", "approved", "pending", "pending")):
            session.add(
                Application(
                    community_id=cid,
                    group_id=found["g1"],
                    key=f"app{i}",
                    external_id=f"x{i}",
                    status=status,
                    submitted_at=T0,
                )
            )
        campaign = Campaign(
            community_id=cid, slug="default", name="d", starts_at=T0, ends_at=None, ladder=[]
        )
        session.add(campaign)
        session.flush()
        session.add(
            ReferralReward(
                community_id=cid,
                campaign_id=campaign.id,
                member_id=a,
                rung=1,
                kind="points",
                value="5",
                status="held",
            )
        )
        act = ev.Action(
            kind="send_message", platform="test", community="acme", group="g1", text="hi"
        )
        outbox.enqueue(session, cid, [act], "review:1")
    return found


def test_counts_of_what_waits_agree_with_the_api_and_the_today_page(store, personas, client):
    found = _seed(store)
    with store.engine.connect() as conn:
        counts = queue_counts(conn, found["acme"])
        rival = queue_counts(conn, personas.communities["rival"])
    assert (counts.pending_review, counts.pending_applications, counts.held_rewards) == (2, 3, 1)
    assert counts.outbox == {"queued": 1} and counts.outbox_needing_operator == 0
    assert (rival.pending_review, rival.pending_applications, rival.held_rewards) == (0, 0, 0)
    assert rival.outbox == {}

    answer = client.get("/api/v1/communities/acme/queues", headers=personas["analyst"].headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["pending_review"], body["pending_applications"], body["held_rewards"]) == (2, 3, 1)
    assert body["outbox"] == {"queued": 1}

    log_in(client, "moderator")
    page = client.get("/c/acme").text

    def shown(key: str) -> int:
        found = re.search(rf'id="todo-{key}".*?<span class="count[^"]*">(\d+)</span>', page, re.S)
        assert found is not None, key
        return int(found.group(1))

    assert (shown("review"), shown("applications"), shown("rewards")) == (2, 3, 1)
