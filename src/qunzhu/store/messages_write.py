"""Writing messages: insert the new ones, link replies, record who speaks where."""

from __future__ import annotations

import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from json.encoder import encode_basestring_ascii as _json_string
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, select, update

from qunzhu import events as ev
from qunzhu.store.base import table_of
from qunzhu.store.batch import Resolved, Written, raw_payload
from qunzhu.store.bulk import (
    _processors,
    _sqlite_datetime,
    insert_ignoring_conflicts,
    insert_new_by_key,
    raw_executemany,
)
from qunzhu.store.memberships_write import (
    membership_event_row,
    record_referrals,
    write_memberships,
)
from qunzhu.store.models import Membership, MembershipEvent, Message
from qunzhu.store.resolve import Resolver
from qunzhu.store.rollups import add_message_rollups


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


@dataclass
class BulkWritten:
    """What one chunk of :class:`BulkMessages` added."""

    added: int = 0
    duplicates: int = 0
    replies: int = 0


# the columns of `messages` a bulk row fills, in its order (all but the id)
MESSAGE_COLUMNS = (
    "community_id", "group_id", "member_id", "key", "platform_message_id", "occurred_at",
    "kind", "text", "reply_to_platform_id", "reply_to_id", "reply_inferred", "reactions",
    "forwarded", "recalled", "edited_text", "flagged", "value", "raw",
)  # fmt: skip
# what a new message of an import holds whatever the file says
_FIXED: dict[str, Any] = {
    "reply_to_id": None, "recalled": False, "edited_text": None, "flagged": False, "value": None,
}  # fmt: skip
# the columns a bulk row holds, in its order: those that vary from message to message
# (community and group are one per import, the rest is _FIXED)
ROW_COLUMNS = tuple(c for c in MESSAGE_COLUMNS[2:] if c not in _FIXED)


def _insert_sqlite_sql(community_id: int, group_id: int) -> str:
    """The insert of a bulk row, what does not vary written into the statement: sqlite3
    binds None and bools through its adapter lookup, which cost as much per row as the
    rest of the binding. Literals store the same values (SQLite keeps a bool as 0/1)."""
    literals = {"community_id": str(int(community_id)), "group_id": str(int(group_id))}
    literals.update({c: "NULL" if v is None else str(int(v)) for c, v in _FIXED.items()})
    return (
        f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) "
        f"VALUES ({', '.join(literals.get(c, '?') for c in MESSAGE_COLUMNS)}) "
        "ON CONFLICT DO NOTHING"
    )


# replies of the rows just inserted, to any message of the group (earlier chunks, earlier
# imports, this chunk), the target found through (group_id, platform id): one statement per
# chunk. UPDATE … FROM looks each target up once; SQLite before 3.33 lacks it and gets a
# correlated subquery.
_LINK_FROM = (
    "UPDATE messages AS m SET reply_to_id = t.id FROM messages AS t WHERE {rows} "
    "AND m.reply_to_platform_id IS NOT NULL AND m.reply_to_id IS NULL "
    "AND t.group_id = m.group_id AND t.platform_message_id = m.reply_to_platform_id"
)
_TARGET = (
    "SELECT t.id FROM messages AS t WHERE t.group_id = messages.group_id "
    "AND t.platform_message_id = messages.reply_to_platform_id"
)
_LINK_SQLITE = (
    _LINK_FROM.format(rows="m.id >= ?")
    if sqlite3.sqlite_version_info >= (3, 33)
    else f"UPDATE messages SET reply_to_id = ({_TARGET}) WHERE id >= ? "
    f"AND reply_to_platform_id IS NOT NULL AND reply_to_id IS NULL AND EXISTS ({_TARGET})"
)
_LINK_POSTGRESQL = _LINK_FROM.format(rows="m.id = ANY(%s)")


class BulkMessages:
    """The import's write path for the messages of one group, chunk after chunk, each chunk
    inside the caller's transaction.

    The live path (:func:`write_messages`) takes resolved events through SQLAlchemy; an
    export of a million lines wants less per message: members from a dict filled once per
    member, rows as tuples in column order, one ``executemany`` with ``ON CONFLICT DO
    NOTHING`` on the idempotency key (a re-run adds nothing), new rows told by their ids
    (SQLite hands out max(id) + 1 under the write lock we hold; PostgreSQL says with
    RETURNING), replies linked by one ``UPDATE … FROM`` per chunk, and the daily rollups and
    implicit memberships added from the new rows only, in the same transaction: an
    interrupted import leaves whole chunks, each counted once.
    """

    def __init__(
        self,
        conn: Connection,
        resolver: Resolver,
        *,
        community_id: int,
        group_id: int,
        platform: str,
        tz: tzinfo,
    ) -> None:
        self.conn = conn
        self.resolver = resolver
        self.community_id = community_id
        self.group_id = group_id
        self.platform = platform
        self.tz = tz
        self.sqlite = conn.dialect.name == "sqlite"
        self.members: dict[str, int] = {}
        self.in_group: set[int] = set()  # members whose membership this run made sure of
        self._raw = _processors(conn, table_of(Message), ["raw"])[0]
        self._insert = _insert_sqlite_sql(community_id, group_id)

    def forget(self) -> None:
        """Ids made inside a rolled-back transaction no longer exist."""
        self.members.clear()
        self.in_group.clear()

    def write(self, items: Sequence[Posted]) -> BulkWritten:
        out = BulkWritten()
        if not items:
            return out
        self._resolve_members(items)
        params, days = self._rows(items)
        new = self._insert_sqlite(params) if self.sqlite else self._insert_postgresql(params)
        out.added = len(new)
        out.duplicates = len(items) - len(new)
        if new:
            if len(new) < len(params):
                chosen = sorted(new)
                params, days = [params[i] for i in chosen], [days[i] for i in chosen]
            if self._tally(params, days):
                out.replies = self._link_replies(new)
        return out

    def _resolve_members(self, items: Sequence[Posted]) -> None:
        members = self.members
        users = list(map(_MEMBER, items))
        unknown = set(users).difference(members)
        if not unknown:
            return
        # each unknown member's name and time where they first appear, as the pipeline takes
        # them: built from the end, the first appearance is the one that stays
        first = dict(zip(reversed(users), range(len(users) - 1, -1, -1), strict=True))
        missing = {
            u: (items[first[u]].member_name, items[first[u]].occurred_at)
            for u in sorted(unknown, key=first.__getitem__)  # ids in order of appearance
        }
        resolver, cid, platform = self.resolver, self.community_id, self.platform
        resolver.bind(self.conn)
        resolver.members_for(cid, platform, [(u, n, t) for u, (n, t) in missing.items()])
        known = resolver.members
        for user in missing:
            members[user] = known[(cid, platform, user)]

    def _rows(self, items: Sequence[Posted]) -> tuple[list[tuple[Any, ...]], list[date]]:
        """Rows in ROW_COLUMNS order (flags as 0/1: sqlite3 binds an int without its adapter
        lookup), and each row's local date."""
        members, tz = self.members, self.tz
        as_text = self.sqlite  # SQLite gets database values; PostgreSQL's COPY converts
        raw_json = self._raw if as_text else None
        null = raw_json(None) if raw_json is not None else None
        params: list[tuple[Any, ...]] = []
        days: list[date] = []
        add, add_day = params.append, days.append
        last: datetime | None = None
        # the local date is the same all through a quarter hour (present-day UTC offsets
        # and their changes fall on quarter hours): one lookup per quarter, told by two
        # comparisons with the quarter's bounds
        since = until = _EPOCH
        stamp: Any = None
        day: Any = None
        for key, message_id, member, _, at, text, kind, reply_to, inferred, _, reactions, \
                forwarded, _, raw in items:  # fmt: skip
            if at is not last:  # parsers reuse the time object of messages in the same slot
                last = at
                utc = at if at.tzinfo is UTC else at.astimezone(UTC)
                if as_text:  # _sqlite_datetime(utc), inline: this runs once per message
                    stamp = utc.isoformat(" ")[:-6]
                    if not utc.microsecond:
                        stamp += ".000000"
                else:
                    stamp = utc
                if not since <= utc < until:
                    since = _EPOCH + timedelta(seconds=int(utc.timestamp()) // 900 * 900)
                    until = since + _QUARTER
                    day = at.astimezone(tz).date()
            if raw_json is not None:
                if raw is None:
                    raw = null
                elif type(raw) is str:
                    raw = _json_string(raw)  # what json.dumps gives a str, minus its overhead
                else:
                    raw = raw_json(raw)
            add((members[member], key, message_id, stamp, kind, text, reply_to, +inferred,
                 reactions, +forwarded, raw))  # fmt: skip
            add_day(day)
        return params, days

    def _insert_sqlite(self, params: list[tuple[Any, ...]]) -> dict[int, int]:
        """Insert; {index in params: new id} of the rows that were not stored yet."""
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            first = (cursor.execute("SELECT max(id) FROM messages").fetchone()[0] or 0) + 1
            cursor.executemany(self._insert, params)
            if cursor.rowcount == len(params):  # all new: ids are consecutive, in order
                (last,) = cursor.execute("SELECT max(id) FROM messages").fetchone()
                if last != first + len(params) - 1:  # INTEGER PRIMARY KEY, our write lock
                    raise RuntimeError(f"messages: ids not consecutive ({first}..{last})")
                return {i: first + i for i in range(len(params))}
            if cursor.rowcount == 0:
                return {}
            stored = dict(cursor.execute("SELECT key, id FROM messages WHERE id >= ?", (first,)))
        finally:
            cursor.close()
        return _new_of(params, stored)

    def _insert_postgresql(self, params: list[tuple[Any, ...]]) -> dict[int, int]:
        # the COPY path converts values through the columns' own types
        cid, gid = self.community_id, self.group_id
        rows = [
            {
                "community_id": cid,
                "group_id": gid,
                **_FIXED,
                **dict(zip(ROW_COLUMNS, p, strict=True)),
                "reply_inferred": bool(p[_INFERRED_AT]),
                "forwarded": bool(p[_FORWARDED_AT]),
            }
            for p in params
        ]
        return _new_of(params, insert_new_by_key(self.conn, table_of(Message), rows))

    def _tally(self, rows: list[tuple[Any, ...]], days: list[date]) -> int:
        """Implicit memberships and daily rollups of new rows; returns how many reply.

        Counted with Counter and map where they can: this runs once per stored message."""
        members = list(map(_MEMBER_ID, rows))
        keys = list(zip(members, days, strict=True))
        counts = Counter(keys)
        chars: dict[tuple[int, date], int] = {}
        for k, n in zip(keys, map(len, map(_TEXT, rows)), strict=True):
            chars[k] = chars.get(k, 0) + n
        replying = Counter(k for k, reply in zip(keys, map(_REPLY_TO, rows), strict=True) if reply)
        per_member = {k: [n, chars[k], replying[k]] for k, n in counts.items()}
        add_message_rollups(
            self.conn, self.community_id, self.group_id, per_member, dict(Counter(days))
        )
        fresh = set(members).difference(self.in_group)
        if fresh:  # speakers this run has not yet seen: their earliest message here
            first: dict[int, Any] = {}  # the time as stored: text or datetime, both ordered
            for member, at in zip(members, map(_OCCURRED_AT, rows), strict=True):
                if member in fresh:
                    seen = first.get(member)
                    if seen is None or at < seen:
                        first[member] = at
            self._memberships(first)
        return replying.total()

    def _memberships(self, first: dict[int, Any]) -> None:
        # speaking in a group means being in it, whether or not a join was ever seen
        if not first:
            return
        cid, gid = self.community_id, self.group_id
        if self.sqlite:
            raw_executemany(self.conn, _IMPLICIT, [[cid, gid, m, at] for m, at in first.items()])
        else:
            insert_ignoring_conflicts(
                self.conn,
                table_of(Membership),
                [
                    {
                        "community_id": cid,
                        "group_id": gid,
                        "member_id": m,
                        "status": "active",
                        "joined_at": at,
                        "left_at": None,
                        "inviter_member_id": None,
                        "join_via": "unknown",
                    }
                    for m, at in first.items()
                ],
            )
        self.in_group.update(first)

    def _link_replies(self, new: dict[int, int]) -> int:
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if self.sqlite:  # this chunk's rows are the ones from its first new id on
                cursor.execute(_LINK_SQLITE, (min(new.values()),))
            else:
                cursor.execute(_LINK_POSTGRESQL, (list(new.values()),))
            return max(int(cursor.rowcount), 0)
        finally:
            cursor.close()


def _new_of(params: list[tuple[Any, ...]], stored: dict[str, int]) -> dict[int, int]:
    new: dict[int, int] = {}
    for i, p in enumerate(params):
        got = stored.pop(p[_KEY_AT], None)  # pop: the same key twice in a chunk is stored once
        if got is not None:
            new[i] = got
    return new


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_QUARTER = timedelta(minutes=15)
_MEMBER = itemgetter(2)  # Posted.member
# columns of a bulk row (ROW_COLUMNS order)
_MEMBER_ID, _OCCURRED_AT, _TEXT, _REPLY_TO = (itemgetter(ROW_COLUMNS.index(c)) for c in (
    "member_id", "occurred_at", "text", "reply_to_platform_id"))  # fmt: skip
_KEY_AT, _INFERRED_AT, _FORWARDED_AT = (
    ROW_COLUMNS.index(c) for c in ("key", "reply_inferred", "forwarded")
)
_IMPLICIT = (
    "INSERT INTO memberships (community_id, group_id, member_id, status, joined_at, left_at, "
    "inviter_member_id, join_via) VALUES (?, ?, ?, 'active', ?, NULL, NULL, 'unknown') "
    "ON CONFLICT DO NOTHING"
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
