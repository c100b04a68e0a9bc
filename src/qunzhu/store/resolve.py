"""Turn platform names (community slug, group id, user id) into row ids, creating on first sight.

Caches live for one pipeline run. Creation is ``INSERT … ON CONFLICT DO NOTHING`` followed by
a read, so two workers meeting the same new member both end up with the one row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from qunzhu.store.base import table_of
from qunzhu.store.bulk import _db_values, insert_ignoring_conflicts, raw_executemany
from qunzhu.store.models import Community, Group, Identity, Member, utcnow


class CommunitySpecText(NamedTuple):
    slug: str
    spec_yaml: str | None


_SPECS_KEY = "qunzhu.community_specs"

# The live path runs these for every batch: built once, a statement costs its execution only
# (building a select and its cache key each time cost about five times the query on SQLite).
_communities = table_of(Community)
_SPECS = select(_communities.c.id, _communities.c.slug, _communities.c.spec_yaml).where(
    _communities.c.id.in_(bindparam("ids", expanding=True))
)
_ident = table_of(Identity)
_IDENTITIES = select(_ident.c.platform_user_id, _ident.c.member_id).where(
    _ident.c.community_id == bindparam("community_id"),
    _ident.c.platform == bindparam("platform"),
    _ident.c.platform_user_id.in_(bindparam("users", expanding=True)),
)
_groups = table_of(Group)
_GROUP = select(_groups.c.id).where(
    _groups.c.community_id == bindparam("community_id"),
    _groups.c.platform == bindparam("platform"),
    _groups.c.platform_group_id == bindparam("group"),
)


def _insert_members_sqlite(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """SQLite: new members by one raw ``executemany`` with their ids given, instead of an
    ``INSERT .. RETURNING`` through SQLAlchemy's per-row parameter handling. The writer
    holds the lock (BEGIN IMMEDIATE), and an INTEGER PRIMARY KEY without AUTOINCREMENT
    takes max(id) + 1: the very ids SQLite would have given, in the rows' order."""
    table = table_of(Member)
    columns = [c.name for c in table.columns if c.name != "id"]
    first = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    ids = list(range(first, first + len(rows)))
    values = [[i, *v] for i, v in zip(ids, _db_values(conn, table, columns, rows), strict=True)]
    raw_executemany(
        conn,
        f"INSERT INTO {table.name} (id, {', '.join(columns)}) "
        f"VALUES ({', '.join('?' * (len(columns) + 1))})",
        values,
    )
    return ids


def community_specs(conn: Connection, community_ids: Iterable[int]) -> dict[int, CommunitySpecText]:
    """Slug and stored spec of each community, read at most once per transaction.

    The stages of one pipeline batch (moderation, scoring, growth) all need the spec; they
    share this one read instead of one each. It is kept for the transaction only, so a spec
    edited in the dashboard or with ``qunzhu community`` (another transaction, maybe another
    process) is what the next batch reads. Parsing is cached by the callers, keyed by the text.
    """
    wanted = set(community_ids)
    txn = conn.get_transaction()
    memo = conn.info.get(_SPECS_KEY)
    if txn is None or memo is None or memo[0] is not txn:
        # the transaction object itself is the key: a new transaction is a new object
        memo = (txn, {})
        if txn is not None:
            conn.info[_SPECS_KEY] = memo
    known: dict[int, CommunitySpecText] = memo[1]
    missing = sorted(wanted - known.keys())
    if missing:
        for cid, slug, text in conn.execute(_SPECS, {"ids": missing}):
            known[int(cid)] = CommunitySpecText(slug, text)
    return {cid: known[cid] for cid in wanted if cid in known}


_BY_SLUG = select(_communities.c.id).where(_communities.c.slug == bindparam("slug"))


def community_id_by_slug(db: Session | Connection, slug: str) -> int | None:
    """The id of community ``slug``, None where there is none: each caller says so in the
    words (and error type) of its own command or API."""
    found = db.execute(_BY_SLUG, {"slug": slug}).scalar()
    return None if found is None else int(found)


class UnknownCommunity(LookupError):
    def __init__(self, slug: str) -> None:
        super().__init__(
            f"unknown community {slug!r} (create it first: qunzhu community create {slug})"
        )
        self.slug = slug


class Resolver:
    def __init__(self, conn: Connection, *, create_communities: bool) -> None:
        self.conn = conn
        self.create_communities = create_communities
        self.communities: dict[str, int] = {}
        self.groups: dict[tuple[int, str, str], int] = {}
        self.members: dict[tuple[int, str, str], int] = {}
        self.bots: set[int] = set()  # marked as bots in this run already
        self.new_members = 0

    def bind(self, conn: Connection) -> None:
        """Use a new connection (a new transaction) but keep what is known to exist."""
        self.conn = conn

    def forget_since_rollback(self) -> None:
        # ids created inside a rolled-back transaction no longer exist
        self.communities.clear()
        self.groups.clear()
        self.members.clear()
        self.bots.clear()

    def community(self, slug: str) -> int:
        found = self.communities.get(slug)
        if found is not None:
            return found
        table = table_of(Community)
        row = self.conn.execute(select(table.c.id).where(table.c.slug == slug)).first()
        if row is None:
            if not self.create_communities:
                raise UnknownCommunity(slug)
            insert_ignoring_conflicts(
                self.conn, table, [{"slug": slug, "name": slug, "created_at": utcnow()}]
            )
            row = self.conn.execute(select(table.c.id).where(table.c.slug == slug)).one()
        self.communities[slug] = row[0]
        return int(row[0])

    def group(self, community_id: int, platform: str, group: str, name: str = "") -> int:
        key = (community_id, platform, group)
        found = self.groups.get(key)
        if found is not None:
            return found
        params = {"community_id": community_id, "platform": platform, "group": group}
        row = self.conn.execute(_GROUP, params).first()
        if row is None:
            insert_ignoring_conflicts(
                self.conn,
                _groups,
                [
                    {
                        "community_id": community_id,
                        "platform": platform,
                        "platform_group_id": group,
                        "name": name or group,
                        "created_at": utcnow(),
                    }
                ],
            )
            row = self.conn.execute(_GROUP, params).one()
        self.groups[key] = int(row[0])
        return int(row[0])

    def members_for(
        self, community_id: int, platform: str, wanted: Iterable[tuple[str, str, datetime]]
    ) -> None:
        """Make sure every (user id, name, first seen) has a member; fills the cache."""
        missing: dict[str, tuple[str, datetime]] = {}
        for user, name, seen in wanted:
            if (community_id, platform, user) not in self.members and user not in missing:
                missing[user] = (name, seen)
        if not missing:
            return
        ident, members = table_of(Identity), table_of(Member)
        self._load(community_id, platform, list(missing))
        still = [u for u in missing if (community_id, platform, u) not in self.members]
        if not still:
            return
        now = utcnow()
        member_rows = [
            {
                "community_id": community_id,
                "display_name": missing[u][0] or u,
                "first_seen_at": missing[u][1],
                "created_at": now,
                "tags": {},
                "protected": False,
            }
            for u in still
        ]
        sqlite = self.conn.dialect.name == "sqlite"
        if sqlite:
            ids = _insert_members_sqlite(self.conn, member_rows)
        else:
            ids = [
                r[0]
                for r in self.conn.execute(
                    members.insert().returning(members.c.id, sort_by_parameter_order=True),
                    member_rows,
                )
            ]
        identity_rows = [
            {
                "community_id": community_id,
                "member_id": mid,
                "platform": platform,
                "platform_user_id": u,
                "name": missing[u][0],
            }
            for u, mid in zip(still, ids, strict=True)
        ]
        if sqlite:
            # the writer holds the lock since the read above found none of these identities:
            # every one is inserted now, with the member made for it
            insert_ignoring_conflicts(self.conn, ident, identity_rows)
            self.members.update(
                ((community_id, platform, u), mid) for u, mid in zip(still, ids, strict=True)
            )
            self.new_members += len(still)
        else:
            inserted = insert_ignoring_conflicts(
                self.conn, ident, identity_rows, ident.c.platform_user_id
            )
            self.new_members += len(inserted)
            self._load(community_id, platform, still)
        # a concurrent worker won the race for some identities: drop our orphan members
        orphans = set(ids) - {self.members[(community_id, platform, u)] for u in still}
        if orphans:
            self.conn.execute(members.delete().where(members.c.id.in_(orphans)))

    def mark_bots(self, community_id: int, platform: str, users: Iterable[str]) -> None:
        """The platform says these (already resolved) users are bots: flag their members,
        unless an operator has had the last word on them (``members unmark-bot``)."""
        ids = {self.members[(community_id, platform, u)] for u in users} - self.bots
        if not ids:
            return
        m = table_of(Member)
        self.conn.execute(
            update(m)
            .where(
                m.c.community_id == community_id,
                m.c.id.in_(sorted(ids)),
                m.c.is_bot.is_(False),
                or_(m.c.bot_marked_by.is_(None), m.c.bot_marked_by != "operator"),
            )
            .values(is_bot=True, bot_marked_by="platform")
        )
        self.bots |= ids

    def _load(self, community_id: int, platform: str, users: list[str]) -> None:
        for start in range(0, len(users), 500):
            part = users[start : start + 500]
            rows = self.conn.execute(
                _IDENTITIES, {"community_id": community_id, "platform": platform, "users": part}
            )
            for user, member_id in rows:
                self.members[(community_id, platform, user)] = int(member_id)

    def member(self, community_id: int, platform: str, user: str) -> int:
        return self.members[(community_id, platform, user)]
