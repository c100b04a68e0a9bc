"""What members do: messages, check-ins, activities, and the daily rollups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from qunzhu.store.base import Base, BigId, BigNumber


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("community_id", "key"),
        Index("ix_messages_group_time", "group_id", "occurred_at"),
        Index("ix_messages_group_platform_id", "group_id", "platform_message_id"),
        Index("ix_messages_member_time", "member_id", "occurred_at"),
        # partial: most messages are not replies, and the index is only ever asked for a
        # given message's replies; a bulk import then writes one entry per reply, not per row
        Index(
            "ix_messages_reply_to_id",
            "reply_to_id",
            sqlite_where=sql("reply_to_id IS NOT NULL"),
            postgresql_where=sql("reply_to_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    platform_message_id: Mapped[str] = mapped_column(String(128))
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    reply_to_platform_id: Mapped[str | None] = mapped_column(String(128))
    reply_to_id: Mapped[int | None] = mapped_column(BigId)
    reply_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    reactions: Mapped[int] = mapped_column(default=0)
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    recalled: Mapped[bool] = mapped_column(Boolean, default=False)
    edited_text: Mapped[str | None] = mapped_column(Text)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    value: Mapped[float | None] = mapped_column(Float)
    raw: Mapped[Any] = mapped_column(JSON, nullable=True)


class CheckInRecord(Base):
    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")


class Activity(Base):
    """An event members attend (a live session, a meetup): registration → attendance."""

    __tablename__ = "activities"
    __table_args__ = (UniqueConstraint("community_id", "slug"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="online")
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    location: Mapped[str | None] = mapped_column(String(200))
    capacity: Mapped[int | None]


class Attendance(Base):
    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]


class MemberDaily(Base):
    """Per member, group and day: what dashboards read instead of raw messages."""

    __tablename__ = "member_daily"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(default=0)
    chars: Mapped[int] = mapped_column(default=0)
    replies_sent: Mapped[int] = mapped_column(default=0)
    check_ins: Mapped[int] = mapped_column(default=0)
    flagged: Mapped[int] = mapped_column(default=0)
    value: Mapped[float] = mapped_column(Float, default=0.0)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class GroupDaily(Base):
    __tablename__ = "group_daily"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(default=0)
    joins: Mapped[int] = mapped_column(default=0)
    leaves: Mapped[int] = mapped_column(default=0)
    removals: Mapped[int] = mapped_column(default=0)
    check_ins: Mapped[int] = mapped_column(default=0)
    flagged: Mapped[int] = mapped_column(default=0)
    payments_cents: Mapped[int] = mapped_column(BigNumber, default=0)
    value: Mapped[float] = mapped_column(Float, default=0.0)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Quarantine(Base):
    """Input that could not be accepted, with where it came from and why."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(500))
    location: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


class EventLogEntry(Base):
    """Events with no table of their own (reactions, edits, recalls, renames): kept once."""

    __tablename__ = "event_log"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
