"""broadcasts

Messages qunzhu sends: ``broadcasts`` (one composed message and its audience) and
``action_outbox.not_before`` (a delivery planned for later: after quiet hours, the next day
under the daily cap, or a date the operator chose) and ``message_cursors`` (how far the
welcome job has read the joins) ``planned_posts`` (the content calendar) and ``playbook_progress``
(each member's place in an SOP playbook). Written by hand like 0006.

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
    op.create_table(
        "playbook_progress",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("playbook", sa.String(length=64), nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("trigger_at", qunzhu.store.base.UTCDateTime(), nullable=False),
        sa.Column("next_step", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("updated_at", qunzhu.store.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_playbook_progress_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_playbook_progress_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_playbook_progress_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_progress")),
        sa.UniqueConstraint(
            "community_id",
            "playbook",
            "member_id",
            "group_id",
            "trigger_at",
            name=op.f("uq_playbook_progress_community_id_playbook_member_id_group_id_trigger_at"),
        ),
    )
    with op.batch_alter_table("playbook_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_playbook_progress_member_id"), ["member_id"])
        batch_op.create_index("ix_playbook_progress_open", ["community_id", "done"])
    with op.batch_alter_table("action_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_before", qunzhu.store.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_outbox", schema=None) as batch_op:
        batch_op.drop_column("not_before")
    op.drop_table("message_cursors")
    op.drop_table("planned_posts")
    op.drop_table("playbook_progress")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcasts_community_id"))
    op.drop_table("broadcasts")
