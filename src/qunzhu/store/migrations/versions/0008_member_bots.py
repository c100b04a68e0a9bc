"""member bots

Two columns on ``members``: ``is_bot`` (the account is a bot: kept out of rankings, roles,
tiers and referral rewards, still shown in the message stream) and ``bot_marked_by``, who
said so last (``platform`` from the platform's own data, ``operator`` by hand: a platform
flag never overrides an operator's word). Written by hand like 0006, without a batch
copy of the table (see the downgrade).

Another branch adds 0007 at the same time; this one is re-chained onto it when merged.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 16:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "members", sa.Column("is_bot", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("members", sa.Column("bot_marked_by", sa.String(length=16), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), never a batch copy of the table: on
    # SQLite the copy drops ``members``, and the foreign keys' ON DELETE CASCADE would take
    # every membership, identity and message with it
    op.drop_column("members", "bot_marked_by")
    op.drop_column("members", "is_bot")
