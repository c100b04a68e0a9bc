"""Paid membership (付费会员): plans from the spec, orders, payments that pay an order once,
memberships that start or renew on payment, reminders before expiry, and on expiry the
tier or removal the plan says (``on_expiry``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from qunzhu import events as ev
from qunzhu.events import make_key
from qunzhu.growth.common import GrowthError, action, active_groups_of, aware, place_of, spec_of
from qunzhu.growth.providers import PaymentNotice
from qunzhu.spec.positioning import Plan
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.growth import Subscription
from qunzhu.store.intelligence import TierState
from qunzhu.store.models import Community, Member, Order, Payment, TierChange

REMIND_DAYS = 3


def plan_of(conn: Connection, community_id: int, plan_id: str) -> Plan:
    plan = spec_of(conn, community_id).plan(plan_id)
    if plan is None:
        raise GrowthError(
            "unknown_plan", f"plan {plan_id!r} is not in the spec's monetization.plans"
        )
    return plan


def create_order(
    conn: Connection, community_id: int, member_id: int, plan_id: str
) -> dict[str, Any]:
    plan = plan_of(conn, community_id, plan_id)
    if (
        conn.execute(
            select(Member.id).where(Member.id == member_id, Member.community_id == community_id)
        ).first()
        is None
    ):
        raise GrowthError("unknown_member", f"member {member_id} is not in this community")
    order_no = f"QZ{datetime.now(UTC):%Y%m%d}{secrets.token_hex(5).upper()}"
    t = table_of(Order)
    conn.execute(
        t.insert().values(
            community_id=community_id,
            member_id=member_id,
            order_no=order_no,
            plan=plan.id,
            amount_cents=plan.price_cents,
            currency=plan.currency,
            status="open",
            created_at=datetime.now(UTC),
        )
    )
    return {
        "order_no": order_no,
        "member_id": member_id,
        "plan": plan.id,
        "amount_cents": plan.price_cents,
        "currency": plan.currency,
        "status": "open",
    }


@dataclass
class Paid:
    order_no: str
    new: bool  # False: this payment was recorded before (a replay)
    subscription: dict[str, Any] | None = None
    actions: list[ev.Action] = field(default_factory=list)


def record_payment(conn: Connection, provider: str, notice: PaymentNotice) -> Paid:
    """Pay an order once: the payment row is unique on (community, key) with the same key an
    ingested ``payment_received`` event has, so a replayed webhook or a re-imported file
    changes nothing."""
    community_id = conn.execute(
        select(Community.id).where(Community.slug == notice.community)
    ).scalar()
    if community_id is None:
        raise GrowthError("unknown_community", f"community {notice.community!r} does not exist")
    o = table_of(Order)
    order = conn.execute(
        select(o).where(o.c.community_id == community_id, o.c.order_no == notice.order_no)
    ).one_or_none()
    if order is None:
        raise GrowthError("unknown_order", f"order {notice.order_no!r} does not exist")
    if notice.amount_cents != order.amount_cents or notice.currency != order.currency:
        raise GrowthError(
            "amount_mismatch",
            f"order {order.order_no} is "
            f"{order.amount_cents} {order.currency}, the payment "
            f"{notice.amount_cents} {notice.currency}",
        )
    now = datetime.now(UTC)
    key = make_key("payment_received", provider, notice.community, notice.payment_id)
    p = table_of(Payment)
    added = insert_ignoring_conflicts(
        conn,
        p,
        [
            {
                "community_id": community_id,
                "member_id": order.member_id,
                "order_id": order.id,
                "key": key,
                "provider": provider,
                "provider_ref": notice.payment_id,
                "amount_cents": notice.amount_cents,
                "currency": notice.currency,
                "plan": order.plan,
                "occurred_at": now,
                "raw": dict(notice.raw),
            }
        ],
        p.c.id,
    )
    paid = conn.execute(
        update(o).where(o.c.id == order.id, o.c.status == "open").values(status="paid", paid_at=now)
    )
    if not added or not paid.rowcount:  # told before, or this order was paid another way
        return Paid(order.order_no, new=False)
    sub = activate(conn, community_id, order.member_id, order.plan, now) if order.plan else None
    if sub is not None:
        conn.execute(update(o).where(o.c.id == order.id).values(expires_at=sub["expires_at"]))
    return Paid(order.order_no, new=True, subscription=sub)


def activate(
    conn: Connection, community_id: int, member_id: int, plan_id: str, paid_at: datetime
) -> dict[str, Any] | None:
    """Start a membership, or renew it from its current end; grant the plan's tier."""
    plan = spec_of(conn, community_id).plan(plan_id)
    if plan is None:
        return None
    s = table_of(Subscription)
    insert_ignoring_conflicts(
        conn,
        s,
        [
            {
                "community_id": community_id,
                "member_id": member_id,
                "plan": plan.id,
                "status": "active",
                "started_at": paid_at,
                "expires_at": None,
            }
        ],
    )
    row = conn.execute(
        select(s).where(
            s.c.community_id == community_id, s.c.member_id == member_id, s.c.plan == plan.id
        )
    ).one()
    expires = None
    if plan.period_days:
        current = aware(row.expires_at) if row.expires_at else None
        start = current if row.status == "active" and current and current > paid_at else paid_at
        expires = start + timedelta(days=plan.period_days)
    conn.execute(
        update(s)
        .where(s.c.id == row.id)
        .values(
            status="active",
            expires_at=expires,
            reminded_at=None,
            expired_at=None,
            started_at=paid_at if row.status != "active" else row.started_at,
        )
    )
    if plan.tier:
        set_tier(conn, community_id, member_id, plan.tier, f"paid plan {plan.id}")
    return {"member_id": member_id, "plan": plan.id, "expires_at": expires}


def set_tier(
    conn: Connection,
    community_id: int,
    member_id: int,
    tier: str,
    reason: str,
    source: str = "payment",
) -> None:
    """Record a tier granted or taken by payment (or a referral reward); locked so value
    rules do not undo it."""
    ts = table_of(TierState)
    previous = conn.execute(select(ts.c.tier).where(ts.c.member_id == member_id)).scalar()
    if previous == tier:
        return
    today = date.today()
    if previous is None:
        insert_ignoring_conflicts(
            conn,
            ts,
            [
                {
                    "member_id": member_id,
                    "community_id": community_id,
                    "tier": tier,
                    "since": today,
                    "locked": True,
                    "lock_reason": reason,
                }
            ],
        )
    else:
        conn.execute(
            update(ts)
            .where(ts.c.member_id == member_id)
            .values(tier=tier, since=today, below_since=None, locked=True, lock_reason=reason)
        )
    conn.execute(
        table_of(TierChange)
        .insert()
        .values(
            community_id=community_id,
            member_id=member_id,
            tier=tier,
            previous_tier=previous,
            reason=reason,
            source=source,
            locked=True,
            changed_at=datetime.now(UTC),
        )
    )


def sweep(conn: Connection, community_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Remind members whose membership ends within REMIND_DAYS, and expire the lapsed: each
    claimed by a conditional UPDATE, so two schedulers never act twice."""
    now = now or datetime.now(UTC)
    spec = spec_of(conn, community_id)
    s = table_of(Subscription)
    actions: list[ev.Action] = []
    reminded, expired = [], []
    due = conn.execute(
        select(s).where(
            s.c.community_id == community_id,
            s.c.status == "active",
            s.c.reminded_at.is_(None),
            s.c.expires_at.is_not(None),
            s.c.expires_at <= now + timedelta(days=REMIND_DAYS),
            s.c.expires_at > now,
        )
    ).all()
    for row in due:
        if conn.execute(
            update(s).where(s.c.id == row.id, s.c.reminded_at.is_(None)).values(reminded_at=now)
        ).rowcount:
            reminded.append(row.member_id)
            for g in active_groups_of(conn, row.member_id)[:1]:
                actions.append(
                    action(
                        "send_message",
                        place_of(conn, g, row.member_id),
                        reason="renewal_reminder",
                        text=f"会员将于 {aware(row.expires_at):%Y-%m-%d} 到期，"
                        "请续费 (your membership ends soon: renew)",
                    )
                )
    lapsed = conn.execute(
        select(s).where(
            s.c.community_id == community_id, s.c.status == "active", s.c.expires_at <= now
        )
    ).all()
    for row in lapsed:
        if not conn.execute(
            update(s)
            .where(s.c.id == row.id, s.c.status == "active")
            .values(status="expired", expired_at=now)
        ).rowcount:
            continue
        plan = spec.plan(row.plan)
        what = plan.expiry_action if plan else "nothing"
        expired.append({"member_id": row.member_id, "plan": row.plan, "on_expiry": what})
        if what == "downgrade" and plan is not None and plan.expiry_tier:
            set_tier(
                conn, community_id, row.member_id, plan.expiry_tier, f"plan {row.plan} expired"
            )
        elif what == "remove":
            for g in active_groups_of(conn, row.member_id):
                actions.append(
                    action(
                        "remove",
                        place_of(conn, g, row.member_id),
                        reason="membership_expired",
                        plan=row.plan,
                    )
                )
    return {"reminded": reminded, "expired": expired, "actions": actions}


def subscriptions(conn: Connection, community_id: int) -> list[dict[str, Any]]:
    s = table_of(Subscription)
    return [
        {
            "member_id": r.member_id,
            "plan": r.plan,
            "status": r.status,
            "started_at": r.started_at,
            "expires_at": r.expires_at,
            "reminded_at": r.reminded_at,
        }
        for r in conn.execute(
            select(s).where(s.c.community_id == community_id).order_by(s.c.expires_at)
        )
    ]


def orders(conn: Connection, community_id: int, status: str | None = None) -> list[dict[str, Any]]:
    o = table_of(Order)
    q = select(o).where(o.c.community_id == community_id).order_by(o.c.created_at)
    if status:
        q = q.where(o.c.status == status)
    return [
        {
            "order_no": r.order_no,
            "member_id": r.member_id,
            "plan": r.plan,
            "amount_cents": r.amount_cents,
            "currency": r.currency,
            "status": r.status,
            "created_at": r.created_at,
            "paid_at": r.paid_at,
            "expires_at": r.expires_at,
        }
        for r in conn.execute(q)
    ]


def has_paid(
    conn: Connection, community_id: int, member_id: int, plans: list[str], at: datetime
) -> bool:
    """An active membership in one of ``plans`` (any plan when the list is empty) at ``at``."""
    s = table_of(Subscription)
    q = select(s.c.id).where(
        s.c.community_id == community_id,
        s.c.member_id == member_id,
        s.c.status == "active",
        (s.c.expires_at.is_(None)) | (s.c.expires_at > at),
    )
    if plans:
        q = q.where(s.c.plan.in_(plans))
    return conn.execute(q.limit(1)).first() is not None
