"""fetch_raw: the driver's rows and the converters that make them fetch_all's rows; the
catch-up's page rows built from them in one pass (catchup._msg_rows) as from fetch_all."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select

from qunzhu.engines.catchup import _msg_rows
from qunzhu.engines.fastio import fetch_all, fetch_raw
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
