"""PostgreSQL backups through the server's own tools: ``pg_dump -Fc`` and ``pg_restore``.

The store's URL is SQLAlchemy's (``postgresql+psycopg://…``); the tools get it as a libpq URL
without its password, which travels in ``PGPASSWORD`` — never on a command line (where
``ps`` shows it to every user of the machine) nor in anything printed. When the URL's
``options`` set a ``search_path``, the backup holds that schema alone (``-n``), and a restore
goes into the schema of the same name of the target database.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import URL, Connection, inspect, text
from sqlalchemy.engine import make_url

from qunzhu.settings import mask_url
from qunzhu.store.backup import (
    VERSION_TABLE,
    BackupError,
    BackupReport,
    Step,
    check_revision,
    has_rows,
    migrate_to_head,
    row_counts,
    stored_revision,
)
from qunzhu.store.session import make_engine

INSTALL_HINT = (
    "install the PostgreSQL client tools of the server's major version or newer "
    "(Debian/Ubuntu: apt install postgresql-client; macOS: brew install libpq) "
    "and put them on PATH"
)
_SEARCH_PATH = re.compile(r"search_path\s*=\s*\"?([^\s,\"]+)")
# one line of `pg_restore -l`: "215; 1259 16390 TABLE myschema members postgres"
_TOC_LINE = re.compile(
    r"^\d+; \d+ \d+ (?P<desc>TABLE DATA|SEQUENCE SET|SEQUENCE OWNED BY|FK CONSTRAINT|[A-Z]+) "
    r"(?P<schema>\S+) (?P<name>\S+)"
)


def libpq_url(url: str) -> tuple[str, dict[str, str]]:
    """The libpq form of a SQLAlchemy URL, and the environment that carries its password."""
    parsed = make_url(url)
    query = {k: v for k, v in parsed.query.items() if k != "password"}
    password = parsed.password or parsed.query.get("password")
    plain = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=query,
    )
    env = {"PGPASSWORD": str(password)} if password else {}
    return plain.render_as_string(hide_password=False), env


def url_schema(url: str) -> str | None:
    """The first schema of a ``search_path`` set in the URL's ``options``, if any."""
    options = make_url(url).query.get("options")
    found = _SEARCH_PATH.search(options if isinstance(options, str) else " ".join(options or ()))
    return found.group(1) if found else None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH: {INSTALL_HINT}")
    return found


def _run(args: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(
        args, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        lines = [mask_url(line) for line in done.stderr.strip().splitlines()[-3:]]
        raise BackupError(f"{what} failed: " + (" / ".join(lines) or f"exit {done.returncode}"))
    return done.stdout


def backup_postgres(url: str, dest: Path, *, step: Step) -> BackupReport:
    pg_dump = _tool("pg_dump")
    target, env = libpq_url(url)
    schema = url_schema(url)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    engine = make_engine(url)
    try:
        with (
            engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
            conn.begin(),
        ):
            # pg_dump reads the snapshot of this transaction: the rows counted here are
            # exactly the rows in the file, however busy the server is meanwhile
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            step("counting rows")
            revision, tables = stored_revision(conn), row_counts(conn)
            step("pg_dump")
            args = [pg_dump, "-Fc", f"--snapshot={snapshot}", "-f", str(partial)]
            args += ["-n", schema] if schema else []
            _run([*args, "-d", target], env, "pg_dump")
    finally:
        engine.dispose()
    os.replace(partial, dest)  # only a finished dump ever carries the name asked for
    return BackupReport(str(dest), dest.stat().st_size, "postgresql", revision, tables)


def _archive_contents(pg_restore: str, source: Path) -> list[tuple[str, str, str, str]]:
    """(line, kind, schema, name) of each entry of a pg_dump archive, or an error saying the
    file is not one."""
    try:
        listing = _run([pg_restore, "-l", str(source)], {}, "reading the archive")
    except BackupError:
        raise BackupError(
            f"{source} is not a pg_dump custom-format archive (made by `qunzhu backup` "
            "on PostgreSQL)"
        ) from None
    entries = []
    for line in listing.splitlines():
        found = _TOC_LINE.match(line)
        if found:
            entries.append((line, found["desc"], found["schema"], found["name"]))
    return entries


def _archive_revision(pg_restore: str, source: Path, schema: str) -> str | None:
    """The schema revision stored in the archive's alembic_version table."""
    script = _run(
        [pg_restore, "-a", "-n", schema, "-t", VERSION_TABLE, "-f", "-", str(source)],
        {},
        "reading the archive",
    )
    rows = (
        script.split(" FROM stdin;\n", 1)[1].split("\n\\.", 1)[0] if "FROM stdin" in script else ""
    )
    values = [row.strip() for row in rows.splitlines() if row.strip()]
    return values[0] if len(values) == 1 else None


def _clear(conn: Connection, schema: str) -> None:
    """Drop every table of ``schema``: what --force replaces (one transaction)."""
    for name in inspect(conn).get_table_names(schema=schema):
        conn.execute(text(f'DROP TABLE IF EXISTS "{schema}"."{name}" CASCADE'))


def restore_postgres(url: str, source: Path, *, force: bool, step: Step) -> BackupReport:
    pg_restore = _tool("pg_restore")
    step("checking the backup")
    entries = _archive_contents(pg_restore, source)
    homes = {
        schema for _, kind, schema, name in entries if kind == "TABLE" and name == VERSION_TABLE
    }
    if len(homes) != 1:
        raise BackupError(
            f"{source} is not a qunzhu database"
            if not homes
            else f"{source} holds qunzhu tables in several schemas ({', '.join(sorted(homes))})"
        )
    (home,) = homes
    revision = _archive_revision(pg_restore, source, home)
    check_revision(revision, source)
    assert revision is not None  # check_revision refused None
    wanted = url_schema(url) or "public"
    if wanted != home:
        raise BackupError(
            f"{source} holds the schema {home}; the database URL's search_path names {wanted}: "
            f"restore with options=-csearch_path={home} in the URL"
        )
    target, env = libpq_url(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            if has_rows(conn) and not force:
                raise BackupError(
                    f"the database {mask_url(url)} holds data in schema {home}: restoring "
                    "would replace it (use --force to replace it)"
                )
            step("clearing the target")
            schemas = {home} | {name for _, kind, _, name in entries if kind == "SCHEMA"}
            for schema in sorted(schemas):
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            _clear(conn, home)
        # schemas are made above, as the target's own user: the archive's schema entries
        # (with their owners and comments) are left out
        kept = [line for line, kind, *_ in entries if kind != "SCHEMA" and "- SCHEMA " not in line]
        with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as listing:
            listing.write("\n".join(kept) + "\n")
        step("pg_restore")
        try:
            _run(
                [
                    pg_restore,
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    "-L",
                    listing.name,
                    "-d",
                    target,
                    str(source),
                ],
                env,
                "pg_restore",
            )
        finally:
            os.unlink(listing.name)
        step("migrating")
        migrated_from = migrate_to_head(engine, revision)
        step("counting rows")
        with engine.connect() as conn:
            now, tables = stored_revision(conn), row_counts(conn)
    finally:
        engine.dispose()
    return BackupReport(
        str(source), source.stat().st_size, "postgresql", now, tables, migrated_from=migrated_from
    )
