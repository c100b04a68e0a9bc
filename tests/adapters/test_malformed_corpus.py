"""The malformed-input corpus, imported into the store on SQLite and PostgreSQL: NUL bytes,
a byte order mark, a GB18030 log, one bad byte in a JSON export, a 50 MB line, times no chat
can have. Every run ends without a traceback, and every message of the file is either
stored or quarantined: stored + quarantined = messages in the file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from malformed_samples import (
    FILE_NAMES,
    JSON_FORMATS,
    T0,
    byte_inside_message,
    insert,
    plain,
    sample,
)
from sqlalchemy import select

from qunzhu.adapters.importers import ImportFormatError
from qunzhu.bounds import MAX_TEXT
from qunzhu.importing import import_file
from qunzhu.store import Store
from qunzhu.store.models import Message, Quarantine

N = 60


def _import(store: Store, path: Path, fmt: str) -> dict:
    return import_file(store, path, community="c1", group="g1", fmt=fmt)


def _stored(store: Store) -> list[str]:
    with store.reading() as session:
        return list(session.scalars(select(Message.text).order_by(Message.occurred_at)))


def _quarantined(store: Store) -> list[Quarantine]:
    with store.reading() as session:
        return list(session.scalars(select(Quarantine).order_by(Quarantine.id)))


def _accounted(store: Store, summary: dict, n: int = N) -> tuple[int, int]:
    stored, quarantined = len(_stored(store)), len(_quarantined(store))
    assert summary["quarantined"] == quarantined
    assert stored + quarantined == n, (stored, [q.reason for q in _quarantined(store)])
    return stored, quarantined


@pytest.mark.parametrize("fmt", list(FILE_NAMES))
def test_a_nul_byte_in_a_message_is_removed_and_the_message_kept(store, tmp_path, fmt):
    path = sample(tmp_path, fmt, N)
    insert(path, byte_inside_message(path, 30), b"\x00")
    summary = _import(store, path, fmt)
    if fmt in JSON_FORMATS:  # a raw NUL is not JSON: that one message is unreadable
        assert _accounted(store, summary) == (N - 1, 1)
        assert summary["unreadable_bytes"] > 0
    else:
        assert _accounted(store, summary) == (N, 0)
        assert "\x00" not in "".join(_stored(store))
        assert "message 30" in _stored(store)


@pytest.mark.parametrize("fmt", JSON_FORMATS)
def test_an_escaped_nul_in_json_text_is_removed_and_the_message_kept(store, tmp_path, fmt):
    path = sample(tmp_path, fmt, N, text=lambda i: f"message {i}" + ("\x00!" if i == 7 else ""))
    assert b"\\u0000" in path.read_bytes()
    summary = _import(store, path, fmt)
    assert _accounted(store, summary) == (N, 0)
    assert "message 7!" in _stored(store)


@pytest.mark.parametrize("fmt", ["whatsapp-txt", "qq-txt"])
def test_a_header_line_with_a_nul_is_its_own_message_not_merged(store, tmp_path, fmt):
    path = sample(tmp_path, fmt, N)
    header = b"01.05.24, 10:11" if fmt == "whatsapp-txt" else b"2024-05-01 10:11"
    insert(path, path.read_bytes().index(header), b"\x00")  # the header of message 11
    summary = _import(store, path, fmt)
    assert _accounted(store, summary) == (N, 0)
    assert "message 10" in _stored(store) and "message 11" in _stored(store)


def test_a_continuation_line_with_control_characters_is_quarantined_not_merged(store, tmp_path):
    path = sample(tmp_path, "whatsapp-txt", N)
    data = path.read_bytes()
    after = data.index(b"\n", data.index(b"message 10")) + 1
    insert(path, after, b"\x00\x01 not a message\n")
    summary = _import(store, path, "whatsapp-txt")
    assert _accounted(store, summary, N + 1) == (N, 1)
    assert "message 10" in _stored(store)
    assert "control characters" in _quarantined(store)[0].reason


@pytest.mark.parametrize("fmt", ["irc", "whatsapp-txt", "qq-txt", "wechat-csv"])
def test_a_byte_order_mark_does_not_cost_the_first_line(store, tmp_path, fmt):
    path = sample(tmp_path, fmt, N)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    summary = _import(store, path, fmt)
    assert _accounted(store, summary) == (N, 0)
    assert "message 0" in _stored(store)


def test_a_gb18030_irc_log_is_read_as_gb18030_and_says_so(store, tmp_path):
    path = sample(
        tmp_path, "irc", N, text=lambda i: f"第{i}条消息：今晚几点直播？", encoding="gb18030"
    )
    summary = _import(store, path, "irc")
    assert summary["encoding"] == "gb18030"
    assert _accounted(store, summary) == (N, 0)
    assert "第5条消息：今晚几点直播？" in _stored(store)


@pytest.mark.parametrize("fmt", JSON_FORMATS)
@pytest.mark.parametrize("bad", [b"\xff", b"\x00", b"\x01"])
def test_one_bad_byte_mid_json_costs_one_message(store, tmp_path, fmt, bad):
    path = sample(tmp_path, fmt, N)
    insert(path, byte_inside_message(path, N // 2), bad)
    summary = _import(store, path, fmt)
    assert _accounted(store, summary) == (N - 1, 1)
    assert f"message {N // 2}" not in _stored(store)
    assert summary["unreadable_bytes"] > 0 and summary["unreadable_stretches"] == 1
    reason = _quarantined(store)[0].reason
    assert "bytes skipped" in reason and "one message lost" in reason


# ijson's time on one long string grows with its square (50 MB: 30 s, and no harm done):
# the JSON export gets 5 MB, past the bound all the same
@pytest.mark.parametrize(("fmt", "size"), [("irc", 50 << 20), ("telegram-json", 5 << 20)])
def test_a_50_mb_message_is_quarantined_and_the_others_kept(store, tmp_path, fmt, size):
    huge = "x" * size
    path = sample(tmp_path, fmt, N, text=lambda i: huge if i == 20 else plain(i))
    summary = _import(store, path, fmt)
    assert _accounted(store, summary) == (N - 1, 1)
    assert f"at most {MAX_TEXT:,}" in _quarantined(store)[0].reason


@pytest.mark.parametrize("fmt", ["irc", "whatsapp-txt", "qq-txt", "wechat-csv", "telegram-json"])
def test_times_no_chat_can_have_are_quarantined_with_a_reason(store, tmp_path, fmt):
    path = sample(tmp_path, fmt, N)
    data = path.read_bytes()
    if fmt == "irc":  # a log dated from its name: 1960 is before any chat
        path = path.rename(tmp_path / "1960-05-01.log")
        expected = (0, N)
    elif fmt == "telegram-json":
        stamp = str(int(sample_time(5)))
        path.write_bytes(data.replace(f'"{stamp}"'.encode(), b'"99999999999999"', 1))
        expected = (N - 1, 1)
    elif fmt == "wechat-csv":
        stamp = str(int(sample_time(5)))
        path.write_bytes(data.replace(f",{stamp},".encode(), b",-1000000000000,", 1))
        expected = (N - 1, 1)
    else:
        early = data.replace(b".24, 10:05", b".1899, 10:05")
        path.write_bytes(early.replace(b"2024-05-01 10:05", b"1899-05-01 10:05"))
        expected = (N - 1, 1)
    summary = _import(store, path, fmt)
    assert _accounted(store, summary) == expected
    assert any("1970" in q.reason or "Unix time" in q.reason for q in _quarantined(store))


def sample_time(i: int) -> float:
    return (T0 + timedelta(minutes=i)).timestamp()


@pytest.mark.parametrize("fmt", JSON_FORMATS)
def test_a_message_nested_100000_deep_costs_that_message(store, tmp_path, fmt):
    path = sample(tmp_path, fmt, N, text=lambda i: "DEEP" if i == 9 else plain(i))
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"DEEP"', b"[" * 100_000 + b"]" * 100_000, 1))
    summary = _import(store, path, fmt)
    stored, _ = _accounted(store, summary)
    assert stored >= N - 1


def test_a_group_id_the_store_cannot_hold_refuses_the_import_before_anything_is_written(
    store, tmp_path
):
    path = sample(tmp_path, "irc", N)
    with pytest.raises(ImportFormatError, match="--group"):
        import_file(store, path, community="c1", group="g" * 129, fmt="irc")
    assert _stored(store) == [] and _quarantined(store) == []
