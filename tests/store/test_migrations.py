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
    # an operator's sessions are theirs, not a community's (owners reach them through roles)
    exempt = {"communities", "operators", "operator_roles", "api_tokens", "operator_sessions"}
    for name, table in Base.metadata.tables.items():
        if name in exempt:
            continue
        assert "community_id" in table.c, f"{name} has no community_id"


def test_migrations_alone_build_what_the_models_describe(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from qunzhu.store import make_engine
    from qunzhu.store.library import include_name
    from qunzhu.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == [], "models changed without a migration"


def test_operator_totp_migration_downgrades_and_upgrades_keeping_operators(store):
    from alembic import command

    from qunzhu.store.migrate import alembic_config
    from qunzhu.store.models import Operator

    with store.unit_of_work() as session:
        session.add(Operator(username="mia", display_name="Mia", password_hash="x"))

    def run(step, revision: str) -> None:
        config = alembic_config()
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    run(command.downgrade, "0005")
    columns = {c["name"] for c in inspect(store.engine).get_columns("operators")}
    assert "totp_secret" not in columns and "totp_last_step" not in columns
    run(command.upgrade, "head")
    assert is_current(store.engine)
    columns = {c["name"] for c in inspect(store.engine).get_columns("operators")}
    assert {"totp_secret", "totp_last_step"} <= columns
    with store.reading() as session:
        assert [o.username for o in session.query(Operator)] == ["mia"]


def test_operator_sessions_and_amounts_migration_downgrades_and_upgrades(store):
    from alembic import command

    from qunzhu.store.migrate import alembic_config
    from qunzhu.store.models import Operator

    with store.unit_of_work() as session:
        session.add(Operator(username="mia", display_name="Mia", password_hash="x"))

    def run(step, revision: str) -> None:
        config = alembic_config()
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    def amount_types() -> set[str]:
        found = set()
        for table, column in (
            ("orders", "amount_cents"),
            ("payments", "amount_cents"),
            ("group_daily", "payments_cents"),
        ):
            columns = {c["name"]: c["type"] for c in inspect(store.engine).get_columns(table)}
            found.add(type(columns[column]).__name__.upper())
        return found

    sqlite = store.engine.dialect.name == "sqlite"  # INTEGER is 64-bit there: left alone
    run(command.downgrade, "0006")
    assert "operator_sessions" not in inspect(store.engine).get_table_names()
    assert amount_types() == {"INTEGER"}
    run(command.upgrade, "head")
    assert current_revision(store.engine) == head_revision()
    assert "operator_sessions" in inspect(store.engine).get_table_names()
    assert amount_types() == ({"INTEGER"} if sqlite else {"BIGINT"})
    with store.reading() as session:
        assert [o.username for o in session.query(Operator)] == ["mia"]


def test_member_bots_migration_downgrades_and_upgrades_keeping_members(store):
    from alembic import command

    from qunzhu.store.migrate import alembic_config
    from qunzhu.store.models import Community, Identity, Member

    with store.unit_of_work() as session:
        community = Community(slug="bots", name="Bots")
        session.add(community)
        session.flush()
        member = Member(community_id=community.id, display_name="helper")
        session.add(member)
        session.flush()
        session.add(
            Identity(
                community_id=community.id,
                member_id=member.id,
                platform="telegram",
                platform_user_id="42",
            )
        )

    def run(step, revision: str) -> None:
        config = alembic_config()
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    run(command.downgrade, "0007")
    columns = {c["name"] for c in inspect(store.engine).get_columns("members")}
    assert "is_bot" not in columns and "bot_marked_by" not in columns
    run(command.upgrade, "head")
    assert is_current(store.engine)
    with store.reading() as session:
        assert [(m.display_name, m.is_bot) for m in session.query(Member)] == [("helper", False)]
        assert session.query(Identity).count() == 1  # not taken by a cascade on the way
