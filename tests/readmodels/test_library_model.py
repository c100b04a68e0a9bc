"""The content library on both databases: suggestions from the value engine's scores, keep
and dismiss (once each, whatever is re-run), search in Chinese and English — 1–2 character
Chinese words too, which trigrams cannot match — scoped by community, masked, erased."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from qunzhu.messaging import library
from qunzhu.messaging.library import LibraryError, UnknownMessage
from qunzhu.readmodels import library as reading
from qunzhu.store import Store
from qunzhu.store.intelligence import MessageScore
from qunzhu.store.library import LibraryItem
from qunzhu.store.models import Member
from qunzhu.store.privacy import erase_member

_spec = importlib.util.spec_from_file_location(
    "library_seed", Path(__file__).with_name("library_seed.py")
)
assert _spec and _spec.loader
seed = importlib.util.module_from_spec(_spec)
sys.modules["library_seed"] = seed
_spec.loader.exec_module(seed)
NOW = seed.NOW


def _keep(store: Store, cid: int, key: str, tags: tuple[str, ...] = ()) -> int:
    with store.unit_of_work() as session:
        mid = seed.message_id(store, cid, key)
        return library.keep(session, cid, mid, tags=tags, by="ops", now=NOW).id


def test_suggestions_are_the_most_valuable_long_messages_first(store: Store) -> None:
    cid = seed.seed_library(store)
    with store.reading() as session:
        found = reading.suggestions(session, cid, now=NOW)
    texts = [s["text"][:6] for s in found]
    # m4 is too short, m6 earned nothing; the rest by value
    assert [s["value"] for s in found] == [9.5, 8.0, 7.2, 5.1]
    assert texts[0] == "新人入群先看"
    assert "138****5678" in found[2]["text"]  # masked for a caller without personal data


def test_kept_and_dismissed_messages_are_not_suggested_again(store: Store) -> None:
    cid = seed.seed_library(store)
    _keep(store, cid, "m1", ("入门",))
    with store.unit_of_work() as session:
        library.dismiss(session, cid, seed.message_id(store, cid, "m2"), by="ops", now=NOW)
    with store.unit_of_work() as session:  # dismissing again changes nothing
        library.dismiss(session, cid, seed.message_id(store, cid, "m2"), by="ops", now=NOW)
    with store.reading() as session:
        left = [s["value"] for s in reading.suggestions(session, cid, now=NOW)]
        kept = reading.listing(session, cid)
    assert left == [7.2, 5.1]
    assert [k["tags"] for k in kept] == [["入门"]]
    assert kept[0]["decided_by"] == "ops" and kept[0]["group"] and kept[0]["author"] == "ann"


def test_keeping_twice_is_one_item_with_the_new_tags(store: Store) -> None:
    cid = seed.seed_library(store)
    first = _keep(store, cid, "m2", ("Python",))
    again = _keep(store, cid, "m2", ("工具，Python", "入门"))
    with store.reading() as session:
        count = session.scalar(select(func.count()).select_from(LibraryItem))
        kept = reading.item(session, cid, first, unmasked=True)
    assert first == again and count == 1
    assert kept["tags"] == ["工具", "Python", "入门"]


def test_removing_an_item_takes_it_out_and_keeps_it_out_of_suggestions(store: Store) -> None:
    cid = seed.seed_library(store)
    item = _keep(store, cid, "m1")
    with store.unit_of_work() as session:
        library.remove(session, cid, item, by="ops", now=NOW)
    with store.reading() as session:
        assert reading.listing(session, cid) == []
        assert 9.5 not in [s["value"] for s in reading.suggestions(session, cid, now=NOW)]


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("群公告", ["m1"]),  # 3 characters: the trigram index
        ("打卡", ["m1"]),  # 2 characters: LIKE
        ("群", ["m1", "m3"]),  # 1 character: LIKE, newest first
        ("python", ["m2"]),  # English, any case
        ("VENV 激活", ["m2"]),  # every word must occur
        ("干货 python", []),
        ("100%", ["m5"]),  # LIKE's wildcards are searched for, not obeyed
        ("itself_", ["m5"]),
        ("入门", ["m1"]),  # a tag is searched too
        ('"群公告', []),  # a quote is a character searched for, not FTS5 syntax
        ("群\x00公告", ["m1"]),  # NUL, which PostgreSQL refuses, is dropped
    ],
)
def test_search_finds_chinese_and_english_words_of_any_length(
    store: Store, query: str, keys: list[str]
) -> None:
    cid = seed.seed_library(store)
    for key in ("m1", "m2", "m3", "m5"):
        _keep(store, cid, key, ("入门",) if key == "m1" else ())
    with store.reading() as session:
        found = reading.search(session, cid, query)
    want = [seed.message_id(store, cid, k) for k in keys]
    assert [f["message_id"] for f in found] == want


def test_sqlite_has_its_trigram_index_and_keeps_it_in_step(sqlite_store: Store) -> None:
    store = sqlite_store
    cid = seed.seed_library(store)
    item = _keep(store, cid, "m1")
    hits = "SELECT rowid FROM library_fts WHERE library_fts MATCH :q"
    assert sqlite3.sqlite_version_info >= (3, 34)  # the trigram tokenizer exists
    with store.reading() as session:
        assert session.execute(text(hits), {"q": '"群公告"'}).scalars().all() == [item]
    with store.unit_of_work() as session:  # a removed item leaves the index
        library.remove(session, cid, item, by="ops", now=NOW)
    with store.reading() as session:
        assert session.execute(text(hits), {"q": '"群公告"'}).scalars().all() == []


def test_search_never_reaches_another_community(store: Store) -> None:
    acme = seed.seed_library(store)
    rival = seed.seed_library(store, "rival", "对手")
    _keep(store, rival, "m1")
    with store.reading() as session:
        assert reading.search(session, acme, "群公告") == []
        assert reading.search(session, acme, "打卡") == []
        assert len(reading.search(session, rival, "群公告")) == 1
    with store.unit_of_work() as session, pytest.raises(UnknownMessage):
        library.keep(session, acme, seed.message_id(store, rival, "m2"), by="ops", now=NOW)


def test_bad_input_names_the_field(store: Store) -> None:
    cid = seed.seed_library(store)
    with store.reading() as session:
        for query in ("", "   ", "x" * 101, "a b c d e f g h i"):
            with pytest.raises(LibraryError) as raised:
                reading.search(session, cid, query)
            assert raised.value.field == "q"
    first = seed.message_id(store, cid, "m1")
    with store.unit_of_work() as session, pytest.raises(LibraryError) as bad:
        library.keep(session, cid, first, tags=["长" * 30], by="o", now=NOW)
    assert bad.value.field == "tags"


def test_erasing_a_member_removes_their_words_from_the_library(store: Store) -> None:
    cid = seed.seed_library(store)
    _keep(store, cid, "m1")
    _keep(store, cid, "m2")
    with store.unit_of_work() as session:
        ann = session.scalar(
            select(Member.id).where(Member.community_id == cid, Member.display_name == "ann")
        )
        counts = erase_member(session, cid, int(ann))
    with store.reading() as session:
        assert counts["library_items"] == 1
        assert [i["author"] for i in reading.listing(session, cid)] == ["bo"]
        assert reading.search(session, cid, "群公告") == []


def test_a_text_pasted_twice_is_suggested_once(store: Store) -> None:
    cid = seed.seed_library(store)
    with store.unit_of_work() as session:
        first = session.get(MessageScore, seed.message_id(store, cid, "m1"))
        assert first is not None
        first.text_hash = "same-tip"
        second = session.get(MessageScore, seed.message_id(store, cid, "m2"))
        assert second is not None
        second.text_hash = "same-tip"  # the engine found the two texts equal once normalized
    with store.reading() as session:
        found = [s["value"] for s in reading.suggestions(session, cid, now=NOW)]
    assert found == [9.5, 7.2, 5.1]


def test_a_backup_restores_the_library_and_its_search(store: Store, tmp_path, request) -> None:
    from qunzhu.settings import load_settings
    from qunzhu.store.backup import backup, restore

    cid = seed.seed_library(store)
    _keep(store, cid, "m1", ("入门",))
    target = request.getfixturevalue("empty_db_url")
    backup(store.settings.database_url, tmp_path / "q.backup")
    restore(target, tmp_path / "q.backup")
    restored = Store(load_settings(database_url=target, secret_key="t" * 40, sample_data=False))
    try:
        with restored.reading() as session:
            assert [i["tags"] for i in reading.search(session, cid, "群公告")] == [["入门"]]
            assert len(reading.search(session, cid, "打卡")) == 1
    finally:
        restored.dispose()
