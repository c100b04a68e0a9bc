"""library items

The content library (``library_items``) and, on SQLite, its search index: an FTS5 table with
the trigram tokenizer over ``search_text`` (external content, kept in step by triggers; it
needs SQLite 3.34 or later, else search reads the table with LIKE). PostgreSQL gets no
search index: see qunzhu.readmodels.library for why. Written by hand like 0006.

Revision ID: 0011
Revises: 0012 (numbered before it, merged after it)
Create Date: 2026-12-06 19:00:00.000000
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa
from alembic import op

import qunzhu.store.base

revision = "0011"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_SQLITE_TRIGGERS = (
    """CREATE TRIGGER library_fts_after_insert AFTER INSERT ON library_items BEGIN
        INSERT INTO library_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    """CREATE TRIGGER library_fts_after_delete AFTER DELETE ON library_items BEGIN
        INSERT INTO library_fts(library_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END""",
    """CREATE TRIGGER library_fts_after_update AFTER UPDATE ON library_items BEGIN
        INSERT INTO library_fts(library_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO library_fts(rowid, search_text) VALUES (new.id, new.search_text);
    END""",
)


def _fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{table}.id"],
        name=op.f(f"fk_library_items_{column}_{table}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "library_items",
        sa.Column("id", _ID, nullable=False),
        sa.Column("community_id", _ID, nullable=False),
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("member_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("posted_at", qunzhu.store.base.UTCDateTime(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", qunzhu.store.base.UTCDateTime(), nullable=False),
        _fk("community_id", "communities"),
        _fk("group_id", "groups"),
        _fk("member_id", "members"),
        _fk("message_id", "messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_items")),
        sa.UniqueConstraint(
            "community_id", "message_id", name=op.f("uq_library_items_community_id_message_id")
        ),
    )
    with op.batch_alter_table("library_items", schema=None) as batch_op:
        batch_op.create_index("ix_library_items_listing", ["community_id", "status", "posted_at"])
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        if sqlite3.sqlite_version_info < (3, 34):  # no trigram tokenizer: search by LIKE
            return
        op.execute(
            "CREATE VIRTUAL TABLE library_fts USING fts5(search_text, content='library_items',"
            " content_rowid='id', tokenize='trigram')"
        )
        for trigger in _SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS library_fts_after_{name}")
        op.execute("DROP TABLE IF EXISTS library_fts")
    op.drop_table("library_items")
