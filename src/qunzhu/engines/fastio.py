"""Bulk reads and writes for the daily recompute, through the driver's cursor.

The recompute reads hundreds of thousands of rollup rows and writes one row per member;
SQLAlchemy's per-row Result and parameter handling would cost more than the work itself.
Statements are still built with SQLAlchemy (so they are the same on SQLite and
PostgreSQL); only the rows bypass it. Column types are honoured: values go through each
column's bind processor and come back through its result processor.
(The recompute pauses the cyclic collector meanwhile: qunzhu.store.gc_pause.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Connection, Date, Select, Table

from qunzhu.store.base import UTCDateTime

_BATCH = 20_000


def _param(value: Any, sqlite: bool) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(" ") if sqlite else value
    if isinstance(value, date) and sqlite:
        return value.isoformat()
    return value


def memo(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Dates repeat (a few hundred days over a million rows), and so do the times of chat
    logs stamped to the minute (21,100 distinct over the 108,708 #ubuntu lines): parse each
    once."""
    seen: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        found = seen.get(value, seen)
        if found is seen:
            found = seen[value] = process(value)
        return found

    return cached


def _by_id(process: Callable[[Any], Any], seen: dict[int, Any]) -> Callable[[Any], Any]:
    """Encode each object once (by identity: equal dicts may still print apart, 1 and
    1.0), keeping what was encoded in ``seen``."""

    def encode(value: Any) -> Any:
        key = id(value)
        found = seen.get(key, seen)
        if found is seen:
            found = seen[key] = process(value)
        return found

    return encode


def _utc(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLite: a UTC time as SQLAlchemy writes it ("YYYY-MM-DD HH:MM:SS.ffffff") parsed in
    one call, several times faster than the column's chain of two; any other text goes
    through the column's own processor."""

    def parse(value: Any) -> Any:
        if type(value) is str and len(value) == 26:
            return datetime.fromisoformat(value + "+00:00")
        return process(value)

    return parse


def fetch_all(conn: Connection, stmt: Select[Any]) -> list[tuple[Any, ...]]:
    """All rows of ``stmt`` as tuples, each value converted by its column's type."""
    return convert_rows(*fetch_raw(conn, stmt))


def convert_rows(
    rows: Sequence[Any], converters: Sequence[Callable[[Any], Any] | None]
) -> list[tuple[Any, ...]]:
    """``rows`` as :func:`fetch_raw` gave them, each value converted by its column's
    converter (None: kept as it is)."""
    procs = [(i, p) for i, p in enumerate(converters) if p is not None]
    if not procs:
        return [tuple(r) for r in rows]
    out: list[tuple[Any, ...]] = []
    for r in rows:
        values = list(r)
        for i, process in procs:
            values[i] = process(values[i])
        out.append(tuple(values))
    return out


def fetch_raw(
    conn: Connection, stmt: Select[Any]
) -> tuple[list[Any], list[Callable[[Any], Any] | None]]:
    """All rows of ``stmt`` as the driver gives them, and for each column the function that
    converts its values as :func:`fetch_all` does (None: kept as they are), for a caller
    that builds its own objects from the rows in one pass."""
    dialect = conn.dialect
    sqlite = dialect.name == "sqlite"
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    raw_params = compiled.params
    params: Sequence[Any] | dict[str, Any]
    if compiled.positiontup is not None:
        params = [_param(raw_params[k], sqlite) for k in compiled.positiontup]
    else:
        params = {k: _param(v, sqlite) for k, v in raw_params.items()}
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        rows = cursor.fetchall()
        codes = [d[1] for d in cursor.description or ()]
    finally:
        cursor.close()
    converters: list[Callable[[Any], Any] | None] = [
        None
        if p is None
        else memo(p)
        if isinstance(c.type, Date)
        else memo(_utc(p))
        if sqlite and isinstance(c.type, UTCDateTime)
        else p
        for i, c in enumerate(stmt.selected_columns)
        for p in (c.type.dialect_impl(dialect).result_processor(dialect, codes[i]),)
    ]
    return rows, converters


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Iterable[dict[str, Any]],
    encoded: dict[int, Any] | None = None,
) -> int:
    """Insert plain rows (no conflict handling): executemany on SQLite, COPY on PostgreSQL.
    ``encoded``: JSON values encoded so far, by the object's id, for a caller that inserts
    rows sharing objects into two tables (a role and its history row share the reason); the
    caller keeps those objects alive meanwhile, so no id is reused."""
    items = list(rows)
    if not items:
        return 0
    columns = list(items[0])
    dialect = conn.dialect
    procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    # days and the run's time repeat on every row: each converted once (a stored time
    # depends only on the instant, which is what equal aware datetimes share)
    active = [
        (
            i,
            memo(p)
            if isinstance(table.c[c].type, Date | UTCDateTime)
            else _by_id(p, encoded)
            if encoded is not None and isinstance(table.c[c].type, JSON)
            else p,
        )
        for i, (c, p) in enumerate(zip(columns, procs, strict=True))
        if p is not None
    ]
    names = ", ".join(columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for start in range(0, len(items), _BATCH):
                    for values in _by_column(items[start : start + _BATCH], columns, active):
                        copy.write_row(values)
        else:
            sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"
            for start in range(0, len(items), _BATCH):
                cursor.executemany(sql, _by_column(items[start : start + _BATCH], columns, active))
    finally:
        cursor.close()
    return len(items)


def _by_column(
    rows: list[dict[str, Any]],
    columns: list[str],
    active: list[tuple[int, Callable[[Any], Any]]],
) -> list[tuple[Any, ...]]:
    """The rows as tuples of ``columns``, each active column's values converted: a column
    at a time (a loop of C calls for each, not a Python loop over each row's values). The
    same values as converting each row in turn (the converters are pure or memos)."""
    values = [[row[c] for row in rows] for c in columns]
    for i, process in active:
        values[i] = list(map(process, values[i]))
    return list(zip(*values, strict=True))
