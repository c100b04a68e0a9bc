"""SQLite databases the store makes: their page size, and older ones left as they are."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from qunzhu.store.session import SQLITE_PAGE_BYTES, make_engine


def _page_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_database_gets_the_larger_pages(tmp_path: Path):
    path = tmp_path / "new.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert _page_size(path) == SQLITE_PAGE_BYTES != 4096


def test_an_existing_database_keeps_its_pages_and_its_rows(tmp_path: Path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(100)])
    before = _page_size(path)
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (100)"))
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 101
    engine.dispose()
    assert _page_size(path) == before
