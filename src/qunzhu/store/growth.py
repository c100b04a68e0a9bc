"""Tables of growth and admission: invite codes, campaigns and their rewards, join codes,
seats and waitlists, one-in-one-out proposals, paid subscriptions, member tags and segment
assignments. Referrals, applications, orders and payments live in store/operations.py.

Every table carries the community id; every row an event or a sweep may write twice has a
unique constraint so a re-run inserts nothing new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qunzhu.store.base import Base, BigId, utcnow

_COMMUNITY = "communities.id"
_MEMBER = "members.id"
_GROUP = "groups.id"


class InviteCode(Base):
    """A member's personal invite code (邀请码) and, where the platform has one, a link."""

    __tablename__ = "invite_codes"
    __table_args__ = (
        UniqueConstraint("community_id", "code"),
        UniqueConstraint("community_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey(_MEMBER, ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    """A referral campaign (裂变活动): a window and the reward ladder it pays."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("community_id", "slug"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    ladder: Mapped[Any] = mapped_column(JSON)  # [{"invitees": 5, "reward": {...}}, ...]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReferralReward(Base):
    """One rung reached by one referrer in one campaign; unique, so granted once."""

    __tablename__ = "referral_rewards"
    __table_args__ = (
        UniqueConstraint("campaign_id", "member_id", "rung"),
        Index("ix_referral_rewards_status", "community_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey(_MEMBER, ondelete="CASCADE"))
    rung: Mapped[int]  # qualified invitees the rung needs
    kind: Mapped[str] = mapped_column(String(16))  # points | tier | coupon | prize
    value: Mapped[str] = mapped_column(String(200))
    # granted | held | redeemed | clawed_back | rejected
    status: Mapped[str] = mapped_column(String(16))
    signals: Mapped[Any] = mapped_column(JSON, nullable=True)  # fraud signals behind a hold
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class JoinCode(Base):
    """A one-time join code (入群码): used once, by one member, then spent."""

    __tablename__ = "join_codes"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey(_GROUP, ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[datetime | None]
    used_by_member_id: Mapped[int | None] = mapped_column(ForeignKey(_MEMBER))
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupSeats(Base):
    """The seat counter of a capped group: claimed by a conditional UPDATE, never beyond cap."""

    __tablename__ = "group_seats"

    group_id: Mapped[int] = mapped_column(ForeignKey(_GROUP, ondelete="CASCADE"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    cap: Mapped[int]
    taken: Mapped[int] = mapped_column(default=0)


class SeatHolder(Base):
    """Who holds a seat, so a claim or release told twice counts once."""

    __tablename__ = "seat_holders"

    group_id: Mapped[int] = mapped_column(ForeignKey(_GROUP, ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey(_MEMBER, ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    since: Mapped[datetime] = mapped_column(default=utcnow)


class WaitlistEntry(Base):
    """A place in the queue (候补) of a full group."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        UniqueConstraint("group_id", "member_id"),
        Index("ix_waitlist_entries_queue", "group_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey(_GROUP, ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey(_MEMBER, ondelete="CASCADE"))
    # waiting | offered | admitted | left
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]


class EvictionProposal(Base):
    """One-in-one-out (一进一出): the member proposed (or removed) to seat a newcomer."""

    __tablename__ = "eviction_proposals"
    __table_args__ = (UniqueConstraint("group_id", "for_member_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey(_GROUP, ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey(_MEMBER, ondelete="CASCADE"))
    for_member_id: Mapped[int] = mapped_column(ForeignKey(_MEMBER, ondelete="CASCADE"))
    value: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16))  # proposed | removed | dismissed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]


class Subscription(Base):
    """A paid membership (付费会员): plan, period, expiry, and what was done about it."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("community_id", "member_id", "plan"),
        Index("ix_subscriptions_expiry", "community_id", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey(_COMMUNITY, ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey(_MEMBER, ondelete="CASCADE"))
    plan: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | expired
    started_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]


class MemberTag(Base):
    """A routing tag on a member (interest, job, region…), set by hand or by an import."""

    __tablename__ = "member_tags"

    member_id: Mapped[int] = mapped_column(
        ForeignKey(_MEMBER, ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), index=True
    )


class SegmentAssignment(Base):
    """Where routing put a member: a segment, or the holding group when nothing matched."""

    __tablename__ = "segment_assignments"

    member_id: Mapped[int] = mapped_column(
        ForeignKey(_MEMBER, ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey(_COMMUNITY, ondelete="CASCADE"), index=True
    )
    segment: Mapped[str | None] = mapped_column(String(64))  # None: holding group
    source: Mapped[str] = mapped_column(String(16), default="rule")  # rule | manual
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
