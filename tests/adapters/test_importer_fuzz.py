"""Hypothesis: hostile bytes put anywhere into sample exports of every format. No reading
ends in a traceback; every message of the file comes out either as a message or as the
reject that stands for it (stored + quarantined = messages in the file); and into the
store (SQLite and PostgreSQL) the same holds for rows."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from malformed_samples import FILE_NAMES, JSON_FORMATS, sample
from sqlalchemy import delete, func, select

from qunzhu import events as ev
from qunzhu.adapters import importers
from qunzhu.adapters.importers.common import Rejected, Skipped
from qunzhu.importing import import_file
from qunzhu.store.models import Message, Quarantine

N = 30
# bytes no text file should hold where they land, none of them a line end: control
# characters, bytes that are not UTF-8, a lead byte without its continuation
BAD = st.sampled_from([b"\x00", b"\x01", b"\x1b", b"\x7f", b"\x80", b"\xc3", b"\xfe", b"\xff"])
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


def _spoilt(folder: Path, fmt: str, spots: list[tuple[float, bytes]]) -> Path:
    path = sample(folder, fmt, N)
    data = path.read_bytes()
    # the head that tells the format (a CSV header, the JSON keys before the array, QQ's
    # banner) is left alone: a file broken there is refused as a whole (another test)
    start = data.index(b"\n") + 1 if fmt == "wechat-csv" else 0
    if fmt == "qq-txt":  # the banner: bad lines there are no message's
        start = data.index(b"2024-05-01")
    if fmt in JSON_FORMATS:
        start = data.index(b'"messages"') + len(b'"messages": [')
    for where, bad in sorted(spots, reverse=True):
        at = start + int(where * (len(data) - start))
        data = data[:at] + bad + data[at:]
    path.write_bytes(data)
    return path


def _messages_accounted(items: list[object]) -> int:
    """Messages out + the rejects that each stand for one record of the file."""
    messages = sum(isinstance(i, ev.MessagePosted) for i in items)
    lost = sum(
        isinstance(i, Rejected) and not (isinstance(i, Skipped) and "no message" in i.reason)
        for i in items
    )
    return messages + lost


SPOTS = st.lists(st.tuples(st.floats(0, 1, exclude_max=True), BAD), min_size=1, max_size=3)


@pytest.mark.parametrize("fmt", list(FILE_NAMES))
@FUZZ
@given(spots=SPOTS)
def test_bad_bytes_anywhere_cost_at_most_the_messages_they_land_in(tmp_path, fmt, spots):
    path = _spoilt(tmp_path, fmt, spots)
    items = list(importers.parse(path, fmt, community="c1", group="g1", tz=UTC))
    assert _messages_accounted(items) == N, [getattr(i, "reason", i) for i in items]
    assert sum(isinstance(i, ev.MessagePosted) for i in items) >= N - len(spots)


@pytest.mark.parametrize("fmt", list(FILE_NAMES))
@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(spots=SPOTS)
def test_bad_bytes_anywhere_into_the_store_leave_stored_plus_quarantined_equal_to_messages(
    store, tmp_path, fmt, spots
):
    with store.unit_of_work() as session:  # each example on its own
        session.execute(delete(Message))
        session.execute(delete(Quarantine))
    path = _spoilt(tmp_path, fmt, spots)
    summary = import_file(store, path, community="c1", group="g1", fmt=fmt)
    with store.reading() as session:
        stored = session.scalar(select(func.count(Message.id)))
        reasons = list(session.scalars(select(Quarantine.reason)))
    stray = sum("no message in it" in r for r in reasons)
    assert stored + len(reasons) - stray == N, reasons
    assert summary["quarantined"] == len(reasons)
