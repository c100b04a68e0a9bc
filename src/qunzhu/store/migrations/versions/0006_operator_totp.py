"""operator totp

Two nullable columns on ``operators`` for optional TOTP two-factor sign-in: the shared
secret sealed with ``QUNZHU_SECRET_KEY`` and the last time step a code was accepted for
(so a code is not accepted twice). Written by hand like 0005.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 14:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operators", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
