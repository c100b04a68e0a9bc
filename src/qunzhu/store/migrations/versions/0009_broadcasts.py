"""broadcasts

Messages qunzhu sends: ``broadcasts`` (one composed message and its audience) and
``action_outbox.not_before`` (a delivery planned for later: after quiet hours, the next day
under the daily cap, or a date the operator chose) and ``message_cursors`` (how far the
welcome job has read the joins) and ``planned_posts`` (the content calendar). Written by
hand like 0006.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 16:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunzhu.store.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("targets", sa.Integer(), nullable=False),
        sa.Column("send_at", qunzhu.store.base.UTCDateTime(), nullable=True),
        sa.Column("created_at", qunzhu.store.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_broadcasts_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broadcasts_community_id"), ["community_id"])
    op.create_table(
        "message_cursors",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", qunzhu.store.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_message_cursors_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_cursors")),
        sa.UniqueConstraint(
            "community_id", "name", name=op.f("uq_message_cursors_community_id_name")
        ),
    )
    op.create_table(
        "planned_posts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("starts_at", qunzhu.store.base.UTCDateTime(), nullable=False),
        sa.Column("rrule", sa.String(length=500), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", qunzhu.store.base.UTCDateTime(), nullable=True),
        sa.Column("next_at", qunzhu.store.base.UTCDateTime(), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.Column("problem", sa.String(length=500), nullable=True),
        sa.Column("created_at", qunzhu.store.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_planned_posts_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_posts")),
    )
    with op.batch_alter_table("planned_posts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_planned_posts_community_id"), ["community_id"])
        batch_op.create_index("ix_planned_posts_due", ["status", "next_at"])
    with op.batch_alter_table("action_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_before", qunzhu.store.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_outbox", schema=None) as batch_op:
        batch_op.drop_column("not_before")
    op.drop_table("message_cursors")
    op.drop_table("planned_posts")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcasts_community_id"))
    op.drop_table("broadcasts")
