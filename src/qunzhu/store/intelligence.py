"""Tables of the intelligence engines: message scores, value rollups beyond the foundation's
daily counters, questions and their answers, roles, tier state, group health and alerts.

Everything a dashboard reads here is per day or per member, never per raw message, except
``message_scores`` and ``questions`` which are written once as messages arrive.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qunzhu.store.base import Base, BigId, utcnow


class MessageScore(Base):
    """The value of one message when it arrived, and the points that made it up."""

    __tablename__ = "message_scores"
    __table_args__ = (Index("ix_message_scores_dup", "group_id", "member_id", "text_hash"),)

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float, default=0.0)
    text_hash: Mapped[str] = mapped_column(String(16), default="")
    points: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the message it answers: the platform's reply link, or one the linker inferred
    reply_to_id: Mapped[int | None] = mapped_column(BigId, index=True)
    reply_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    # how likely the reply model found the inferred link (1.0 for the platform's own, 0.0
    # for an importer's guess the model could not weigh); None without a link
    reply_probability: Mapped[float | None] = mapped_column(Float)


class MemberDayStats(Base):
    """What the value engine counts per member, group and day, beside ``member_daily``:
    questions, answers, replies and reactions earned, filler and duplicates."""

    __tablename__ = "member_day_stats"

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
    questions: Mapped[int] = mapped_column(default=0)
    answers: Mapped[int] = mapped_column(default=0)
    replies_earned: Mapped[int] = mapped_column(default=0)
    reactions_earned: Mapped[int] = mapped_column(default=0)
    filler: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    valuable: Mapped[int] = mapped_column(default=0)
    earned_value: Mapped[float] = mapped_column(Float, default=0.0)


class ReplyEdgeDaily(Base):
    """Who replied to whom, per group and day: distinct repliers over any window."""

    __tablename__ = "reply_edges_daily"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    from_member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    to_member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    replies: Mapped[int] = mapped_column(default=0)


class Question(Base):
    """A question asked in a group, and when another member first answered it."""

    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_group_time", "group_id", "asked_at"),)

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    asked_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answer_member_id: Mapped[int | None] = mapped_column(BigId)


class RoleAssignment(Base):
    """A member's behavioural role in a group as of ``day``, with the reason for it."""

    __tablename__ = "role_assignments"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    since: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MemberValue(Base):
    """A member's time-decayed value in the community as of ``day`` (half-life in the spec)."""

    __tablename__ = "member_values"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float, default=0.0)
    raw_value: Mapped[float] = mapped_column(Float, default=0.0)
    messages: Mapped[int] = mapped_column(default=0)
    days_active: Mapped[int] = mapped_column(default=0)


class TierState(Base):
    """A member's current tier; ``below_since`` starts the grace period of a demotion."""

    __tablename__ = "tier_states"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    tier: Mapped[str] = mapped_column(String(64))
    since: Mapped[date] = mapped_column(Date)
    below_since: Mapped[date | None] = mapped_column(Date)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    lock_reason: Mapped[str | None] = mapped_column(String(500))


class GroupHealth(Base):
    """One group's health on one day (group_id 0 is never used: the community is summed
    from its groups when read)."""

    __tablename__ = "group_health"
    __table_args__ = (Index("ix_group_health_community_day", "community_id", "day"),)

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    death_risk: Mapped[float] = mapped_column(Float, default=0.0)
    value_per_day: Mapped[float] = mapped_column(Float, default=0.0)
    active_share: Mapped[float] = mapped_column(Float, default=0.0)
    members: Mapped[int] = mapped_column(default=0)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)


class IntelAlert(Base):
    """A group crossed a line (below the living threshold, death risk high): once per kind
    and day, for the operator's to-do list."""

    __tablename__ = "intel_alerts"
    __table_args__ = (UniqueConstraint("group_id", "kind", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)


class EventCredit(Base):
    """A reaction (event_log id) or check-in (check_ins id) whose value was credited:
    inserting here first makes every credit happen once, live or in a catch-up."""

    __tablename__ = "event_credits"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    ref_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )


class RoleChange(Base):
    """A member's role in a group changed on ``day`` (the daily role assignment writes a row
    only when the role differs from the one before): the role history, with the reason."""

    __tablename__ = "role_history"
    __table_args__ = (
        Index("ix_role_history_member", "member_id", "day"),
        Index("ix_role_history_community_day", "community_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    role: Mapped[str] = mapped_column(String(16))
    previous_role: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoreCursor(Base):
    """How far the daily catch-up has looked: the messages, reactions (event_log ids) and
    check-ins of the community at or below these ids were scored or credited by an earlier
    run, so the next run reads only the rows after them instead of the whole tables."""

    __tablename__ = "score_cursors"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    scored_through_id: Mapped[int] = mapped_column(BigId, default=0)
    reactions_through_id: Mapped[int] = mapped_column(BigId, default=0)
    check_ins_through_id: Mapped[int] = mapped_column(BigId, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
