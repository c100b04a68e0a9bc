"""Communities, their groups, members, platform identities and memberships."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from qunzhu.store.base import Base, BigId, utcnow


class Community(Base):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    spec_yaml: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("community_id", "platform", "platform_group_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    platform_group_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    segment: Mapped[str | None] = mapped_column(String(64))
    cap: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(Base):
    """A person in a community; ``merged_into_id`` points to the survivor of a merge."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    display_name: Mapped[str] = mapped_column(String(200), default="")
    real_name: Mapped[str | None] = mapped_column(String(200))  # personal data: masked in views
    phone: Mapped[str | None] = mapped_column(String(40))  # personal data: masked in views
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    # a bot account (qunzhu.store.uncounted): by the platform's data or an operator's word
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    bot_marked_by: Mapped[str | None] = mapped_column(String(16))  # platform | operator
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    first_seen_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identity(Base):
    """One platform account of a member (many to one: a person on WeChat and on QQ)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("community_id", "platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200), default="")


class Membership(Base):
    """A member's current standing in one group; the history is in membership_events."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("group_id", "member_id"),
        # the dashboard's member lists and the funnel's join cohorts
        Index("ix_memberships_group_status", "group_id", "status"),
        Index("ix_memberships_community_joined", "community_id", "joined_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    joined_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    inviter_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    join_via: Mapped[str] = mapped_column(String(16), default="unknown")


class MembershipEvent(Base):
    """Join / leave / removal history, one row per event, idempotent by key."""

    __tablename__ = "membership_events"
    __table_args__ = (
        UniqueConstraint("community_id", "key"),
        Index("ix_membership_events_group_time", "group_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # join | leave | remove | ban | rename
    occurred_at: Mapped[datetime]
    via: Mapped[str | None] = mapped_column(String(16))
    other_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    detail: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[Any] = mapped_column(JSON, nullable=True)
