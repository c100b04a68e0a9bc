"""Paid membership: an order paid once however often the provider tells us, renewal from the
current end, reminders, and on expiry the plan's downgrade or removal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from qunzhu_tests_growth import T0, rows
from sqlalchemy import select

from qunzhu import events as ev
from qunzhu.growth import payments
from qunzhu.growth.common import GrowthError
from qunzhu.growth.providers import (
    BadNotice,
    ManualProvider,
    PaymentNotice,
    SignatureRejected,
    TestProvider,
    sign,
)
from qunzhu.store.intelligence import TierState
from qunzhu.store.models import Order, Payment, TierChange

PLANS = """
tiers:
  - {id: member, name_zh: 成员}
  - {id: vip, name_zh: 会员}
monetization:
  model: membership_fee
  plans:
    - {id: year, name: 年费会员, price_cents: 36500, period_days: 365, tier: vip,
       on_expiry: "downgrade_to:member"}
    - {id: month, name: 月卡, price_cents: 3000, period_days: 30, on_expiry: remove}
"""
SECRET = "s" * 32


def _order(store, t, plan="year"):
    mid, cid = t.member_id("buyer"), _cid(store)
    with store.engine.begin() as conn:
        return payments.create_order(conn, cid, mid, plan)


def _cid(store):
    from qunzhu.store.models import Community

    return rows(store, select(Community.id))[0][0]


def _notice(order, payment_id="pay-1", amount=None):
    return PaymentNotice(
        community="acme",
        order_no=order["order_no"],
        payment_id=payment_id,
        amount_cents=amount if amount is not None else order["amount_cents"],
        currency="CNY",
        raw={"payment_id": payment_id},
    )


def test_replayed_payment_pays_once_and_expiry_downgrades(store, town):
    t = town(PLANS)
    t.join("buyer", at=T0)
    order = _order(store, t)
    with store.engine.begin() as conn:
        first = payments.record_payment(conn, "test", _notice(order))
    with store.engine.begin() as conn:
        again = payments.record_payment(conn, "test", _notice(order))
    assert (first.new, again.new) == (True, False)
    assert len(rows(store, select(Payment.id))) == 1
    assert rows(store, select(Order.status)) == [("paid",)]
    assert rows(store, select(TierState.tier)) == [("vip",)]
    expires = first.subscription["expires_at"]
    cid = _cid(store)
    with store.engine.begin() as conn:
        soon = payments.sweep(conn, cid, now=expires - timedelta(days=2))
    buyer = t.member_id("buyer")
    assert soon["reminded"] == [buyer] and soon["expired"] == []
    assert [a.reason for a in soon["actions"]] == ["renewal_reminder"]
    with store.engine.begin() as conn:
        assert payments.sweep(conn, cid, now=expires - timedelta(days=1))["reminded"] == []
        gone = payments.sweep(conn, cid, now=expires + timedelta(seconds=1))
    assert gone["expired"] == [{"member_id": buyer, "plan": "year", "on_expiry": "downgrade"}]
    assert rows(store, select(TierState.tier)) == [("member",)]
    assert [r for (r,) in rows(store, select(TierChange.source))] == ["payment", "payment"]


def test_expiry_with_remove_removes_from_every_group(store, town):
    t = town(PLANS)
    t.join("buyer", at=T0)
    t.join("buyer", group="g2", at=T0)
    order = _order(store, t, "month")
    with store.engine.begin() as conn:
        paid = payments.record_payment(conn, "manual", _notice(order, "cash-1"))
    cid = _cid(store)
    with store.engine.begin() as conn:
        out = payments.sweep(conn, cid, now=paid.subscription["expires_at"] + timedelta(hours=1))
    assert sorted((a.kind, a.group) for a in out["actions"]) == [("remove", "g1"), ("remove", "g2")]


def test_renewal_extends_from_the_current_end(store, town):
    t = town(PLANS)
    t.join("buyer", at=T0)
    first = _order(store, t, "month")
    second = _order(store, t, "month")
    with store.engine.begin() as conn:
        a = payments.record_payment(conn, "test", _notice(first, "p1"))
        b = payments.record_payment(conn, "test", _notice(second, "p2"))
    assert b.subscription["expires_at"] - a.subscription["expires_at"] == timedelta(days=30)


def test_wrong_amount_and_unknown_order_are_refused_with_nothing_written(store, town):
    t = town(PLANS)
    t.join("buyer", at=T0)
    order = _order(store, t)
    with (
        pytest.raises(GrowthError, match="36500 CNY, the payment 1 CNY"),
        store.engine.begin() as conn,
    ):
        payments.record_payment(conn, "test", _notice(order, amount=1))
    with pytest.raises(GrowthError, match="does not exist"), store.engine.begin() as conn:
        payments.record_payment(conn, "test", _notice({**order, "order_no": "nope"}))
    assert rows(store, select(Payment.id)) == []
    cid, buyer = _cid(store), t.member_id("buyer")
    with pytest.raises(GrowthError, match="not in the spec"), store.engine.begin() as conn:
        payments.create_order(conn, cid, buyer, "lifetime")


def test_ingested_payment_event_starts_the_plan(store, town):
    t = town(PLANS)
    t.join("buyer", at=T0)
    pay = ev.PaymentReceived(
        platform="test",
        community="acme",
        group="g1",
        member="buyer",
        occurred_at=T0,
        payment_id="imp-1",
        amount_cents=36500,
        plan="year",
    )
    t.feed(pay)
    t.feed(pay)
    assert rows(store, select(TierState.tier)) == [("vip",)]
    assert len(rows(store, select(Payment.id))) == 1


def test_test_provider_checks_signature_age_and_body():
    provider = TestProvider(SECRET)
    body = json.dumps(
        {"community": "acme", "order_no": "o1", "payment_id": "p1", "amount_cents": 100}
    ).encode()
    notice = provider.verify({"X-Qunzhu-Signature": sign(SECRET, body)}, body)
    assert (notice.order_no, notice.amount_cents) == ("o1", 100)
    with pytest.raises(SignatureRejected, match="does not match"):
        provider.verify({"x-qunzhu-signature": sign("x" * 32, body)}, body)
    with pytest.raises(SignatureRejected, match="does not match"):
        provider.verify({"x-qunzhu-signature": sign(SECRET, body)}, body + b" ")
    old = int(datetime.now(UTC).timestamp()) - 3600
    with pytest.raises(SignatureRejected, match="too old"):
        provider.verify({"x-qunzhu-signature": sign(SECRET, body, old)}, body)
    with pytest.raises(SignatureRejected, match="malformed"):
        provider.verify({}, body)
    with pytest.raises(BadNotice):
        provider.verify({"x-qunzhu-signature": sign(SECRET, b"{}")}, b"{}")
    with pytest.raises(SignatureRejected):
        ManualProvider().verify({}, body)


def test_paid_threshold_declines_joins_without_membership(store, town):
    t = town(PLANS + "threshold: {kind: paid, plans: [year]}\n")
    refused = t.join("buyer", at=T0)
    assert [(a.kind, a.reason) for a in refused.actions] == [("decline_join", "not_paid")]
    order = _order(store, t)
    with store.engine.begin() as conn:
        payments.record_payment(conn, "test", _notice(order, "p-9"))
    assert t.join("buyer", group="g2", at=datetime.now(UTC)).actions == []
