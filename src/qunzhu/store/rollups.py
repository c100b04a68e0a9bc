"""Daily rollups per member and per group, added to incrementally from new events only."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Connection

from qunzhu import events as ev
from qunzhu.store.base import table_of
from qunzhu.store.batch import Written
from qunzhu.store.bulk import raw_executemany, upsert_adding, upsert_adding_sql
from qunzhu.store.models import GroupDaily, MemberDaily

MEMBER_COUNTERS = ("messages", "chars", "replies_sent", "check_ins", "flagged")
GROUP_COUNTERS = (
    "messages",
    "joins",
    "leaves",
    "removals",
    "check_ins",
    "flagged",
    "payments_cents",
)


def update_rollups(conn: Connection, written: Written) -> None:
    members: dict[tuple[int, int, int, Any], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(MEMBER_COUNTERS, 0)
    )
    groups: dict[tuple[int, int, Any], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(GROUP_COUNTERS, 0)
    )
    for r in written.of("message_posted"):
        e = r.event
        assert isinstance(e, ev.MessagePosted)
        m = members[(r.community_id, r.group_id, r.member_id, r.day)]
        m["messages"] += 1
        m["chars"] += len(e.text)
        m["replies_sent"] += 1 if e.reply_to else 0
        m["flagged"] += 1 if r.flagged else 0
        g = groups[(r.community_id, r.group_id, r.day)]
        g["messages"] += 1
        g["flagged"] += 1 if r.flagged else 0
    for r in written.of("check_in"):
        members[(r.community_id, r.group_id, r.member_id, r.day)]["check_ins"] += 1
        groups[(r.community_id, r.group_id, r.day)]["check_ins"] += 1
    for r in written.of("member_joined"):
        groups[(r.community_id, r.group_id, r.day)]["joins"] += 1
    for r in written.of("member_left"):
        e = r.event
        assert isinstance(e, ev.MemberLeft)
        column = "leaves" if e.reason == "left" else "removals"
        groups[(r.community_id, r.group_id, r.day)][column] += 1
    for r in written.of("payment_received"):
        e = r.event
        assert isinstance(e, ev.PaymentReceived)
        groups[(r.community_id, r.group_id, r.day)]["payments_cents"] += e.amount_cents
    upsert_adding(
        conn,
        table_of(MemberDaily),
        [
            {"community_id": c, "group_id": g, "member_id": m, "day": d, "value": 0.0, **counts}
            for (c, g, m, d), counts in members.items()
        ],
        ("group_id", "member_id", "day"),
        MEMBER_COUNTERS,
    )
    upsert_adding(
        conn,
        table_of(GroupDaily),
        [
            {"community_id": c, "group_id": g, "day": d, "value": 0.0, **counts}
            for (c, g, d), counts in groups.items()
        ],
        ("group_id", "day"),
        GROUP_COUNTERS,
    )


def add_message_rollups(
    conn: Connection,
    community_id: int,
    group_id: int,
    per_member: dict[tuple[int, date], list[int]],
    per_day: dict[date, int],
) -> None:
    """Add new messages of one group to the daily rollups: ``per_member`` maps (member id,
    day) to [messages, chars, replies sent], ``per_day`` maps a day to its messages (the
    bulk import's form of :func:`update_rollups`, for messages alone)."""
    if conn.dialect.name == "sqlite":
        # a big import upserts about one row per member and day in every chunk: as database
        # values straight to the driver (SQLite stores a DATE as its ISO text)
        raw_executemany(
            conn,
            upsert_adding_sql(
                table_of(MemberDaily), _MEMBER_COLUMNS, _MEMBER_KEY, _MESSAGE_COUNTERS
            ),
            [
                (community_id, group_id, m, d.isoformat(), 0.0, n, chars, replies, 0, 0)
                for (m, d), (n, chars, replies) in per_member.items()
            ],
        )
        raw_executemany(
            conn,
            upsert_adding_sql(table_of(GroupDaily), _GROUP_COLUMNS, _GROUP_KEY, GROUP_COUNTERS),
            [
                (community_id, group_id, d.isoformat(), 0.0, n, 0, 0, 0, 0, 0, 0)
                for d, n in per_day.items()
            ],
        )
        return
    upsert_adding(
        conn,
        table_of(MemberDaily),
        [dict(zip(_MEMBER_COLUMNS, (community_id, group_id, m, d, 0.0, n, chars, replies, 0, 0),
                  strict=True))
         for (m, d), (n, chars, replies) in per_member.items()],
        _MEMBER_KEY,
        _MESSAGE_COUNTERS,
    )  # fmt: skip
    upsert_adding(
        conn,
        table_of(GroupDaily),
        [dict(zip(_GROUP_COLUMNS, (community_id, group_id, d, 0.0, n, 0, 0, 0, 0, 0, 0),
                  strict=True))
         for d, n in per_day.items()],
        _GROUP_KEY,
        GROUP_COUNTERS,
    )  # fmt: skip


_MEMBER_KEY = ("group_id", "member_id", "day")
_GROUP_KEY = ("group_id", "day")
_MESSAGE_COUNTERS = ("messages", "chars", "replies_sent")
_MEMBER_COLUMNS = ["community_id", "group_id", "member_id", "day", "value", *MEMBER_COUNTERS]
_GROUP_COLUMNS = ["community_id", "group_id", "day", "value", *GROUP_COUNTERS]
