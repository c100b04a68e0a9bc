"""Who and what a community has, for commands that act on "all of them": its slugs, its
members counted on their own, how many messages it has. Each query
but the list of communities is scoped by the community's id."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from qunzhu.store.models import Community, Member, Message


def community_slugs(conn: Connection) -> list[str]:
    """Every community's slug, in order (for commands run over all communities)."""
    return [str(s) for s in conn.execute(select(Community.slug).order_by(Community.slug)).scalars()]


def member_ids(conn: Connection, community_id: int) -> list[int]:
    """The community's members that count on their own (not merged into another), by id."""
    return [
        int(m)
        for m in conn.execute(
            select(Member.id)
            .where(Member.community_id == community_id, Member.merged_into_id.is_(None))
            .order_by(Member.id)
        ).scalars()
    ]


def message_count(conn: Connection, community_id: int) -> int:
    """Messages stored for the community."""
    query = select(func.count()).where(Message.community_id == community_id)
    return int(conn.execute(query).scalar() or 0)
