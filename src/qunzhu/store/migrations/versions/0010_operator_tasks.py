"""operator tasks

The operator's day: ``operator_tasks`` (待办: what an operator must do, from the playbooks,
the calendar, the queues and the health alerts, or written by hand), ``operator_groups``
(which operator looks after which group), ``task_digests`` (the daily digest sent, at most
once per operator, community and day) and ``operators.email`` / ``operators.telegram_user``
(where that digest goes). Written by hand like 0009.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 19:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunzhu.store.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = qunzhu.store.base.UTCDateTime


def _fk(table: str, column: str, other: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{other}.id"], name=op.f(f"fk_{table}_{column}_{other}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "operator_tasks",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_key", sa.String(length=160), nullable=False),
        sa.Column("group_id", _ID, nullable=True),
        sa.Column("member_id", _ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("due_at", _AT(), nullable=False),
        sa.Column("owner_id", _ID, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("snoozed_until", _AT(), nullable=True),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", _AT(), nullable=True),
        sa.Column("created_at", _AT(), nullable=False),
        sa.Column("updated_at", _AT(), nullable=False),
        _fk("operator_tasks", "community_id", "communities", "CASCADE"),
        _fk("operator_tasks", "group_id", "groups", "CASCADE"),
        _fk("operator_tasks", "member_id", "members", "SET NULL"),
        _fk("operator_tasks", "owner_id", "operators", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_tasks")),
        sa.UniqueConstraint(
            "community_id", "source_key", name=op.f("uq_operator_tasks_community_id_source_key")
        ),
    )
    with op.batch_alter_table("operator_tasks", schema=None) as batch_op:
        batch_op.create_index("ix_operator_tasks_open", ["community_id", "state", "due_at"])
    op.create_table(
        "operator_groups",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("operator_id", _ID, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("created_at", _AT(), nullable=False),
        _fk("operator_groups", "community_id", "communities", "CASCADE"),
        _fk("operator_groups", "operator_id", "operators", "CASCADE"),
        _fk("operator_groups", "group_id", "groups", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_groups")),
        sa.UniqueConstraint(
            "group_id", "operator_id", name=op.f("uq_operator_groups_group_id_operator_id")
        ),
    )
    with op.batch_alter_table("operator_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_groups_community_id"), ["community_id"])
    op.create_table(
        "task_digests",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("operator_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channels", sa.String(length=64), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("sent_at", _AT(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _fk("task_digests", "community_id", "communities", "CASCADE"),
        _fk("task_digests", "operator_id", "operators", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_digests")),
        sa.UniqueConstraint(
            "community_id",
            "operator_id",
            "day",
            name=op.f("uq_task_digests_community_id_operator_id_day"),
        ),
    )
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("telegram_user", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("telegram_user")
        batch_op.drop_column("email")
    op.drop_table("task_digests")
    with op.batch_alter_table("operator_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_groups_community_id"))
    op.drop_table("operator_groups")
    with op.batch_alter_table("operator_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_operator_tasks_open")
    op.drop_table("operator_tasks")
