from __future__ import annotations

from sqlalchemy import inspect

from qunzhu.store.migrate import current_revision, head_revision, is_current
from qunzhu.store.models import Base


def test_migrations_reach_head_and_match_the_models(store):
    assert is_current(store.engine)
    assert current_revision(store.engine) == head_revision()
    tables = set(inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_every_community_table_carries_the_community_id():
    exempt = {"communities", "operators", "operator_roles", "api_tokens"}
    for name, table in Base.metadata.tables.items():
        if name in exempt:
            continue
        assert "community_id" in table.c, f"{name} has no community_id"


def test_migrations_alone_build_what_the_models_describe(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from qunzhu.store import make_engine
    from qunzhu.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], "models changed without a migration"
