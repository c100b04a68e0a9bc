"""Daily rollups per member and per group, added to incrementally from new events only."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection

from qunzhu import events as ev
from qunzhu.store.base import table_of
from qunzhu.store.bulk import upsert_adding
from qunzhu.store.models import GroupDaily, MemberDaily
from qunzhu.store.writer import Written

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
