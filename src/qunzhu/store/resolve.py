"""Turn platform names (community slug, group id, user id) into row ids, creating on first sight.

Caches live for one pipeline run. Creation is ``INSERT … ON CONFLICT DO NOTHING`` followed by
a read, so two workers meeting the same new member both end up with the one row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, select

from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.models import Community, Group, Identity, Member, utcnow


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
        self.new_members = 0

    def bind(self, conn: Connection) -> None:
        """Use a new connection (a new transaction) but keep what is known to exist."""
        self.conn = conn

    def forget_since_rollback(self) -> None:
        # ids created inside a rolled-back transaction no longer exist
        self.communities.clear()
        self.groups.clear()
        self.members.clear()

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
        table = table_of(Group)
        where = (
            (table.c.community_id == community_id)
            & (table.c.platform == platform)
            & (table.c.platform_group_id == group)
        )
        row = self.conn.execute(select(table.c.id).where(where)).first()
        if row is None:
            insert_ignoring_conflicts(
                self.conn,
                table,
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
            row = self.conn.execute(select(table.c.id).where(where)).one()
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
        ids = [
            r[0]
            for r in self.conn.execute(
                table_of(Member)
                .insert()
                .returning(table_of(Member).c.id, sort_by_parameter_order=True),
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
        inserted = insert_ignoring_conflicts(
            self.conn, ident, identity_rows, ident.c.platform_user_id
        )
        self.new_members += len(inserted)
        self._load(community_id, platform, still)
        # a concurrent worker won the race for some identities: drop our orphan members
        orphans = set(ids) - {self.members[(community_id, platform, u)] for u in still}
        if orphans:
            self.conn.execute(members.delete().where(members.c.id.in_(orphans)))

    def _load(self, community_id: int, platform: str, users: list[str]) -> None:
        ident = table_of(Identity)
        for start in range(0, len(users), 500):
            part = users[start : start + 500]
            rows = self.conn.execute(
                select(ident.c.platform_user_id, ident.c.member_id).where(
                    ident.c.community_id == community_id,
                    ident.c.platform == platform,
                    ident.c.platform_user_id.in_(part),
                )
            )
            for user, member_id in rows:
                self.members[(community_id, platform, user)] = int(member_id)

    def member(self, community_id: int, platform: str, user: str) -> int:
        return self.members[(community_id, platform, user)]
