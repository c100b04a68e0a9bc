"""What the store knows about where a community can send: the platforms it has a live
connector for, the chats a connector marked disabled (the bot was removed or lost its
rights) with the reason it recorded — what a send's preview needs to say "not possible" —
the segments a send may choose, and the names of the chats a broadcast went to."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.store.community import Group, Identity, Member
from qunzhu.store.connectors import Connector, ConnectorGroup


def connected_platforms(session: Session, community_id: int) -> set[str]:
    found = session.scalars(
        select(Connector.platform)
        .where(Connector.community_id == community_id, Connector.enabled.is_(True))
        .distinct()
    )
    return set(found)


def disabled_chats(session: Session, community_id: int) -> dict[tuple[str, str], str]:
    rows = session.execute(
        select(Connector.platform, ConnectorGroup.platform_group_id, ConnectorGroup.reason)
        .join(Connector, Connector.id == ConnectorGroup.connector_id)
        .where(
            ConnectorGroup.community_id == community_id,
            Connector.community_id == community_id,
            ConnectorGroup.status != "active",
        )
    ).all()
    return {(r.platform, r.platform_group_id): r.reason or "" for r in rows}


def segments_in_use(session: Session, community_id: int) -> list[str]:
    """The segments the community's groups belong to (what a send may target)."""
    found = session.scalars(
        select(Group.segment)
        .where(Group.community_id == community_id, Group.segment.is_not(None))
        .distinct()
        .order_by(Group.segment)
    )
    return [s for s in found if s]


def chat_names(
    session: Session, community_id: int, chats: Iterable[tuple[str, str, bool]]
) -> dict[tuple[str, str], str]:
    """Names for (platform, chat, private) of deliveries: the group's, or the member's."""
    wanted = set(chats)
    groups = {(p, c) for p, c, private in wanted if not private}
    people = {(p, c) for p, c, private in wanted if private}
    names: dict[tuple[str, str], str] = {}
    if groups:
        for platform, chat, name in session.execute(
            select(Group.platform, Group.platform_group_id, Group.name).where(
                Group.community_id == community_id,
                Group.platform_group_id.in_({c for _, c in groups}),
            )
        ):
            names[(platform, chat)] = name
    if people:
        for platform, user, name, display in session.execute(
            select(Identity.platform, Identity.platform_user_id, Identity.name, Member.display_name)
            .join(Member, Member.id == Identity.member_id)
            .where(
                Identity.community_id == community_id,
                Member.community_id == community_id,
                Identity.platform_user_id.in_({c for _, c in people}),
            )
        ):
            names[(platform, user)] = display or name or user
    return names
