"""Growth over HTTP: roles on every route, and the payment webhook: a forged signature is
refused with nothing stored, a replay pays once."""

from __future__ import annotations

import json

from qunzhu_tests_http import feed, joined
from sqlalchemy import select, update

from qunzhu.growth.providers import sign
from qunzhu.store.intelligence import TierState
from qunzhu.store.models import Community, Payment

SPEC = """
name: 栗子读书会
purpose: read together
tiers:
  - {id: member, name_zh: 成员}
  - {id: vip, name_zh: 会员}
monetization:
  plans:
    - {id: year, name: 年费, price_cents: 36500, period_days: 365, tier: vip}
threshold:
  kind: application
  questions: [{id: why, text_zh: 为什么}]
"""
SECRET = "w" * 32


def _spec(store, personas):
    with store.unit_of_work() as session:
        session.execute(update(Community).where(Community.slug == "acme").values(spec_yaml=SPEC))
    feed(store, [joined("buyer")])


def _order(client, personas) -> dict:
    made = client.post(
        "/api/v1/communities/acme/orders",
        json={"member_id": 1, "plan": "year"},
        headers=personas["admin"].headers,
    )
    assert made.status_code == 201, made.text
    return made.json()


def _hook(client, body: bytes, signature: str):
    return client.post(
        "/api/v1/payments/test/webhook",
        content=body,
        headers={"X-Qunzhu-Signature": signature, "content-type": "application/json"},
    )


def test_webhook_forged_refused_replay_pays_once(client, personas, store, monkeypatch):
    monkeypatch.setenv("QUNZHU_PAYMENT_TEST_SECRET", SECRET)
    _spec(store, personas)
    order = _order(client, personas)
    body = json.dumps(
        {
            "community": "acme",
            "order_no": order["order_no"],
            "payment_id": "tx-1",
            "amount_cents": 36500,
        }
    ).encode()
    forged = _hook(client, body, sign("f" * 32, body))
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "bad_signature"
    with store.reading() as session:
        assert session.scalars(select(Payment)).all() == []
    first = _hook(client, body, sign(SECRET, body))
    again = _hook(client, body, sign(SECRET, body))
    assert first.status_code == again.status_code == 200
    assert (first.json()["paid"], again.json()["paid"]) == (True, False)
    with store.reading() as session:
        assert len(session.scalars(select(Payment)).all()) == 1
        assert session.scalars(select(TierState.tier)).all() == ["vip"]
    orders = client.get("/api/v1/communities/acme/orders", headers=personas["analyst"].headers)
    assert [o["status"] for o in orders.json()] == ["paid"]
    wrong = json.dumps(
        {"community": "acme", "order_no": "nope", "payment_id": "tx-2", "amount_cents": 1}
    ).encode()
    assert _hook(client, wrong, sign(SECRET, wrong)).status_code == 404


def test_webhook_without_configured_secret_is_unavailable(client, personas, monkeypatch):
    monkeypatch.delenv("QUNZHU_PAYMENT_TEST_SECRET", raising=False)
    assert _hook(client, b"{}", "t=1,v1=x").status_code == 503
    assert client.post("/api/v1/payments/paypal/webhook").status_code == 404


def test_roles_on_growth_routes(client, personas, store):
    _spec(store, personas)
    read = client.get("/api/v1/communities/acme/plans", headers=personas["analyst"].headers)
    assert read.status_code == 200 and read.json()[0]["id"] == "year"
    assert client.get("/api/v1/communities/acme/plans").status_code == 401
    assert (
        client.get(
            "/api/v1/communities/acme/plans", headers=personas["outsider"].headers
        ).status_code
        == 404
    )
    denied = client.post(
        "/api/v1/communities/acme/join-codes",
        json={"count": 2},
        headers=personas["moderator"].headers,
    )
    assert denied.status_code == 403
    codes = client.post(
        "/api/v1/communities/acme/join-codes", json={"count": 2}, headers=personas["admin"].headers
    )
    assert codes.status_code == 201 and len(codes.json()["codes"]) == 2
    # a validity past any date a database holds is refused at the edge (was a 500)
    forever = client.post(
        "/api/v1/communities/acme/join-codes",
        json={"count": 1, "valid_days": 10**7},
        headers=personas["admin"].headers,
    )
    assert forever.status_code == 422 and forever.json()["error"]["field"] == "valid_days"
    assert (
        client.get(
            "/api/v1/communities/acme/applications", headers=personas["analyst"].headers
        ).status_code
        == 403
    )


def test_campaign_rewards_applications_and_routing(client, personas, store):
    _spec(store, personas)
    h = personas["admin"].headers
    made = client.post(
        "/api/v1/communities/acme/referral/campaigns",
        headers=h,
        json={
            "slug": "spring",
            "name": "春季",
            "ladder": [{"invitees": 5, "reward": {"kind": "points", "value": 10}}],
        },
    )
    assert made.status_code == 201, made.text
    dup = client.post(
        "/api/v1/communities/acme/referral/campaigns",
        headers=h,
        json={
            "slug": "spring",
            "name": "春季",
            "ladder": [{"invitees": 5, "reward": {"kind": "points", "value": 10}}],
        },
    )
    assert dup.status_code == 409
    bad = client.post(
        "/api/v1/communities/acme/referral/campaigns",
        headers=h,
        json={"slug": "bad", "name": "x", "ladder": [{"invitees": 0}]},
    )
    assert bad.status_code == 422
    stats = client.get("/api/v1/communities/acme/referral/campaigns/spring", headers=h)
    assert stats.status_code == 200 and stats.json()["leaderboard"] == []
    assert (
        client.get("/api/v1/communities/acme/referral/campaigns/nope", headers=h).status_code == 404
    )
    assert client.post("/api/v1/communities/acme/referral/settle", headers=h).status_code == 200
    assert (
        client.post("/api/v1/communities/acme/referral/rewards/99/approve", headers=h).status_code
        == 404
    )
    feed(
        store,
        [
            {
                "type": "application_submitted",
                "platform": "api",
                "community": "acme",
                "group": "g1",
                "member": "newbie",
                "occurred_at": "2025-03-01T00:00:00+00:00",
                "application_id": "f1",
                "answers": {"why": "读书"},
            }
        ],
    )
    queue = client.get(
        "/api/v1/communities/acme/applications", headers=personas["moderator"].headers
    ).json()
    assert [q["status"] for q in queue] == ["pending"]
    done = client.post(
        f"/api/v1/communities/acme/applications/{queue[0]['id']}/review",
        headers=personas["moderator"].headers,
        json={"decision": "reject", "reason": "不符合"},
    )
    assert done.json()["status"] == "rejected"
    again = client.post(
        f"/api/v1/communities/acme/applications/{queue[0]['id']}/review",
        headers=personas["moderator"].headers,
        json={"decision": "approve"},
    )
    assert again.status_code == 409
    preview = client.get("/api/v1/communities/acme/routing/preview", headers=h)
    assert preview.status_code == 200
    applied = client.post("/api/v1/communities/acme/routing/apply", headers=h)
    assert applied.json()["moved"] == len(preview.json())
