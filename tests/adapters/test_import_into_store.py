"""Importing into the store (SQLite and PostgreSQL): counts, re-runs, overlaps, Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select
from test_importer_discord_json import MESSAGES as DISCORD_MESSAGES
from test_importer_qq_txt import EXPORT as QQ_EXPORT
from test_importer_telegram_json import MESSAGES as TELEGRAM_MESSAGES
from test_importer_telegram_json import chat
from test_importer_wechat_csv import ROWS as WECHAT_ROWS
from test_importer_wechat_csv import write_csv
from test_importer_whatsapp_txt import ANDROID

from qunzhu import events as ev
from qunzhu.adapters import importers
from qunzhu.importing import import_file
from qunzhu.pipeline import Pipeline
from qunzhu.store import Store, write_strategies
from qunzhu.store.batch import Place
from qunzhu.store.bulk_messages import BulkMessages
from qunzhu.store.chunk_transactions import TransactionLost
from qunzhu.store.models import (
    Community,
    GroupDaily,
    Identity,
    Member,
    MemberDaily,
    Membership,
    MembershipEvent,
    Message,
    Quarantine,
    Referral,
)
from qunzhu.store.write_strategies import BulkWriter
from qunzhu.wiring import build_pipeline


def _count(store, model, *where) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _exports(tmp_path: Path) -> dict[str, Path]:
    import json

    out = {
        "wechat-csv": write_csv(tmp_path / "wechat.csv", WECHAT_ROWS),
        "telegram-json": tmp_path / "result.json",
        "discord-json": tmp_path / "discord.json",
        "qq-txt": tmp_path / "qq.txt",
        "whatsapp-txt": tmp_path / "whatsapp.txt",
        "irc": tmp_path / "2024-05-01.log",
    }
    out["telegram-json"].write_text(json.dumps(chat(TELEGRAM_MESSAGES)), encoding="utf-8")
    out["discord-json"].write_text(
        json.dumps({"guild": {"id": "1"}, "channel": {"id": "5"}, "messages": DISCORD_MESSAGES}),
        encoding="utf-8",
    )
    out["qq-txt"].write_text(QQ_EXPORT, encoding="utf-8")
    out["whatsapp-txt"].write_text(ANDROID, encoding="utf-8")
    out["irc"].write_text(
        "[10:00] <ann> hello\n=== bo [~b@h]  has joined #c\n[10:01] <bo> ann: hi\n"
        "garbage\n=== bo [~b@h]  has left #c []\n",
        encoding="utf-8",
    )
    return out


EXPECTED = {  # messages, joins, leaves, invites, replies, quarantined
    "wechat-csv": (6, 3, 1, 3, 1, 2),
    "telegram-json": (5, 3, 2, 3, 1, 1),
    "discord-json": (3, 1, 0, 0, 1, 1),
    "qq-txt": (4, 1, 1, 1, 1, 0),
    "whatsapp-txt": (3, 3, 2, 2, 0, 0),
    "irc": (2, 1, 1, 0, 1, 1),
}


def test_every_format_imports_once_and_a_second_run_adds_nothing(store, tmp_path):
    for fmt, path in _exports(tmp_path).items():
        first = import_file(store, path, community="club", group=fmt, fmt="auto", tz="UTC")
        got = tuple(first[k] for k in ("messages", "joins", "leaves", "invites", "replies",
                                       "quarantined"))  # fmt: skip
        assert first["format"] == fmt
        assert got == EXPECTED[fmt], fmt
        assert first["added"] == first["messages"], fmt
        stored = _count(store, Message)
        again = import_file(store, path, community="club", group=fmt, fmt=fmt, tz="UTC")
        assert again["added"] == 0 and again["added_events"] == 0, fmt
        assert again["messages"] == first["messages"]
        assert _count(store, Message) == stored
    assert _count(store, Message) == sum(e[0] for e in EXPECTED.values())
    assert _count(store, MembershipEvent) == sum(e[1] + e[2] for e in EXPECTED.values())
    assert _count(store, Quarantine) == sum(e[5] for e in EXPECTED.values())


def test_replies_and_invitations_are_linked_in_the_store(store, tmp_path):
    path = _exports(tmp_path)["wechat-csv"]
    import_file(store, path, community="club", group="wx", tz="UTC")
    assert _count(store, Message, Message.reply_to_id.is_not(None)) == 1
    with store.reading() as session:
        zhang = session.scalar(
            select(Identity.member_id).where(Identity.platform_user_id == "wxid_zhang")
        )
        li = session.scalar(
            select(Identity.member_id).where(Identity.platform_user_id == "wxid_li")
        )
        inviter = session.scalar(
            select(Membership.inviter_member_id).where(Membership.member_id == li)
        )
    assert inviter == zhang
    assert _count(store, Referral, Referral.inviter_member_id == zhang) == 3


def test_an_overlapping_export_adds_only_what_is_new(store, tmp_path):
    lines = [f"[10:{i:02d}] <u{i % 3}> message {i}\n" for i in range(40)]
    early = tmp_path / "2024-05-01.early.log"
    early.write_text("".join(lines[:25]), encoding="utf-8")
    later = tmp_path / "2024-05-01.later.log"
    later.write_text("".join(lines[10:]), encoding="utf-8")
    assert import_file(store, early, community="c", group="g", tz="UTC")["added"] == 25
    assert import_file(store, later, community="c", group="g", tz="UTC")["added"] == 15
    assert _count(store, Message) == 40
    with store.reading() as session:  # the rollups count each message once
        assert session.scalar(select(func.sum(GroupDaily.messages))) == 40
        assert session.scalar(select(func.sum(MemberDaily.messages))) == 40


@pytest.fixture
def small_chunks(store):
    """The store with transactions of 500 records, for imports of a few thousand lines."""
    small = Store(store.settings.model_copy(update={"bulk_import_chunk_size": 500}))
    yield small
    small.dispose()


def test_an_interrupted_import_completes_on_a_second_run(small_chunks, tmp_path):
    # 6,000 lines: the parser reports progress every 2,000 lines, chunks are 500 records
    store = small_chunks
    path = tmp_path / "2024-05-01.log"
    path.write_text(
        "".join(f"[{i // 300:02d}:{i % 60:02d}] <u{i % 7}> line {i}\n" for i in range(6000)),
        encoding="utf-8",
    )
    calls = []

    def ctrl_c(n: int) -> None:
        calls.append(n)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(store, path, community="c", group="g", tz="UTC", progress=ctrl_c)
    partial = _count(store, Message)
    assert 0 < partial < 6000
    again = import_file(store, path, community="c", group="g", tz="UTC")
    assert again["added"] == 6000 - partial
    assert _count(store, Message) == 6000


@pytest.mark.shared_data
def test_ubuntu_logs_import_into_the_store_and_reimport_adds_nothing(sqlite_store, shared_data):
    paths = sorted((shared_data / "irc" / "ubuntu").glob("*.raw.txt"))[:6]
    total = 0
    for path in paths:
        result = import_file(sqlite_store, path, community="ubuntu", group="#ubuntu", tz="UTC")
        assert result["quarantined"] == 0
        total += result["added"]
    assert total == _count(sqlite_store, Message) > 5000
    assert (
        sum(
            import_file(sqlite_store, p, community="ubuntu", group="#ubuntu", tz="UTC")["added"]
            for p in paths
        )
        == 0
    )
    assert _count(sqlite_store, Message, Message.reply_inferred.is_(True)) > 1000


def _snapshot(store, community: str) -> dict[str, list[tuple[object, ...]]]:
    """What an import left in a community, by platform ids (row ids and keys differ)."""
    with store.reading() as s:
        cid = s.scalar(select(Community.id).where(Community.slug == community))
        users = dict(
            s.execute(
                select(Identity.member_id, Identity.platform_user_id).where(
                    Identity.community_id == cid
                )
            ).all()
        )
        pids = dict(
            s.execute(
                select(Message.id, Message.platform_message_id).where(Message.community_id == cid)
            ).all()
        )
        messages = [
            (
                users[m.member_id],
                m.platform_message_id,
                m.occurred_at,
                m.kind,
                m.text,
                m.reply_to_platform_id,
                pids.get(m.reply_to_id),
                m.reply_inferred,
                m.reactions,
                m.forwarded,
                m.recalled,
                m.raw,
            )
            for m in s.scalars(select(Message).where(Message.community_id == cid))
        ]
        member_daily = [
            (users[r.member_id], r.day, r.messages, r.chars, r.replies_sent)
            for r in s.scalars(select(MemberDaily).where(MemberDaily.community_id == cid))
        ]
        group_daily = [
            (r.day, r.messages, r.joins, r.leaves, r.removals)
            for r in s.scalars(select(GroupDaily).where(GroupDaily.community_id == cid))
        ]
        memberships = [
            (
                users[r.member_id],
                r.status,
                r.joined_at,
                r.left_at,
                users.get(r.inviter_member_id),
                r.join_via,
            )
            for r in s.scalars(select(Membership).where(Membership.community_id == cid))
        ]
        members = [
            (users[r.id], r.display_name, r.first_seen_at)
            for r in s.scalars(select(Member).where(Member.community_id == cid))
        ]
    out = {
        "messages": messages,
        "member_daily": member_daily,
        "group_daily": group_daily,
        "memberships": memberships,
        "members": members,
    }
    return {k: sorted(v, key=repr) for k, v in out.items()}


def test_the_bulk_path_stores_what_the_event_pipeline_stores(store, tmp_path):
    """import_file's bulk write path against every message as an Event through the import
    pipeline: the same rows, links, members and rollups. Memberships: within a chunk the
    bulk path applies the messages (speaking makes a membership) before the joins and
    leaves, whereas the pipeline's Writer goes by the event type it meets first — a leave
    after someone's last message is lost when the chunk opens with a member event — so they
    are compared with the pipeline given the messages first."""
    utc = ZoneInfo("UTC")
    for fmt, path in _exports(tmp_path).items():
        bulk = import_file(store, path, community="bulk", group=fmt, fmt=fmt, tz="UTC")
        items = importers.parse(path, fmt, community="events", group=fmt, tz=utc)
        report = build_pipeline(store, "import", create_communities=True).run(items, source="t")
        assert bulk["added"] == report.count("message_posted"), fmt
        assert bulk["added_events"] == report.added, fmt
        # one chunk each (the exports are small): messages first, the rest in file order
        items = importers.parse(path, fmt, community="ordered", group=fmt, tz=utc)
        ordered = sorted(items, key=lambda e: not isinstance(e, ev.MessagePosted))
        build_pipeline(store, "import", create_communities=True).run(ordered, source="t")
    got, events = _snapshot(store, "bulk"), _snapshot(store, "events")
    assert got.pop("memberships") == _snapshot(store, "ordered")["memberships"]
    events.pop("memberships")
    assert got == events


def test_a_repeated_message_id_is_stored_once_and_counted_once(store, tmp_path):
    import json

    messages = [
        {"id": i % 7, "type": "message", "date_unixtime": str(1_700_000_000 + i),
         "from": f"u{i % 3}", "from_id": f"user{i % 3}", "text": f"m{i}"}
        for i in range(20)
    ]  # fmt: skip
    path = tmp_path / "result.json"
    path.write_text(json.dumps(chat(messages)), encoding="utf-8")
    first = import_file(store, path, community="c", group="g", tz="UTC")
    assert first["messages"] == 20 and first["added"] == 7 and first["duplicates"] == 13
    with store.reading() as s:
        assert s.scalar(select(func.sum(GroupDaily.messages))) == 7
        assert s.scalar(select(func.sum(MemberDaily.messages))) == 7
    assert import_file(store, path, community="c", group="g", tz="UTC")["added"] == 0
    with store.reading() as s:
        assert s.scalar(select(func.sum(GroupDaily.messages))) == 7


@pytest.mark.parametrize("per_transaction", [3, 9])
def test_chunk_boundaries_change_nothing_stored(store, tmp_path, monkeypatch, per_transaction):
    """Batches of three records (alone or three to a transaction, in savepoints): replies to
    earlier batches, members met in one batch and speaking in the next, rollups added batch
    after batch — as the event pipeline does."""
    monkeypatch.setattr(write_strategies, "BULK_BATCH_RECORDS", 3)
    tiny = Store(store.settings.model_copy(update={"bulk_import_chunk_size": per_transaction}))
    try:
        for fmt, path in _exports(tmp_path).items():
            import_file(tiny, path, community="bulk", group=fmt, fmt=fmt, tz="UTC")
            items = importers.parse(path, fmt, community="events", group=fmt, tz=ZoneInfo("UTC"))
            build_pipeline(tiny, "import", create_communities=True, chunk_size=3).run(
                items, source="t"
            )
        got, events = _snapshot(tiny, "bulk"), _snapshot(tiny, "events")
    finally:
        tiny.dispose()
    got.pop("memberships"), events.pop("memberships")  # compared in one chunk above
    assert got == events
    assert any(m[6] for m in got["messages"])  # replies were linked


def test_a_failing_batch_inside_a_transaction_is_replayed_alone(store, tmp_path, monkeypatch):
    """Transactions of 12 records in batches of 4: the second batch fails once; the first
    stays (its savepoint was released), the second is replayed event by event, the rest
    follow in new transactions — and every message is stored once."""
    monkeypatch.setattr(write_strategies, "BULK_BATCH_RECORDS", 4)
    small = Store(store.settings.model_copy(update={"bulk_import_chunk_size": 12}))
    path = tmp_path / "2024-05-01.log"
    path.write_text(
        "".join(f"[10:{i:02d}] <u{i % 3}> line {i}\n" for i in range(30)), encoding="utf-8"
    )
    real_write, calls = BulkMessages.write, []

    def flaky(self, items):
        calls.append(len(items))
        written = real_write(self, items)
        if len(calls) == 2:
            raise RuntimeError("disk hiccup")
        return written

    monkeypatch.setattr(BulkMessages, "write", flaky)
    try:
        first = import_file(small, path, community="c", group="g", tz="UTC")
        assert first["added"] == 30 and first["quarantined"] == 0
        assert _count(small, Message) == 30
        with small.reading() as session:
            assert session.scalar(select(func.sum(GroupDaily.messages))) == 30
        assert import_file(small, path, community="c", group="g", tz="UTC")["added"] == 0
    finally:
        small.dispose()
    assert len(calls) > 2


def test_an_import_is_a_run_of_the_pipeline_with_the_bulk_writer(store, tmp_path, monkeypatch):
    runs = []
    real_run = Pipeline.run

    def spy(self, items, **kw):
        runs.append((self.writer, kw.get("place")))
        return real_run(self, items, **kw)

    monkeypatch.setattr(Pipeline, "run", spy)
    path = _exports(tmp_path)["irc"]
    assert import_file(store, path, community="c", group="#c", tz="UTC")["added"] == 2
    [(writer, place)] = runs
    assert isinstance(writer, BulkWriter)
    assert place == Place("c", "irc", "#c")


def test_a_record_that_keeps_failing_goes_to_quarantine_through_the_pipeline(
    store, tmp_path, monkeypatch
):
    """A chunk of an import that fails is handed to Pipeline.isolate like any other: the
    record that fails alone is quarantined with the file and the error, the rest stored."""
    real_write, isolated = write_strategies._Bulk.write, []

    def poisoned(self, resolved, rows):
        texts = [r.text for r in rows] + [getattr(r.event, "text", "") for r in resolved]
        if "poison" in texts:
            raise RuntimeError("cannot store poison")
        return real_write(self, resolved, rows)

    real_isolate = Pipeline.isolate

    def spy(self, run, chunk, source, report, offset=0):
        isolated.append(len(chunk))
        return real_isolate(self, run, chunk, source, report, offset)

    monkeypatch.setattr(write_strategies._Bulk, "write", poisoned)
    monkeypatch.setattr(Pipeline, "isolate", spy)
    path = tmp_path / "2024-05-01.log"
    path.write_text(
        "".join(f"[10:{i:02d}] <u{i % 3}> {'poison' if i == 4 else f'line {i}'}\n"
                for i in range(10)),
        encoding="utf-8",
    )  # fmt: skip
    got = import_file(store, path, community="c", group="g", tz="UTC", source="upload.log")
    assert isolated == [10]
    assert got["added"] == 9 and got["quarantined"] == 1
    [record] = got["quarantined_records"]
    assert record["source"] == "upload.log" and "cannot store poison" in record["reason"]
    assert _count(store, Message) == 9
    with store.reading() as session:
        assert session.scalar(select(func.sum(GroupDaily.messages))) == 9


def test_a_failed_commit_of_several_chunks_stops_the_import_and_a_rerun_completes(
    store, tmp_path, monkeypatch
):
    """Transactions of 12 records in chunks of 4: the second commit fails. Its chunks are no
    longer held, so nothing can be isolated: the import stops (TransactionLost) and keeps
    the first transaction; the same import again adds the rest."""
    monkeypatch.setattr(write_strategies, "BULK_BATCH_RECORDS", 4)
    small = Store(store.settings.model_copy(update={"bulk_import_chunk_size": 12}))
    path = tmp_path / "2024-05-01.log"
    path.write_text(
        "".join(f"[10:{i:02d}] <u{i % 3}> line {i}\n" for i in range(30)), encoding="utf-8"
    )
    commits: list[int] = []

    def full_disk(conn) -> None:
        commits.append(1)
        if len(commits) == 2:
            raise RuntimeError("disk full")

    event.listen(small.engine, "commit", full_disk)
    try:
        with pytest.raises(TransactionLost, match="disk full"):
            import_file(small, path, community="c", group="g", tz="UTC")
        event.remove(small.engine, "commit", full_disk)
        assert _count(small, Message) == 12
        again = import_file(small, path, community="c", group="g", tz="UTC")
        assert (again["added"], again["duplicates"]) == (18, 12)
        assert _count(small, Message) == 30
        with small.reading() as session:
            assert session.scalar(select(func.sum(GroupDaily.messages))) == 30
    finally:
        small.dispose()
