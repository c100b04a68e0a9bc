"""Tables of the live connectors: configured bots and their state, per-group state, the log of
actions carried out, alerts for operators, pending join requests, named invite links, the
outbox of actions decided outside the live pipeline and the scheduled jobs of `qunzhu serve`.

Credentials are kept encrypted (``secret``: a Fernet token, see
:mod:`qunzhu.store.credentials`); nothing here holds a token in clear.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qunzhu.store.base import Base, BigId, utcnow

CONNECTOR_PLATFORMS = ("telegram", "qq", "wecom", "wechat", "discord")
CONNECTOR_STATUSES = ("idle", "connected", "error", "disabled")


class Connector(Base):
    """One connection to a platform (a Telegram bot, a OneBot account, a WeCom app)."""

    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64), unique=True)  # in webhook URLs
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # nothing secret
    secret: Mapped[str] = mapped_column(Text, default="")  # Fernet token of the credentials
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="idle")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    last_event_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    events_received: Mapped[int] = mapped_column(default=0)
    actions_sent: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConnectorGroup(Base):
    """A chat a connector serves; ``disabled`` after a permanent error (bot removed, rights
    missing), with the reason shown to operators; ``migrated`` when the chat moved."""

    __tablename__ = "connector_groups"
    __table_args__ = (UniqueConstraint("connector_id", "platform_group_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    platform_group_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConnectorAction(Base):
    """One action carried out (or refused) on a platform: the log operators audit."""

    __tablename__ = "connector_actions"
    __table_args__ = (Index("ix_connector_actions_connector_created", "connector_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )  # None only when the action named a community that does not exist
    connector_id: Mapped[int | None] = mapped_column(
        ForeignKey("connectors.id", ondelete="SET NULL")
    )
    community: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(16))
    platform_group_id: Mapped[str] = mapped_column(String(128))
    member: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # sent | failed | alerted | skipped
    attempts: Mapped[int] = mapped_column(default=1)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConnectorAlert(Base):
    """Something an operator must do or know: a decision the platform cannot carry out, a
    group disabled, a platform-side sanction. Idempotent by ``key`` per community."""

    __tablename__ = "connector_alerts"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    connector_id: Mapped[int | None] = mapped_column(
        ForeignKey("connectors.id", ondelete="SET NULL")
    )
    platform: Mapped[str] = mapped_column(String(16))
    platform_group_id: Mapped[str] = mapped_column(String(128))
    member: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(16), default="action_needed")  # or info
    text: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConnectorRequest(Base):
    """A join request waiting for approve/decline: Telegram chat_join_request, QQ ``flag``."""

    __tablename__ = "connector_requests"
    __table_args__ = (UniqueConstraint("connector_id", "handle"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    platform_group_id: Mapped[str] = mapped_column(String(128))
    platform_user_id: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConnectorInviteLink(Base):
    """A named invite link the bot created; a join through it names its referrer."""

    __tablename__ = "connector_invite_links"
    __table_args__ = (UniqueConstraint("connector_id", "link"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"))
    platform_group_id: Mapped[str] = mapped_column(String(128))
    link: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(64), default="")
    referrer: Mapped[str | None] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(64))
    member_limit: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


OUTBOX_STATUSES = ("queued", "sending", "sent", "failed", "alerted", "skipped")


class OutboxAction(Base):
    """A platform action decided outside the live pipeline (a review, an appeal, an invite
    link asked for), written in the decision's transaction and carried out by the serving
    process's connectors. ``key`` is unique per community: a double click enqueues once."""

    __tablename__ = "action_outbox"
    __table_args__ = (
        UniqueConstraint("community_id", "key"),
        Index("ix_action_outbox_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    origin: Mapped[str] = mapped_column(String(64))  # review:123, appeal:123, invite:45
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(16))
    action: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    not_before: Mapped[datetime | None]  # a planned send: quiet hours, a daily cap, a date


class ScheduledJob(Base):
    """A time-driven job of ``qunzhu serve`` for one community (referral settle, membership
    sweep, recompute): its lease, so one process of several runs it, and its last run."""

    __tablename__ = "scheduled_jobs"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(16))  # ok | error
    last_error: Mapped[str | None] = mapped_column(Text)
    last_result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    runs: Mapped[int] = mapped_column(default=0)
