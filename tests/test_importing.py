"""Files imported in one batch (``qunzhu import a.log b.log``): transactions span the files,
and each file is still kept whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from qunzhu.adapters.importers import ImportFormatError
from qunzhu.importing import ImportBatch, import_file
from qunzhu.store import Store, write_strategies
from qunzhu.store.bulk_messages import BulkMessages
from qunzhu.store.models import Community, Message


def _log(path: Path, lines: int, who: str = "u") -> Path:
    path.write_text(
        "".join(
            f"[{i // 60 % 24:02d}:{i % 60:02d}] <{who}{i % 5}> line {i}\n" for i in range(lines)
        ),
        encoding="utf-8",
    )
    return path


def _messages(store: Store, community: str) -> int:
    with store.reading() as session:
        cid = session.scalar(select(Community.id).where(Community.slug == community))
        where = Message.community_id == cid
        return int(session.scalar(select(func.count()).select_from(Message).where(where)) or 0)


def test_a_batch_stores_what_files_one_at_a_time_store_with_fewer_commits(store, tmp_path):
    paths = [_log(tmp_path / f"2024-05-0{d}.log", 300, who=f"n{d}_") for d in (1, 2, 3)]
    commits: list[int] = []
    event.listen(store.engine, "commit", lambda _conn: commits.append(1))
    alone = [import_file(store, p, community="alone", group="g", tz="UTC") for p in paths]
    per_file = len(commits)
    commits.clear()
    with ImportBatch.of(store) as batch:
        together = [batch.import_file(p, community="batch", group="g", tz="UTC") for p in paths]
    assert len(commits) < per_file
    keys = ("messages", "added", "members", "new_members", "duplicates", "quarantined")
    assert [{k: r[k] for k in keys} for r in together] == [{k: r[k] for k in keys} for r in alone]
    assert _messages(store, "batch") == _messages(store, "alone") == 900
    with ImportBatch.of(store) as batch:  # a re-run adds nothing
        again = [batch.import_file(p, community="batch", group="g", tz="UTC") for p in paths]
    assert [r["added"] for r in again] == [0, 0, 0]


def test_a_file_failing_in_a_batch_is_rolled_back_alone(store, tmp_path, monkeypatch):
    """The second file's chunks share the transaction with the first file, without a
    savepoint: its failure rolls back both, the first is stored again and committed, and the
    second, run again alone, fails as it would alone (nothing of it kept)."""
    # chunks of 500 records: the second file has written three of them when its parser's
    # report of 2,000 lines read fails
    monkeypatch.setattr(write_strategies, "BULK_BATCH_RECORDS", 500)
    first = _log(tmp_path / "2024-05-01.log", 300)
    second = _log(tmp_path / "2024-05-02.log", 6000)
    written: list[int] = []

    def broken(_n: int) -> None:
        written.append(_messages_on(batch))
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="went away"), ImportBatch.of(store) as batch:
        batch.import_file(first, community="c", group="g", tz="UTC")
        batch.import_file(second, community="c", group="g", tz="UTC", progress=broken)
    assert written == [300 + 1500, 300 + 1500]  # in the shared transaction, then alone
    assert _messages(store, "c") == 300  # the first file, stored again; none of the second
    again = import_file(store, second, community="c", group="g", tz="UTC")
    assert again["added"] == 6000


def test_a_store_error_in_a_shared_transaction_stores_the_files_before_it_again(
    store, tmp_path, monkeypatch
):
    paths = [_log(tmp_path / f"2024-05-0{d}.log", 300, who=f"n{d}_") for d in (1, 2)]
    write, calls = BulkMessages.write, []

    def flaky(self: BulkMessages, items):  # the second file's first chunk fails once
        calls.append(len(items))
        if len(calls) == 2:
            raise RuntimeError("database is locked")
        return write(self, items)

    monkeypatch.setattr(BulkMessages, "write", flaky)
    with ImportBatch.of(store) as batch:
        done = [batch.import_file(p, community="c", group="g", tz="UTC") for p in paths]
    assert len(calls) == 4  # first, second (fails), first again, second alone
    assert [r["added"] for r in done] == [300, 300]
    assert [r["quarantined"] for r in done] == [0, 0]
    assert _messages(store, "c") == 600


def test_ctrl_c_in_a_batch_loses_the_open_transaction_and_a_rerun_adds_it(store, tmp_path):
    first = _log(tmp_path / "2024-05-01.log", 300)
    second = _log(tmp_path / "2024-05-02.log", 6000)

    def ctrl_c(_n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), ImportBatch.of(store) as batch:
        batch.import_file(first, community="c", group="g", tz="UTC")
        batch.import_file(second, community="c", group="g", tz="UTC", progress=ctrl_c)
    assert _messages(store, "c") == 0  # as a kill: the open transaction is rolled back
    with ImportBatch.of(store) as batch:
        added = [batch.import_file(p, community="c", group="g", tz="UTC")["added"]
                 for p in (first, second)]  # fmt: skip
    assert added == [300, 6000]


def _messages_on(batch: ImportBatch) -> int:
    """Messages the batch's own transaction sees (what it wrote and has not committed)."""
    return int(batch.batch.conn.scalar(select(func.count()).select_from(Message)) or 0)


def test_a_file_refused_in_a_batch_keeps_the_files_before_it(store, tmp_path):
    first = _log(tmp_path / "2024-05-01.log", 200)
    unknown = tmp_path / "notes.bin"
    unknown.write_bytes(b"\x00\x01 not an export")
    with pytest.raises(ImportFormatError), ImportBatch.of(store) as batch:
        batch.import_file(first, community="c", group="g", tz="UTC")
        batch.import_file(unknown, community="c", group="g", tz="UTC")
    assert _messages(store, "c") == 200


def test_a_batch_gives_the_connection_its_settings_back(sqlite_store, tmp_path):
    with ImportBatch.of(sqlite_store) as batch:
        batch.import_file(_log(tmp_path / "2024-05-01.log", 50), community="c", group="g")
        batch.import_file(_log(tmp_path / "2024-05-02.log", 50), community="c", group="g")
    with sqlite_store.engine.connect() as conn:  # the pool's one connection
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
