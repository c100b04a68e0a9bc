"""The bulk writer's messages: an export's messages for one group, chunk after chunk."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from json.encoder import encode_basestring_ascii as _json_string
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

from qunzhu.store.base import table_of
from qunzhu.store.bulk import _processors, insert_new_by_key
from qunzhu.store.messages_write import Posted
from qunzhu.store.models import Message
from qunzhu.store.resolve import Resolver
from qunzhu.store.rollups import add_message_rollups
from qunzhu.store.speaking import link_replies, speakers_are_members


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


class BulkMessages:
    """The bulk writer's messages of one group, chunk after chunk, each chunk inside the
    caller's transaction.

    The per-event writer (:func:`~qunzhu.store.messages_write.write_messages`) takes resolved
    events through SQLAlchemy; an export of a million lines wants less per message: members
    from a dict filled once per member, rows as tuples in column order, one ``executemany``
    with ``ON CONFLICT DO NOTHING`` on the idempotency key (a re-run adds nothing), new rows
    told by their ids (SQLite hands out max(id) + 1 under the write lock we hold; PostgreSQL
    says with RETURNING), and the daily rollups added from the new rows only, in the same
    transaction: an interrupted import leaves whole chunks, each counted once. Memberships of
    the speakers and reply links are the per-event writer's own (:mod:`qunzhu.store.speaking`).
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
                out.replies = link_replies(self.conn, new.values())
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
        if fresh:  # speakers this run has not yet seen in the group
            cid, gid = self.community_id, self.group_id
            speakers_are_members(
                self.conn,
                (
                    (cid, gid, member, at)
                    for member, at in zip(members, map(_OCCURRED_AT, rows), strict=True)
                    if member in fresh
                ),
            )
            self.in_group.update(fresh)
        return replying.total()


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
