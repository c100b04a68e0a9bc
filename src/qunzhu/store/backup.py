"""Backups of the whole store, and restoring one: SQLite through its online backup API,
PostgreSQL through ``pg_dump``/``pg_restore`` (store/backup_postgres.py).

Both leave a running ``qunzhu serve`` alone while they copy: SQLite's backup reads one
consistent snapshot beside the writer (WAL), pg_dump one snapshot of its own. A restore
checks that the file is a qunzhu database at a schema revision this code knows, refuses to
replace a database that holds rows unless forced, and migrates the result to the newest
schema.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from qunzhu.store.migrate import alembic_config, head_revision, upgrade
from qunzhu.store.session import make_engine

Step = Callable[[str], None]
"""Told each phase of the work as it begins (a spinner shows it)."""

VERSION_TABLE = "alembic_version"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    """What a backup wrote or a restore put in place."""

    path: str
    bytes: int
    backend: str
    revision: str | None
    tables: dict[str, int] = field(default_factory=dict)
    migrated_from: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "bytes": self.bytes,
            "backend": self.backend,
            "revision": self.revision,
            "migrated_from": self.migrated_from,
            "tables": self.tables,
            "rows": sum(self.tables.values()),
        }


def _quiet(_phase: str) -> None:
    return None


def backup(url: str, dest: Path, *, step: Step = _quiet) -> BackupReport:
    """Copy the database at ``url`` into the file ``dest`` (replaced when it exists)."""
    if url.startswith("sqlite"):
        return backup_sqlite(url, dest, step=step)
    from qunzhu.store.backup_postgres import backup_postgres

    return backup_postgres(url, dest, step=step)


def restore(url: str, source: Path, *, force: bool = False, step: Step = _quiet) -> BackupReport:
    """Put the backup ``source`` in place of the database at ``url``."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if url.startswith("sqlite"):
        return restore_sqlite(url, source, force=force, step=step)
    from qunzhu.store.backup_postgres import restore_postgres

    return restore_postgres(url, source, force=force, step=step)


# -- shared by both backends ------------------------------------------------------------


def row_counts(connection: Connection) -> dict[str, int]:
    """Rows of every table of the connection's schema, by table name."""
    names = sorted(inspect(connection).get_table_names())
    return {
        name: int(connection.execute(select(func.count()).select_from(table(name))).scalar_one())
        for name in names
    }


def has_rows(connection: Connection) -> bool:
    """Whether any table but the schema version holds a row: a database worth keeping."""
    for name in inspect(connection).get_table_names():
        if name == VERSION_TABLE:
            continue
        if connection.execute(select(1).select_from(table(name)).limit(1)).first() is not None:
            return True
    return False


def stored_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def check_revision(revision: str | None, source: Path) -> None:
    """Refuse a file that is not a qunzhu database, or one of a schema this code does not
    know (made by a newer qunzhu: restore it with that version)."""
    if revision is None:
        raise BackupError(f"{source} is not a qunzhu database (it has no schema revision)")
    known = {
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    }
    if revision not in known:
        raise BackupError(
            f"{source} is at schema revision {revision}, unknown to this qunzhu "
            f"(newest known {head_revision()}): restore it with the qunzhu that made it"
        )


def migrate_to_head(engine: Engine, revision: str) -> str | None:
    """Migrate a restored database written by an older qunzhu; the revision it had, if so."""
    if revision == head_revision():
        return None
    upgrade(engine)
    return revision


# -- SQLite -----------------------------------------------------------------------------


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError("an in-memory SQLite database has nothing to back up or restore")
    return Path(database)


def _file_engine(path: Path) -> Engine:
    """A plain engine on one SQLite file: none of the store's pragmas (no WAL switched on)."""
    return create_engine("sqlite://", creator=lambda: sqlite3.connect(path))


def _describe_sqlite(path: Path) -> tuple[str | None, dict[str, int]]:
    engine = _file_engine(path)
    try:
        with engine.connect() as connection:
            return stored_revision(connection), row_counts(connection)
    except DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database ({exc.orig})") from None
    finally:
        engine.dispose()


def backup_sqlite(url: str, dest: Path, *, step: Step = _quiet) -> BackupReport:
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"no SQLite database at {source_path}")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    step("copying")
    source = sqlite3.connect(source_path)
    try:
        target = sqlite3.connect(partial)
        try:
            # One step (pages=-1): a read transaction over the whole copy, so it is one
            # consistent snapshot. In WAL mode the writer goes on meanwhile; a copy in steps
            # would start over after each of the writer's commits, and under a busy
            # `qunzhu serve` might never finish.
            source.backup(target)
            # one self-contained file: no -wal beside it
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()
    step("counting rows")
    revision, tables = _describe_sqlite(partial)
    os.replace(partial, dest)  # only a finished copy ever carries the name asked for
    return BackupReport(str(dest), dest.stat().st_size, "sqlite", revision, tables)


def restore_sqlite(
    url: str, source: Path, *, force: bool = False, step: Step = _quiet
) -> BackupReport:
    target_path = sqlite_path(url)
    step("checking the backup")
    revision, _ = _describe_sqlite(source)
    check_revision(revision, source)
    assert revision is not None  # check_revision refused None
    if target_path.exists() and not force:
        engine = _file_engine(target_path)
        try:
            with engine.connect() as connection:
                keep = has_rows(connection)
        finally:
            engine.dispose()
        if keep:
            raise BackupError(
                f"the database {target_path} holds data: restoring would replace it "
                "(use --force to replace it)"
            )
    step("copying")
    reader = sqlite3.connect(source)
    try:
        writer = sqlite3.connect(target_path)
        try:
            # out of WAL for the copy: into a WAL database the backup API cannot change the
            # page size, and the backup's pages may be of another size than the target's
            writer.execute("PRAGMA journal_mode=DELETE")
            reader.backup(writer)
            writer.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            raise BackupError(
                f"the database {target_path} is in use ({exc}): stop `qunzhu serve` and "
                "workers, then restore"
            ) from None
        finally:
            writer.close()
    finally:
        reader.close()
    engine = make_engine(url)
    try:
        step("migrating")
        migrated_from = migrate_to_head(engine, revision)
        step("counting rows")
        with engine.connect() as connection:
            now, tables = stored_revision(connection), row_counts(connection)
    finally:
        engine.dispose()
    return BackupReport(
        str(source), source.stat().st_size, "sqlite", now, tables, migrated_from=migrated_from
    )
