"""operator sessions

``operator_sessions``: one row per dashboard sign-in, so sessions can be listed and revoked
(the cookie carries a random key; only its SHA-256 is stored). Amounts become 64-bit on
PostgreSQL (``orders.amount_cents``, ``payments.amount_cents``, ``group_daily.payments_cents``;
SQLite's INTEGER is 64-bit already, and rebuilding those tables there would fire the
foreign-key actions of the rows that point at them). Written by hand like 0006.

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
AMOUNTS = (
    ("orders", "amount_cents"),
    ("payments", "amount_cents"),
    ("group_daily", "payments_cents"),
)


def _amounts(to: sa.types.TypeEngine[int], was: sa.types.TypeEngine[int]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, column in AMOUNTS:
        op.alter_column(table, column, type_=to, existing_type=was, existing_nullable=False)


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
    _amounts(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    _amounts(sa.Integer(), sa.BigInteger())
    op.drop_index(op.f("ix_operator_sessions_operator_id"), table_name="operator_sessions")
    op.drop_table("operator_sessions")
