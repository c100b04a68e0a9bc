"""fetch_raw: the driver's rows and the converters that make them fetch_all's rows; the
catch-up's page rows built from them in one pass (catchup._msg_rows) as from fetch_all;
insert_rows' rows converted a column at a time as a row at a time."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from qunzhu.engines.catchup import _msg_rows
from qunzhu.engines.fastio import _by_column, fetch_all, fetch_raw, memo
from qunzhu.engines.scoring import MsgRow
from qunzhu.store.base import table_of
from qunzhu.store.models import Message

_m = table_of(Message)
PAGE = select(
    _m.c.id,
    _m.c.community_id,
    _m.c.group_id,
    _m.c.member_id,
    _m.c.occurred_at,
    _m.c.text,
    _m.c.kind,
    _m.c.flagged,
    _m.c.reply_to_id,
    _m.c.recalled,
    _m.c.reply_inferred,
).order_by(_m.c.id)


def test_converted_raw_rows_are_fetch_alls(demo_store) -> None:
    with demo_store.engine.connect() as conn:
        rows = fetch_all(conn, PAGE)
        raw, converters = fetch_raw(conn, PAGE)
    assert rows and len(raw) == len(rows)
    converted = [
        tuple(v if p is None else p(v) for v, p in zip(r, converters, strict=True)) for r in raw
    ]
    assert converted == rows


def test_page_rows_in_one_pass_are_those_of_fetch_all(demo_store) -> None:
    tz = ZoneInfo("Asia/Shanghai")  # days apart from UTC's
    with demo_store.engine.connect() as conn:
        rows = fetch_all(conn, PAGE)
        raw, converters = fetch_raw(conn, PAGE)
    expected = [
        MsgRow(i, c, g, mem, at.astimezone(tz).date(), at, text or "", kind, bool(flagged),
               reply, bool(recalled), bool(inferred))
        for i, c, g, mem, at, text, kind, flagged, reply, recalled, inferred in rows
    ]  # fmt: skip
    assert _msg_rows(raw, converters, tz) == expected


def _row_at_a_time(
    rows: list[dict[str, Any]], columns: list[str], active: list[tuple[int, Any]]
) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        values = [row[c] for c in columns]
        for i, process in active:
            values[i] = process(values[i])
        out.append(tuple(values))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_rows_converted_a_column_at_a_time_are_those_of_a_row_at_a_time(seed: int) -> None:
    rng = random.Random(seed)
    for size in (0, 1, 2, 50, 300):
        width = rng.randint(1, 6)
        columns = [f"c{i}" for i in range(width)]
        days = [date(2024, 1, 1) + timedelta(days=rng.randrange(5)) for _ in range(size)]
        rows = [
            {c: rng.choice([None, rng.randrange(9), rng.random(), days[k]]) for c in columns}
            for k in range(size)
        ]
        active = [
            (i, rng.choice([memo(str), repr, lambda v: (v, 1)]))
            for i in sorted(rng.sample(range(width), rng.randint(0, width)))
        ]
        assert _by_column(rows, columns, active) == _row_at_a_time(rows, columns, active)
