"""The reply index of `messages` holds replies only (revision 0005), on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from qunzhu.importing import import_file
from qunzhu.store.migrate import alembic_config, current_revision, head_revision, upgrade


def _reply_index(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = "SELECT sql FROM sqlite_master WHERE name = 'ix_messages_reply_to_id'"
        else:
            sql = (
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_messages_reply_to_id' "
                "AND schemaname = current_schema()"
            )
        return str(conn.execute(text(sql)).scalar_one())


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_the_reply_index_skips_messages_that_reply_to_nothing(store):
    assert "reply_to_id IS NOT NULL" in _reply_index(store.engine)


def test_0005_keeps_the_messages_and_downgrades_to_a_full_index(sqlite_store, tmp_path):
    engine = sqlite_store.engine
    log = tmp_path / "2024-05-01.log"
    log.write_text(
        "[10:00] <ann> hello all\n[10:01] <bob> ann: hi there\n[10:02] <ann> bob: welcome\n",
        encoding="utf-8",
    )
    first = import_file(sqlite_store, log, community="c", group="g", tz="UTC")
    assert first["added"] == 3
    _downgrade(engine, "0004")
    assert current_revision(engine) == "0004"
    assert "WHERE" not in _reply_index(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()  # 0005 and what came after it
    assert "reply_to_id IS NOT NULL" in _reply_index(engine)
    assert import_file(sqlite_store, log, community="c", group="g", tz="UTC")["added"] == 0
    with engine.connect() as conn:
        replies = conn.execute(
            text("SELECT count(*) FROM messages WHERE reply_to_id IS NOT NULL")
        ).scalar_one()
        plan = conn.execute(
            text("EXPLAIN QUERY PLAN SELECT id FROM messages WHERE reply_to_id IN (1, 2)")
        ).all()
    assert replies == 2
    assert "ix_messages_reply_to_id" in str(plan)
