"""Writing messages, per event: insert the new ones, record who speaks where, link replies;
the rows the importers yield (:class:`Posted`); joins and leaves on SQLite."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection

from qunzhu import events as ev
from qunzhu.store.base import table_of
from qunzhu.store.batch import Resolved, Written, raw_payload
from qunzhu.store.bulk import _sqlite_datetime, insert_new_by_key
from qunzhu.store.memberships_write import (
    membership_event_row,
    record_referrals,
    write_memberships,
)
from qunzhu.store.models import MembershipEvent, Message
from qunzhu.store.speaking import link_replies, speakers_are_members


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


def write_messages(conn: Connection, items: list[Resolved], out: Written) -> list[Resolved]:
    """Insert new messages; speaking makes a membership; link replies (the last two shared
    with the bulk writer, :mod:`qunzhu.store.speaking`)."""
    ids = insert_new_by_key(conn, table_of(Message), [message_row(r) for r in items])
    out.message_ids.update(ids)
    new = [r for r in items if r.event.key in ids]
    speakers_are_members(
        conn, ((r.community_id, r.group_id, r.member_id, r.event.occurred_at) for r in new)
    )
    if any(getattr(r.event, "reply_to", None) for r in new):
        out.replies += link_replies(conn, [ids[r.event.key] for r in new])
    return new


class Posted(NamedTuple):
    """A message on the import's hot path (what importers' ``rows`` yield): ``MessagePosted``
    without the per-file constants (platform, community, group) and without an Event per
    message — a tuple costs a fraction of a validated frozen dataclass. Importers give one
    member, one message id, a known kind and an aware time; :meth:`event` makes the Event
    when one is wanted."""

    key: str
    message_id: str
    member: str
    member_name: str
    occurred_at: datetime
    text: str
    kind: str = "text"
    reply_to: str | None = None
    reply_inferred: bool = False
    mentions: tuple[str, ...] = ()
    reactions: int = 0
    forwarded: bool = False
    attachment: str | None = None
    raw: Any = None

    def event(self, platform: str, community: str, group: str) -> ev.MessagePosted:
        return ev.MessagePosted(
            platform=platform,
            community=community,
            group=group,
            member=self.member,
            member_name=self.member_name,
            occurred_at=self.occurred_at,
            message_id=self.message_id,
            key=self.key,
            text=self.text,
            kind=self.kind,
            reply_to=self.reply_to,
            reply_inferred=self.reply_inferred,
            mentions=self.mentions,
            reactions=self.reactions,
            forwarded=self.forwarded,
            attachment=self.attachment,
            raw=self.raw,
        )


# A member's standing after a join or a leave, as memberships_write.write_memberships
# states it with SQLAlchemy, here as SQLite statements run straight by the driver: history
# replays hundreds of thousands of joins and leaves, and building an UPDATE per event cost
# more than all the messages around it.
_JOIN_INSERT = (
    "INSERT INTO memberships (community_id, group_id, member_id, status, joined_at, left_at, "
    "inviter_member_id, join_via) VALUES (?, ?, ?, 'active', ?, NULL, ?, ?) "
    "ON CONFLICT DO NOTHING"
)
# a later join (a re-join) supersedes; an older one only fills what is missing
_JOIN_UPDATE = (
    "UPDATE memberships SET status = 'active', joined_at = ?, left_at = NULL, "
    "inviter_member_id = ?, join_via = ? WHERE group_id = ? AND member_id = ? "
    "AND (left_at IS NULL OR left_at <= ?) "
    "AND (joined_at IS NULL OR joined_at >= ? OR left_at IS NOT NULL)"
)
_LEAVE_UPDATE = (
    "UPDATE memberships SET status = ?, left_at = ? WHERE group_id = ? AND member_id = ? "
    "AND (joined_at IS NULL OR joined_at <= ?)"
)
_LEFT_STATUS = {"left": "left", "removed": "removed", "banned": "banned"}


def write_membership_changes(conn: Connection, items: list[Resolved]) -> list[Resolved]:
    """:func:`~qunzhu.store.memberships_write.write_memberships` (joins and leaves recorded
    once each, the current membership brought up to date, referrals), the same statements in
    the same order; on SQLite they go to the driver directly."""
    if conn.dialect.name != "sqlite":
        return write_memberships(conn, items)
    keys = insert_new_by_key(
        conn, table_of(MembershipEvent), [membership_event_row(r) for r in items]
    )
    new = [r for r in items if r.event.key in keys]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for r in sorted(new, key=lambda r: r.event.occurred_at):
            e = r.event
            at = _sqlite_datetime(e.occurred_at)
            if isinstance(e, ev.MemberJoined):
                inviter = r.other_member_id
                cursor.execute(
                    _JOIN_INSERT, (r.community_id, r.group_id, r.member_id, at, inviter, e.via)
                )
                cursor.execute(_JOIN_UPDATE, (at, inviter, e.via, r.group_id, r.member_id, at, at))
            else:
                assert isinstance(e, ev.MemberLeft)
                status = _LEFT_STATUS[e.reason]
                cursor.execute(_LEAVE_UPDATE, (status, at, r.group_id, r.member_id, at))
    finally:
        cursor.close()
    record_referrals(conn, new)
    return new
