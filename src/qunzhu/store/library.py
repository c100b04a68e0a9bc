"""The content library (内容库): valuable answers and posts an operator chose to keep, and the
suggestions an operator dismissed (kept as rows too, so a dismissed message is never
suggested again). One row per source message and community: confirming twice, or
confirming after dismissing, changes the row instead of adding one.

Search reads ``search_text`` (the text and tags, case-folded); on SQLite through an index the
ORM does not model, an FTS5 table with the trigram tokenizer (``library_fts``, kept in step
by triggers, made by migration 0011 and named in :data:`SEARCH_INDEXES` so schema
comparisons leave it alone). A later migration that rebuilds this table on SQLite (batch
mode copies it) must make the triggers again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from qunzhu.store.base import Base, BigId, utcnow

STATUSES = ("kept", "dismissed")
FTS_TABLE = "library_fts"
SEARCH_INDEXES = (FTS_TABLE,)


class LibraryItem(Base):
    __tablename__ = "library_items"
    __table_args__ = (
        UniqueConstraint("community_id", "message_id"),
        Index("ix_library_items_listing", "community_id", "status", "posted_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))  # kept | dismissed
    text: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    value: Mapped[float] = mapped_column(Float, default=0.0)  # the message's, when decided
    posted_at: Mapped[datetime]
    search_text: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """For Alembic's comparisons: the search indexes are made by hand (see above)."""
    return not (name or "").startswith(SEARCH_INDEXES)
