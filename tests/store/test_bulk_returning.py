"""insert_ignoring_conflicts returns the rows it inserted, on SQLite's raw path as through
SQLAlchemy's INSERT .. RETURNING."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    select,
)

from qunzhu.store.bulk import insert_ignoring_conflicts, insert_new_values

meta = MetaData()
keyed = Table(
    "keyed",
    meta,
    Column("k", Integer, primary_key=True, autoincrement=False),
    Column("points", JSON, nullable=False),
    Column("flag", Boolean, nullable=False),
)
also_unique = Table(
    "also_unique",
    meta,
    Column("k", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False),
    UniqueConstraint("name"),
)


def test_only_the_new_keys_come_back_by_position_and_by_name() -> None:
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with engine.begin() as conn:
        first = insert_ignoring_conflicts(
            conn, keyed, [{"k": 1, "points": {"a": 1}, "flag": True}], keyed.c.k
        )
        assert [r.k for r in first] == [1]
        rows = [
            {"k": 1, "points": {"a": 9}, "flag": False},  # there already: kept as it was
            {"k": 2, "points": {"b": 2}, "flag": False},
            {"k": 2, "points": {"b": 3}, "flag": True},  # twice in one call: the first wins
            {"k": 3, "points": {}, "flag": True},
        ]
        again = insert_ignoring_conflicts(conn, keyed, rows, keyed.c.k)
        assert [k for (k,) in again] == [2, 3]
        stored = conn.execute(select(keyed).order_by(keyed.c.k)).all()
    assert [tuple(r) for r in stored] == [(1, {"a": 1}, True), (2, {"b": 2}, False), (3, {}, True)]


def test_a_table_with_another_unique_key_goes_through_returning() -> None:
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with engine.begin() as conn:
        insert_ignoring_conflicts(conn, also_unique, [{"k": 1, "name": "a"}], also_unique.c.k)
        rows = [{"k": 2, "name": "a"}, {"k": 3, "name": "c"}]  # k=2 clashes on the name
        got = insert_ignoring_conflicts(conn, also_unique, rows, also_unique.c.k)
    assert [r.k for r in got] == [3]


def test_new_values_of_absent_keys_are_inserted_without_a_look_up_and_never_skipped() -> None:
    engine = create_engine("sqlite://")
    meta.create_all(engine)
    with engine.begin() as conn:
        columns = ("k", "points", "flag")
        assert insert_new_values(conn, keyed, columns, [(1, "{}", True)]) == [1]
        # the look-up path skips a stored key; the caller that says none is stored gets
        # all its keys back, and an error rather than a silent skip if one was there
        assert insert_new_values(conn, keyed, columns, [(1, "{}", 0), (2, "[]", 0)]) == [2]
        got = insert_new_values(conn, keyed, columns, [(3, "{}", 1), (4, "{}", 0)], absent=True)
        assert got == [3, 4]
        with pytest.raises(sqlite3.IntegrityError):  # the driver's own: a raw executemany
            insert_new_values(conn, keyed, columns, [(4, "{}", 1)], absent=True)
        stored = conn.execute(select(keyed.c.k).order_by(keyed.c.k)).scalars().all()
    assert stored == [1, 2, 3, 4]
