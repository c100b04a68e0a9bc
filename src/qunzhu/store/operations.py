"""Moderation actions, tiers, referrals, applications, orders and payments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qunzhu.store.base import Base, BigId, BigNumber, utcnow


class ModerationAction(Base):
    """A decision on a message or member, with the rule, detector and evidence behind it."""

    __tablename__ = "moderation_actions"
    __table_args__ = (
        UniqueConstraint("community_id", "key"),
        Index("ix_moderation_actions_status", "community_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    key: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(64))
    detector: Mapped[str] = mapped_column(String(64), default="")
    evidence: Mapped[Any] = mapped_column(JSON, nullable=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    points: Mapped[float] = mapped_column(Float, default=0.0)
    # pending_review | applied | alerted | audited | undone | approved
    status: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8), default="live")  # live | audit
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(Text)
    # what the platform did with the decision's actions (sent | failed | alerted | skipped);
    # None until a connector reports: "applied" is the decision, this is the carrying out
    outcome: Mapped[str | None] = mapped_column(String(16))
    carried_out_at: Mapped[datetime | None]


class TierChange(Base):
    __tablename__ = "tier_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    tier: Mapped[str] = mapped_column(String(64))
    previous_tier: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="rule")  # rule | manual | payment
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Referral(Base):
    """Who brought whom into which group; qualification and clawback are decided later."""

    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    inviter_member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    invitee_member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(64))
    code: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    # pending | qualified | disqualified | clawed_back | held
    status: Mapped[str] = mapped_column(String(16), default="pending")
    status_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # pending | approved | rejected | more_info
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime]
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    reviewed_at: Mapped[datetime | None]


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("community_id", "order_no"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    order_no: Mapped[str] = mapped_column(String(64))
    plan: Mapped[str | None] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(BigNumber)
    currency: Mapped[str] = mapped_column(String(8), default="CNY")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | paid | refunded
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    key: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(32))
    provider_ref: Mapped[str] = mapped_column(String(128))
    amount_cents: Mapped[int] = mapped_column(BigNumber)
    currency: Mapped[str] = mapped_column(String(8))
    plan: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    raw: Mapped[Any] = mapped_column(JSON, nullable=True)
