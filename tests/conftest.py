"""Shared fixtures: settings, a fresh database per test (SQLite, and PostgreSQL when there),
the real data in ../shared/data, and the CLI runner.

PostgreSQL and Redis tests run when the servers answer. Without them they skip and say
why; with ``QUNZHU_REQUIRE_SERVICES=1`` (set by .ci/run) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from qunzhu.settings import Settings, load_settings
from qunzhu.store import Store, make_engine
from qunzhu.store.migrate import upgrade
from qunzhu.store.models import Base

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
PG_URL = os.environ.get(
    "QUNZHU_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("QUNZHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_SERVICES = os.environ.get("QUNZHU_REQUIRE_SERVICES") == "1"


def _unavailable(what: str, why: str) -> None:
    message = f"{what} not available ({why})"
    if REQUIRE_SERVICES:
        pytest.fail(message + "; QUNZHU_REQUIRE_SERVICES=1 demands it", pytrace=False)
    pytest.skip(message)


def _migrate(engine: Engine) -> None:
    """Migrate, then create tables whose migration is not written yet (work in progress);
    tests/store/test_migrations.py checks the migrations alone reach the models."""
    upgrade(engine)
    Base.metadata.create_all(engine)


def _worker() -> str:
    # unique per process: pytest runs side by side (xdist workers, or people) share the server
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


@pytest.fixture(scope="session", autouse=True)
def _own_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The default database lives in the user's data directory: no test may touch the real
    one, nor a child process a test starts (hence os.environ, not monkeypatch)."""
    before = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    yield
    if before is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = before


# argon2 at its production cost (64 MiB a hash, a third of a second of CPU) took 10-15 s of
# the suite; 64 KiB keeps the algorithm and every code path. Set for child processes too.
# tests/auth/test_auth_credentials.py proves that without it the production cost is used.
TEST_PASSWORD_HASH_MEMORY_KIB = "64"


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    before = os.environ.get("QUNZHU_PASSWORD_HASH_MEMORY_KIB")
    os.environ["QUNZHU_PASSWORD_HASH_MEMORY_KIB"] = TEST_PASSWORD_HASH_MEMORY_KIB
    yield
    if before is None:
        os.environ.pop("QUNZHU_PASSWORD_HASH_MEMORY_KIB", None)
    else:
        os.environ["QUNZHU_PASSWORD_HASH_MEMORY_KIB"] = before


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test: migrations run once per session."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    _migrate(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """The sample community as ``load_demo(store)`` leaves it (ending today, default settings:
    language zh-CN, default chunk size) in a migrated SQLite file, loaded once per session and
    worker: copy it with shutil.copyfile, never open it. Loading takes minutes; a copy does not."""
    from qunzhu.demo import load_demo

    path = tmp_path_factory.mktemp("demo-template") / "demo.db"
    shutil.copyfile(sqlite_template, path)
    store = Store(
        load_settings(database_url=f"sqlite:///{path}", secret_key="d" * 40, sample_data=False)
    )
    load_demo(store)
    store.dispose()  # closing the last connection checkpoints the WAL into the file
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or not wal.stat().st_size, "a copy of the main file must be whole"
    return path


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str | None]:
    """A schema of our own on the PostgreSQL server, migrated once per session and worker."""
    schema = f"qz_test_{_worker()}"
    try:
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # any failure to reach the server means: not available here
        yield None if not str(exc) else f"!{type(exc).__name__}: {str(exc).splitlines()[0]}"
        return
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    _migrate(engine)
    engine.dispose()
    yield url
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _fresh_db_url(request: pytest.FixtureRequest, directory: Path, sqlite_template: Path) -> str:
    """A migrated, empty database of the kind ``request.param`` names."""
    if request.param == "sqlite":
        path = directory / "qunzhu.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_schema_url")
    if url is None or url.startswith("!"):
        _unavailable("PostgreSQL", (url or "!unreachable")[1:] + f" at {PG_URL}")
    _truncate_all(str(url))  # here, not in `store`: CLI and API tests reach the database too
    return str(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated database for one test; each test runs on both backends."""
    return _fresh_db_url(request, tmp_path, sqlite_template)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> str:
    """A fresh, migrated database shared by the tests of one module, on both backends: for
    a module whose tests only read what its fixtures made (or say why sharing is safe).
    PostgreSQL's is the worker's schema, emptied again by the next test that asks for one:
    pytest ends a module's fixtures before it runs another module's tests."""
    return _fresh_db_url(request, tmp_path_factory.mktemp("module-db"), sqlite_template)


def settings_for(database_url: str) -> Settings:
    """The settings of the ``settings`` fixture, for a database made elsewhere."""
    return load_settings(
        database_url=database_url, secret_key="t" * 40, sample_data=False, import_chunk_size=500
    )


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return settings_for(db_url)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    store = Store(settings)
    yield store
    store.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path, sqlite_template: Path) -> Iterator[Store]:
    """SQLite only: for tests about the embedded default itself."""
    path = tmp_path / "qunzhu.db"
    shutil.copyfile(sqlite_template, path)
    store = Store(
        load_settings(database_url=f"sqlite:///{path}", secret_key="t" * 40, sample_data=False)
    )
    yield store
    store.dispose()


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        _unavailable("Redis", f"{type(exc).__name__} at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the real data set is not here ({SHARED_DATA}); CI has it")
    return SHARED_DATA


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment that points the CLI at this test's database."""
    env = {
        "QUNZHU_DATABASE_URL": settings.database_url,
        "QUNZHU_SECRET_KEY": "t" * 40,
        "QUNZHU_SAMPLE_DATA": "false",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def add_member(store: Store, community: str, user: str, *, protected: bool = False) -> int:
    """A member of ``community`` (a slug) with the Telegram identity ``user``; its id."""
    from sqlalchemy import select

    from qunzhu.store.models import Community, Identity, Member

    with store.unit_of_work() as session:
        cid = session.execute(select(Community.id).where(Community.slug == community)).scalar_one()
        member = Member(community_id=cid, display_name=user, protected=protected)
        session.add(member)
        session.flush()
        session.add(
            Identity(
                community_id=cid, member_id=member.id, platform="telegram", platform_user_id=user
            )
        )
        return int(member.id)


@pytest.fixture(scope="session")
def pg_restore_database() -> Iterator[str]:
    """A second PostgreSQL database, made once per session and worker: a restore's target
    (dropping a database takes seconds, dropping a schema in it does not)."""
    name = f"qz_restore_{_worker()}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield name
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def empty_db_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database of ``db_url``'s kind with nothing in it (a restore's target): a new SQLite
    file, or on PostgreSQL another database whose URL names the same schema as ``db_url``,
    which does not exist there yet."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}"
    from sqlalchemy.engine import make_url

    url = make_url(db_url).set(database=request.getfixturevalue("pg_restore_database"))
    schema = f"qz_test_{_worker()}"  # the schema of pg_schema_url
    engine = make_engine(url.set(query={}).render_as_string(hide_password=False))
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()
    return url.render_as_string(hide_password=False)


def table_checksums(url: str) -> dict[str, tuple[int, str]]:
    """Rows and a sha256 over the rows, ordered by primary key, of every table at ``url``."""
    import hashlib

    from sqlalchemy import MetaData, select

    engine = make_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, tuple[int, str]] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            digest, count = hashlib.sha256(), 0
            for row in conn.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
                count += 1
            out[name] = (count, digest.hexdigest())
    engine.dispose()
    return out


def run_coroutine(coroutine: Any) -> Any:
    """``asyncio.run`` on a thread of its own: in a test worker that ran the browser tests,
    Playwright's sync API keeps an event loop running on the main thread."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


sys.modules.setdefault("qunzhu_tests", sys.modules[__name__])
