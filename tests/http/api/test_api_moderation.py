"""The moderation review queue, appeals and check through the API: who may, and what it does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.moderation.moderator import RuleModerator
from qunzhu.pipeline import Pipeline
from qunzhu.store.models import AuditEntry, Message, ModerationAction

START = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
BASE = "/api/v1/communities/acme/moderation"


def _spam(store, n: int = 1, text: str = "有意者联系 13912345678") -> int:
    message = ev.MessagePosted(
        platform="test",
        community="acme",
        group="g1",
        member="u1",
        occurred_at=START.replace(minute=n),
        message_id=f"m{n}",
        text=text,
    )
    Pipeline(store, moderator=RuleModerator()).run([message], source="test")
    with store.reading() as s:
        return s.scalars(select(ModerationAction.id).order_by(ModerationAction.id.desc())).first()


def test_a_moderator_lists_the_queue_and_undoes_an_item(client, personas, store):
    item = _spam(store)
    headers = personas["moderator"].headers
    listed = client.get(BASE + "/queue", params={"status": ""}, headers=headers)
    assert listed.status_code == 200, listed.text
    assert [i["id"] for i in listed.json()["items"]] == [item]
    assert listed.json()["items"][0]["rule"] == "contact_solicitation"
    undone = client.post(f"{BASE}/items/{item}/undo", json={"note": "ok"}, headers=headers)
    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    again = client.post(f"{BASE}/items/{item}/undo", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "review_refused"
    with store.reading() as s:
        assert "moderation.undo" in set(s.scalars(select(AuditEntry.action)))
        assert s.scalars(select(Message.flagged)).one() is False


def test_an_upheld_appeal_reverses_and_a_rejected_one_keeps_the_action(client, personas, store):
    first, second = _spam(store, 1), _spam(store, 2, "加 薇 信 abc_123 带你赚钱")
    headers = personas["admin"].headers
    upheld = client.post(
        f"{BASE}/items/{first}/appeal",
        headers=headers,
        json={"reason": "it was my shop's number", "decision": "uphold"},
    )
    assert upheld.status_code == 200 and upheld.json()["points"] == 0.0
    rejected = client.post(
        f"{BASE}/items/{second}/appeal",
        headers=headers,
        json={"reason": "please", "decision": "reject"},
    )
    assert rejected.json() == {"id": second, "status": "applied", "appeal": "rejected"}
    with store.reading() as s:
        statuses = dict(s.execute(select(ModerationAction.id, ModerationAction.status)).all())
    assert statuses == {first: "undone", second: "applied"}


def test_bulk_escalate_and_feedback(client, personas, store):
    item = _spam(store)
    headers = personas["moderator"].headers
    bulk = client.post(
        BASE + "/bulk", json={"operation": "escalate", "ids": [item]}, headers=headers
    )
    assert bulk.status_code == 200, bulk.text
    assert [a["kind"] for a in bulk.json()["items"][0]["actions"]] == ["mute"]
    client.post(f"{BASE}/items/{item}/undo", headers=headers)
    rows = client.get(BASE + "/feedback", headers=headers).json()["rows"]
    assert rows == [{"label": 0, "text": "有意者联系 13912345678"}]


def test_check_is_open_to_readers_and_review_is_not(client, personas, store):
    item = _spam(store)
    analyst = personas["analyst"].headers
    checked = client.post(BASE + "/check", json={"text": "扣扣 12345678 带你飞"}, headers=analyst)
    assert checked.status_code == 200 and checked.json()["spam"] is True
    assert client.get(BASE + "/queue", headers=analyst).status_code == 403
    assert client.post(f"{BASE}/items/{item}/undo", headers=analyst).status_code == 403
    assert client.get(BASE + "/queue", headers=personas["outsider"].headers).status_code == 404
    assert client.get(BASE + "/queue").status_code == 401
    missing = client.post(f"{BASE}/items/999999/approve", headers=personas["moderator"].headers)
    assert missing.status_code == 404
