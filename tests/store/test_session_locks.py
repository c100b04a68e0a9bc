"""SQLite in one process: reads do not queue behind a writer, writers queue on a lock that
wakes them the moment it is free, and every way a transaction ends gives the lock back."""

from __future__ import annotations

import threading

from sqlalchemy import text

from qunzhu.store import Store


def test_a_read_goes_on_while_a_writer_holds_the_database(sqlite_store: Store):
    writing = threading.Event()
    done_reading = threading.Event()

    def writer() -> None:
        with sqlite_store.engine.begin() as conn:
            conn.execute(text("UPDATE communities SET name = name"))
            writing.set()
            # holds the write lock until the reader, in another thread, has read
            assert done_reading.wait(30), "the read waited for the writer"

    t = threading.Thread(target=writer)
    t.start()
    assert writing.wait(30)
    with sqlite_store.reading() as session:
        session.execute(text("SELECT COUNT(*) FROM communities")).scalar_one()
    with sqlite_store.read_engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()
    done_reading.set()
    t.join(30)
    assert not t.is_alive()


def test_writers_in_threads_take_turns_and_none_fails(sqlite_store: Store):
    with sqlite_store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE tally (n INTEGER)"))
        conn.execute(text("INSERT INTO tally VALUES (0)"))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(50):
                with sqlite_store.engine.begin() as conn:
                    n = conn.execute(text("SELECT n FROM tally")).scalar_one()
                    conn.execute(text("UPDATE tally SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # collected: the test thread asserts
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with sqlite_store.reading() as session:
        assert session.execute(text("SELECT n FROM tally")).scalar_one() == 200  # no lost update


def test_a_failed_transaction_gives_the_lock_back(sqlite_store: Store):
    try:
        with sqlite_store.engine.begin() as conn:
            conn.execute(text("UPDATE communities SET name = name"))
            raise RuntimeError("the caller failed mid-transaction")
    except RuntimeError:
        pass
    finished = threading.Event()

    def writer() -> None:
        with sqlite_store.engine.begin() as conn:
            conn.execute(text("UPDATE communities SET name = name"))
        finished.set()

    t = threading.Thread(target=writer)
    t.start()
    assert finished.wait(30), "the rolled-back transaction kept the writer lock"
    t.join()
