"""Backups and restores on SQLite and PostgreSQL: every table comes back row for row."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from qunzhu_tests import table_checksums
from sqlalchemy import func, select, text

from qunzhu.events import event_from_json
from qunzhu.pipeline import Pipeline
from qunzhu.store import Store, make_engine
from qunzhu.store.backup import BackupError, backup, restore
from qunzhu.store.backup_postgres import libpq_url, url_schema
from qunzhu.store.connectors import OutboxAction
from qunzhu.store.migrate import current_revision, head_revision
from qunzhu.store.models import Community, Member

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def load_small_community(store: Store) -> None:
    """A community with members, messages (with 中文 and emoji), joins and outbox rows."""
    with store.unit_of_work() as session:
        session.add(Community(slug="acme", name="栗子读书会"))
    events = []
    for n in range(40):
        when = (START + timedelta(minutes=n)).isoformat()
        member = f"u{n % 6}"
        if n < 6:
            events.append(
                {
                    "type": "member_joined",
                    "platform": "telegram",
                    "community": "acme",
                    "group": "g1",
                    "member": member,
                    "occurred_at": when,
                }
            )
        events.append(
            {
                "type": "message_posted",
                "platform": "telegram",
                "community": "acme",
                "group": "g1" if n % 3 else "g2",
                "member": member,
                "occurred_at": when,
                "message_id": f"m{n}",
                "text": f'第{n}条消息 👍 it\'s "quoted"\\n',
            }
        )
    Pipeline(store).run([event_from_json(e) for e in events], source="test")
    with store.unit_of_work() as session:
        cid = session.scalars(select(Community.id)).one()
        for n, status in enumerate(("queued", "done", "failed")):
            session.add(
                OutboxAction(
                    community_id=cid,
                    origin=f"review:{n}",
                    key=f"k{n}",
                    kind="warn",
                    platform="telegram",
                    action={"kind": "warn", "text": "请勿刷屏"},
                    status=status,
                    error="timeout" if status == "failed" else None,
                )
            )


def test_a_round_trip_restores_every_table_row_for_row(store, db_url, empty_db_url, tmp_path):
    load_small_community(store)
    file = tmp_path / "qunzhu.backup"
    written = backup(db_url, file)
    before = table_checksums(db_url)
    assert written.bytes == file.stat().st_size > 0
    assert written.tables == {name: rows for name, (rows, _) in before.items()}
    assert written.tables["members"] == 6 and written.tables["messages"] == 40
    assert written.tables["action_outbox"] == 3

    restored = restore(empty_db_url, file)

    assert restored.revision == head_revision() and restored.migrated_from is None
    assert restored.tables == written.tables
    assert table_checksums(empty_db_url) == before


def test_a_backup_leaves_no_partial_file_and_replaces_an_older_one(store, db_url, tmp_path):
    file = tmp_path / "qunzhu.backup"
    file.write_bytes(b"an older backup")
    backup(db_url, file)
    assert file.stat().st_size > len(b"an older backup")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("qunzhu.backup")] == [
        "qunzhu.backup"
    ]


def test_restore_refuses_a_database_with_data_unless_forced(store, db_url, tmp_path):
    load_small_community(store)
    file = tmp_path / "qunzhu.backup"
    backup(db_url, file)
    with store.unit_of_work() as session:
        session.add(Community(slug="later", name="after the backup"))
    with pytest.raises(BackupError, match=r"holds data.*--force"):
        restore(db_url, file)
    with store.reading() as session:  # refused: nothing changed
        assert session.scalar(select(func.count()).select_from(Community)) == 2

    store.dispose()  # as an operator stops `qunzhu serve` before a restore
    restore(db_url, file, force=True)
    with store.reading() as session:
        assert session.scalars(select(Community.slug)).all() == ["acme"]
        assert session.scalar(select(func.count()).select_from(Member)) == 6


def test_restore_refuses_a_file_that_is_not_a_qunzhu_backup(db_url, empty_db_url, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n" * 100)
    with pytest.raises(BackupError, match="is not a"):
        restore(empty_db_url, junk)
    with pytest.raises(BackupError, match="no backup file"):
        restore(empty_db_url, tmp_path / "missing.backup")


def test_restore_refuses_a_sqlite_database_that_is_not_qunzhu_s(tmp_path):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    with pytest.raises(BackupError, match="not a qunzhu database"):
        restore(f"sqlite:///{tmp_path / 'target.db'}", other)


def test_restore_refuses_a_schema_revision_it_does_not_know(sqlite_store, tmp_path):
    source = sqlite_store.settings.database_url
    with sqlite_store.unit_of_work() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    file = tmp_path / "future.backup"
    backup(source, file)
    with pytest.raises(BackupError, match="revision 9999, unknown"):
        restore(f"sqlite:///{tmp_path / 'target.db'}", file)


def test_restore_migrates_an_older_backup_to_the_newest_schema(tmp_path):
    old = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(old)
    from qunzhu.store.migrate import upgrade

    upgrade(engine, "0004")
    engine.dispose()
    file = tmp_path / "old.backup"
    assert backup(old, file).revision == "0004"
    target = f"sqlite:///{tmp_path / 'target.db'}"
    restored = restore(target, file)
    assert restored.migrated_from == "0004" and restored.revision == head_revision()
    engine = make_engine(target)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_the_postgresql_password_travels_in_the_environment_only():
    url = "postgresql+psycopg://ops:s3cret@db.local:5432/qz?options=-csearch_path%3Dtenant"
    plain, env = libpq_url(url)
    assert "s3cret" not in plain and plain.startswith("postgresql://ops@db.local:5432/qz")
    assert env == {"PGPASSWORD": "s3cret"}
    assert url_schema(url) == "tenant"
    assert url_schema("postgresql+psycopg://ops@db.local/qz") is None


def test_a_missing_pg_dump_is_named_with_what_to_install(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no pg_dump on PATH
    with pytest.raises(BackupError, match="pg_dump is not on PATH: install the PostgreSQL"):
        backup("postgresql+psycopg://ops@127.0.0.1/qz", tmp_path / "x.backup")


def test_a_backup_runs_beside_an_open_write_and_holds_only_what_was_committed(
    store, db_url, empty_db_url, tmp_path
):
    load_small_community(store)
    file = tmp_path / "qunzhu.backup"
    with store.unit_of_work() as session:  # a writer mid-transaction, as under `qunzhu serve`
        session.add(Community(slug="uncommitted", name="not yet"))
        session.flush()
        written = backup(db_url, file)
    assert written.tables["communities"] == 1
    restore(empty_db_url, file)
    assert table_checksums(empty_db_url)["communities"][0] == 1


def test_pg_dump_gets_the_password_in_its_environment_not_its_arguments(
    pg_schema_url, tmp_path, monkeypatch
):
    if not pg_schema_url or pg_schema_url.startswith("!"):
        pytest.skip("PostgreSQL not available")
    import subprocess

    seen: list[tuple[list[str], dict[str, str]]] = []
    real_run = subprocess.run

    def spy(args, **kwargs):
        seen.append((args, kwargs["env"]))
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    # the server trusts 127.0.0.1, so any password is accepted and none is needed
    with_password = pg_schema_url.replace("postgres@", "postgres:s3cret-pw@", 1)
    backup(with_password, tmp_path / "qunzhu.backup")
    ((args, env),) = seen
    assert "s3cret-pw" not in " ".join(args) and env["PGPASSWORD"] == "s3cret-pw"
    assert args[args.index("-n") + 1] == url_schema(pg_schema_url)
