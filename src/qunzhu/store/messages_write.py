"""Writing messages: insert the new ones, link replies, record who speaks where."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from qunzhu import events as ev
from qunzhu.store.base import table_of
from qunzhu.store.batch import Resolved, Written, raw_payload
from qunzhu.store.bulk import insert_ignoring_conflicts, insert_new_by_key, raw_executemany
from qunzhu.store.models import Membership, Message


def message_row(r: Resolved) -> dict[str, Any]:
    e = r.event
    assert isinstance(e, ev.MessagePosted)
    return {
        "community_id": r.community_id,
        "group_id": r.group_id,
        "member_id": r.member_id,
        "key": e.key,
        "platform_message_id": e.message_id,
        "occurred_at": e.occurred_at,
        "kind": e.kind,
        "text": e.text,
        "reply_to_platform_id": e.reply_to,
        "reply_to_id": None,
        "reply_inferred": e.reply_inferred,
        "reactions": e.reactions,
        "forwarded": e.forwarded,
        "recalled": False,
        "edited_text": None,
        "flagged": r.flagged,
        "value": None,
        "raw": raw_payload(e),
    }


class RecentMessages:
    """Ids of recently stored messages by (group id, platform message id), bounded.

    Replies mostly point at recent messages; remembering them spares a query per chunk,
    and a query on a table that grew since its statistics were taken can be slow.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self.ids: OrderedDict[tuple[int, str], int] = OrderedDict()

    def remember(self, group_id: int, platform_id: str, message_id: int) -> None:
        self.ids[(group_id, platform_id)] = message_id
        if len(self.ids) > self.limit:
            self.ids.popitem(last=False)

    def forget(self) -> None:
        self.ids.clear()


def write_messages(
    conn: Connection, recent: RecentMessages, items: list[Resolved], out: Written
) -> list[Resolved]:
    """Insert new messages; link replies; speaking makes a membership."""
    table = table_of(Message)
    ids = insert_new_by_key(conn, table, [message_row(r) for r in items])
    out.message_ids.update(ids)
    new = [r for r in items if r.event.key in ids]
    for r in new:
        assert isinstance(r.event, ev.MessagePosted)
        recent.remember(r.group_id, r.event.message_id, ids[r.event.key])
    _implicit_memberships(conn, new)
    out.replies += _link_replies(conn, recent, new, ids)
    return new


def _implicit_memberships(conn: Connection, new: list[Resolved]) -> None:
    # speaking in a group means being in it, whether or not a join was ever seen
    first: dict[tuple[int, int], Resolved] = {}
    for r in new:
        pair = (r.group_id, r.member_id)
        if pair not in first or r.event.occurred_at < first[pair].event.occurred_at:
            first[pair] = r
    insert_ignoring_conflicts(
        conn,
        table_of(Membership),
        [
            {
                "community_id": r.community_id,
                "group_id": g,
                "member_id": m,
                "status": "active",
                "joined_at": r.event.occurred_at,
                "left_at": None,
                "inviter_member_id": None,
                "join_via": "unknown",
            }
            for (g, m), r in first.items()
        ],
    )


def _link_replies(
    conn: Connection, recent: RecentMessages, new: list[Resolved], ids: dict[str, int]
) -> int:
    wanted = [
        (r, r.event.reply_to)
        for r in new
        if isinstance(r.event, ev.MessagePosted) and r.event.reply_to
    ]
    if not wanted:
        return 0
    table = table_of(Message)
    targets = recent.ids
    missing = [(r, p) for r, p in wanted if p and (r.group_id, p) not in targets]
    for group_id in {r.group_id for r, _ in missing}:
        platform_ids = sorted({p for r, p in missing if r.group_id == group_id and p})
        for start in range(0, len(platform_ids), 500):
            rows = conn.execute(
                select(table.c.platform_message_id, table.c.id).where(
                    table.c.group_id == group_id,
                    table.c.platform_message_id.in_(platform_ids[start : start + 500]),
                )
            )
            for pid, mid in rows:
                if (group_id, pid) not in targets:
                    recent.remember(group_id, pid, mid)
    links = [
        {"b_id": ids[r.event.key], "b_reply": targets[(r.group_id, p)]}
        for r, p in wanted
        if p and (r.group_id, p) in targets
    ]
    if links and conn.dialect.name == "sqlite":
        raw_executemany(
            conn,
            "UPDATE messages SET reply_to_id = ? WHERE id = ?",
            [[link["b_reply"], link["b_id"]] for link in links],
        )
    elif links:
        conn.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(reply_to_id=bindparam("b_reply")),
            links,
        )
    return len(links)
