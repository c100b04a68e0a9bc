"""Bulk inserts that skip rows already present, on SQLite and PostgreSQL.

On SQLite the writer holds the database lock (BEGIN IMMEDIATE), so "which keys exist"
followed by a raw ``executemany`` is race-free and several times faster than SQLAlchemy's
per-row parameter handling. On PostgreSQL, where workers run side by side, the database
itself decides with ``ON CONFLICT DO NOTHING RETURNING``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Table, UniqueConstraint, func, select
from sqlalchemy.dialects import postgresql, sqlite

from qunzhu.store.base import UTCDateTime

_CHUNK = 5000


def insert_ignoring_conflicts(
    conn: Connection, table: Table, rows: list[dict[str, Any]], *returning: Any
) -> list[Any]:
    """Insert rows, skipping those that hit a unique constraint; return the inserted rows."""
    if not rows:
        return []
    if conn.dialect.name == "sqlite" and not returning:
        columns = list(rows[0])
        raw_executemany(
            conn,
            f"INSERT OR IGNORE INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            _db_values(conn, table, columns, rows),
        )
        return []
    if (
        conn.dialect.name == "sqlite"
        and _only_key(table, returning)
        and returning[0].name in rows[0]
    ):
        return _insert_new_keys(conn, table, rows, returning[0].name)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing()
    if returning:
        return list(conn.execute(stmt.returning(*returning), rows))
    conn.execute(stmt, rows)
    return []


def _only_key(table: Table, returning: tuple[Any, ...]) -> bool:
    """The caller wants back the inserted rows' primary key, the table's only unique key."""
    if len(returning) != 1 or list(table.primary_key.columns) != [returning[0]]:
        return False
    uniques = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    return not uniques and not any(i.unique for i in table.indexes)


def _insert_new_keys(
    conn: Connection, table: Table, rows: list[dict[str, Any]], key: str
) -> list[Any]:
    """SQLite: the keys already there, then one raw ``executemany`` of the others (the
    writer holds the lock, see the module's doc) instead of SQLAlchemy's per-row
    parameter handling of an ``INSERT .. RETURNING``."""
    wanted = list(dict.fromkeys(r[key] for r in rows))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    there: set[Any] = set()
    try:
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ", ".join("?" * len(part))
            sql = f"SELECT {key} FROM {table.name} WHERE {key} IN ({marks})"
            there.update(k for (k,) in cursor.execute(sql, part))
    finally:
        cursor.close()
    new = [r for r in rows if r[key] not in there]
    if new:
        columns = list(new[0])
        raw_executemany(
            conn,
            f"INSERT OR IGNORE INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            _db_values(conn, table, columns, new),
        )
    row = _key_row(key)
    return [row(k) for k in wanted if k not in there]


def insert_new_values(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    values: list[tuple[Any, ...]],
    *,
    absent: bool = False,
) -> list[Any]:
    """SQLite: :func:`insert_ignoring_conflicts` returning the primary key, for callers
    that have rows of database values in ``columns`` order already (the key first); returns
    the keys inserted now. ``absent``: the caller knows no key is stored yet (it read them
    as missing in this transaction): no look-up, and a plain INSERT, which fails rather than
    skip a row should one be there after all."""
    key = columns[0]
    if absent:
        raw_executemany(
            conn,
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            values,
        )
        return [v[0] for v in values]
    wanted = list(dict.fromkeys(v[0] for v in values))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    there: set[Any] = set()
    try:
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ", ".join("?" * len(part))
            sql = f"SELECT {key} FROM {table.name} WHERE {key} IN ({marks})"
            there.update(k for (k,) in cursor.execute(sql, part))
    finally:
        cursor.close()
    new = [v for v in values if v[0] not in there] if there else values
    if new:
        raw_executemany(
            conn,
            f"INSERT OR IGNORE INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})",
            new,
        )
    return [k for k in wanted if k not in there]


@cache
def _key_row(key: str) -> Any:
    """Rows as RETURNING gives them: by position or by name."""
    return namedtuple("Inserted", [key])


def upsert_adding(
    conn: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    keys: tuple[str, ...],
    counters: tuple[str, ...],
) -> None:
    """Insert rows or add their counters onto the existing row (rollups)."""
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        columns = list(rows[0])
        raw_executemany(
            conn,
            upsert_adding_sql(table, columns, keys, counters),
            _db_values(conn, table, columns, rows),
        )
        return
    stmt = postgresql.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: table.c[c] + stmt.excluded[c] for c in counters},
    )
    conn.execute(stmt, rows)


def upsert_adding_sql(
    table: Table, columns: list[str], keys: tuple[str, ...], counters: tuple[str, ...]
) -> str:
    """SQLite: the statement of :func:`upsert_adding`, for callers with rows of database
    values in ``columns`` order already (``raw_executemany``)."""
    adds = ", ".join(f"{c} = {c} + excluded.{c}" for c in counters)
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}"
    )


def raw_executemany(conn: Connection, sql: str, params: Sequence[Sequence[Any]]) -> None:
    """SQLite: the driver's own executemany, sparing SQLAlchemy's per-row parameter work
    (the connection is already inside this unit of work's transaction)."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, params)
    finally:
        cursor.close()


def _sqlite_datetime(value: datetime | None) -> str | None:
    # the very text SQLAlchemy's SQLite DATETIME writes ("YYYY-MM-DD HH:MM:SS.ffffff"), so
    # both paths sort and compare alike; isoformat is the fastest way there
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
    text = value.isoformat(" ")[:-6]  # drop "+00:00"
    return text if value.microsecond else text + ".000000"


def _processors(
    conn: Connection, table: Table, columns: list[str]
) -> list[Callable[[Any], Any] | None]:
    out: list[Callable[[Any], Any] | None] = []
    for name in columns:
        column_type = table.c[name].type
        if conn.dialect.name == "sqlite" and isinstance(column_type, UTCDateTime):
            out.append(_sqlite_datetime)  # one call instead of a chain of two
        elif isinstance(column_type, Boolean):
            out.append(None)  # both drivers take Python bools as they are
        else:
            process = column_type.bind_processor(conn.dialect)
            if isinstance(column_type, JSON) and process is not None:
                out.append(_with_null(process))
            else:
                out.append(process)
    return out


def _with_null(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # most payloads are absent: serialize "no payload" once, not once per row
    null = process(None)
    return lambda value: null if value is None else process(value)


def _scalar_default(table: Table, name: str) -> Any:
    """A column the caller left out gets its model's plain default, or NULL: the raw
    executemany and COPY paths bypass SQLAlchemy's own default handling."""
    default = table.c[name].default
    arg = getattr(default, "arg", None)
    if arg is None:
        return None
    if callable(arg):
        return arg(None)
    return arg


def _db_values(
    conn: Connection, table: Table, columns: list[str], rows: list[dict[str, Any]]
) -> list[list[Any]]:
    """Rows as lists of database values, converted by the columns' own types."""
    converted = [(i, p) for i, p in enumerate(_processors(conn, table, columns)) if p]
    getter = itemgetter(*columns)
    absent = {name: _scalar_default(table, name) for name in columns if name not in rows[0]}
    out: list[list[Any]] = []
    for r in rows:
        values = list(getter({**absent, **r} if absent else r))
        for i, p in converted:
            values[i] = p(values[i])
        out.append(values)
    return out


def _copy_new_by_key(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> dict[str, int]:
    """PostgreSQL: COPY into a session-local staging table, then let ON CONFLICT decide."""
    columns = [c.name for c in table.columns if c.name != "id"]
    names = ", ".join(columns)
    stage = f"_stage_{table.name}"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS "
            f"SELECT {names} FROM {table.name} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {stage}")
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for values in _db_values(conn, table, columns, rows):
                copy.write_row(values)
        # DISTINCT ON keeps one row per key should a chunk carry the same key twice
        cursor.execute(
            f"INSERT INTO {table.name} ({names}) SELECT DISTINCT ON (community_id, key) {names} "
            f"FROM {stage} ON CONFLICT DO NOTHING RETURNING key, id"
        )
        return {k: int(i) for k, i in cursor.fetchall()}
    finally:
        cursor.close()


def insert_new_by_key(
    conn: Connection, table: Table, rows: list[dict[str, Any]], scope: str = "community_id"
) -> dict[str, int]:
    """Insert rows whose (scope, key) is not yet stored; return {key: new id}."""
    if not rows:
        return {}
    if conn.dialect.name == "postgresql":
        return _copy_new_by_key(conn, table, rows)
    existing: set[str] = set()
    scopes = sorted({r[scope] for r in rows})
    keys = [r["key"] for r in rows]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        # plain SQL: compiling an IN of thousands of bound literals costs more than the query
        for start in range(0, len(keys), _CHUNK):
            part = keys[start : start + _CHUNK]
            cursor.execute(
                f"SELECT key FROM {table.name} WHERE {scope} IN ({', '.join('?' * len(scopes))}) "
                f"AND key IN ({', '.join('?' * len(part))})",
                [*scopes, *part],
            )
            existing.update(k for (k,) in cursor.fetchall())
    finally:
        cursor.close()
    fresh = [r for r in rows if r["key"] not in existing]
    if not fresh:
        return {}
    columns = [c.name for c in table.columns if c.name != "id"]
    params = _db_values(conn, table, columns, fresh)
    first = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    raw_executemany(conn, sql, params)
    # INTEGER PRIMARY KEY without AUTOINCREMENT takes max(id) + 1, and we hold the write lock
    last = conn.execute(select(func.max(table.c.id))).scalar()
    if last != first + len(fresh) - 1:
        raise RuntimeError(f"{table.name}: ids not consecutive ({first}..{last})")
    return {r["key"]: first + i for i, r in enumerate(fresh)}
