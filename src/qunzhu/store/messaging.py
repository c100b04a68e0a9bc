"""Messages qunzhu sends on its own initiative: a broadcast composed once by an operator and
sent to groups or to members one by one. Each target's delivery is a row of the outbox
(origin ``broadcast:<id>``), written with the broadcast in one transaction: a restart never
loses a target, and the outbox's unique key never sends one twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qunzhu.store.base import Base, BigId, utcnow


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[str] = mapped_column(String(64))  # operator username, or "cli"
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"zh-CN": …, "en": …}
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the operator asked for
    targets: Mapped[int] = mapped_column(default=0)
    send_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageCursor(Base):
    """How far a sending job has read a stream (the welcome job: membership events), moved in
    the transaction that queues what it read: a crash neither skips nor repeats."""

    __tablename__ = "message_cursors"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlannedPost(Base):
    """A post of the content calendar (群日历): a topic, 干货, an announcement or the rules
    notice, once or recurring (an RFC 5545 RRULE in its time zone). A draft goes out only
    once an admin approved it; each occurrence becomes a broadcast."""

    __tablename__ = "planned_posts"
    __table_args__ = (Index("ix_planned_posts_due", "status", "next_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # topic | content | announcement | rules
    title: Mapped[str] = mapped_column(String(200))
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    starts_at: Mapped[datetime]
    rrule: Mapped[str | None] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # draft | approved | cancelled | done
    created_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    next_at: Mapped[datetime | None]  # the next occurrence to send
    sent: Mapped[int] = mapped_column(default=0)
    missed: Mapped[int] = mapped_column(default=0)  # occurrences skipped: serve was not running
    problem: Mapped[str | None] = mapped_column(String(500))  # why it went back to a draft
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlaybookProgress(Base):
    """Where one member stands in one playbook (群SOP) in one group: the trigger's time and
    the next step; moved in the transaction that queues the step's message or task."""

    __tablename__ = "playbook_progress"
    __table_args__ = (
        UniqueConstraint("community_id", "playbook", "member_id", "group_id", "trigger_at"),
        Index("ix_playbook_progress_open", "community_id", "done"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    playbook: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    trigger_at: Mapped[datetime]
    next_step: Mapped[int] = mapped_column(default=0)
    done: Mapped[bool] = mapped_column(default=False)
    history: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{step, at, outcome}]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
