"""lighter message indexes

``ix_messages_reply_to_id`` becomes partial (``WHERE reply_to_id IS NOT NULL``): most
messages are not replies, every reader asks for the replies of given messages (an equality
or ``IN``, which implies NOT NULL, so the planners still use it), and a bulk import then
maintains one entry per reply instead of one per message. Autogenerate does not compare an
index's WHERE clause, so this revision is written by hand.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:06:11.897178
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NOT_NULL = sa.text("reply_to_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_reply_to_id")
        batch_op.create_index(
            "ix_messages_reply_to_id",
            ["reply_to_id"],
            unique=False,
            sqlite_where=_NOT_NULL,
            postgresql_where=_NOT_NULL,
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_reply_to_id")
        batch_op.create_index("ix_messages_reply_to_id", ["reply_to_id"], unique=False)
