"""operator sessions

``operator_sessions``: one row per dashboard sign-in, so sessions can be listed and revoked
(the cookie carries a random key; only its SHA-256 is stored). Written by hand like 0006.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 16:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunzhu.store.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "operator_sessions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("operator_id", _ID, nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", qunzhu.store.base.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", qunzhu.store.base.UTCDateTime(), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", qunzhu.store.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operators.id"],
            name=op.f("fk_operator_sessions_operator_id_operators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_operator_sessions_key_hash")),
    )
    op.create_index(
        op.f("ix_operator_sessions_operator_id"),
        "operator_sessions",
        ["operator_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_operator_sessions_operator_id"), table_name="operator_sessions")
    op.drop_table("operator_sessions")
