"""Read queries shared by the API and the dashboard.

Counts come from ``memberships`` and the ``group_daily`` rollups, never from scanning
messages, so a page costs the same with a hundred messages or a hundred million.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from qunzhu.auth.permissions import Caller, capabilities_of, mask_text
from qunzhu.readmodels.capacity import effective_caps
from qunzhu.store.models import Community, Group, GroupDaily, Membership, Quarantine


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: int
    community_id: int
    platform: str
    platform_group_id: str
    name: str
    segment: str | None
    cap: int | None  # the cap admission enforces (qunzhu.readmodels.capacity)
    members: int
    messages_7d: int
    messages_total: int


@dataclass(frozen=True, slots=True)
class CommunityRow:
    id: int
    slug: str
    name: str
    created_at: datetime
    has_spec: bool
    role: str | None
    capabilities: list[str]
    groups: list[GroupRow]
    members: int  # people: distinct members with an active membership (figure "people")

    @property
    def memberships(self) -> int:
        """Active group memberships added up over the groups: someone in two groups counts
        twice (figure "memberships"; ``members`` counts them once)."""
        return sum(g.members for g in self.groups)

    @property
    def messages_7d(self) -> int:
        return sum(g.messages_7d for g in self.groups)

    @property
    def messages_total(self) -> int:
        return sum(g.messages_total for g in self.groups)


def _groups(session: Session, community_ids: list[int], today: date) -> list[GroupRow]:
    if not community_ids:
        return []
    members = dict(
        session.execute(
            select(Membership.group_id, func.count())
            .where(Membership.community_id.in_(community_ids), Membership.status == "active")
            .group_by(Membership.group_id)
        )
        .tuples()
        .all()
    )
    since = today - timedelta(days=6)
    recent = func.sum(case((GroupDaily.day >= since, GroupDaily.messages), else_=0))
    messages = {
        g: (int(r or 0), int(t or 0))
        for g, r, t in session.execute(
            select(GroupDaily.group_id, recent, func.sum(GroupDaily.messages))
            .where(GroupDaily.community_id.in_(community_ids))
            .group_by(GroupDaily.group_id)
        ).tuples()
    }
    caps = effective_caps(session.connection(), community_ids)
    rows = session.execute(
        select(Group)
        .where(Group.community_id.in_(community_ids))
        .order_by(Group.community_id, Group.name, Group.id)
    ).scalars()
    return [
        GroupRow(
            id=g.id,
            community_id=g.community_id,
            platform=g.platform,
            platform_group_id=g.platform_group_id,
            name=g.name,
            segment=g.segment,
            cap=caps.get(g.id),
            members=int(members.get(g.id, 0)),
            messages_7d=messages.get(g.id, (0, 0))[0],
            messages_total=messages.get(g.id, (0, 0))[1],
        )
        for g in rows
    ]


def communities_for(
    session: Session, caller: Caller, today: date, only: int | None = None
) -> list[CommunityRow]:
    """The communities ``caller`` may see (or just ``only``), with their groups and counts."""
    query = select(Community).order_by(Community.name, Community.slug)
    if only is not None:
        query = query.where(Community.id == only)
    elif not caller.is_superuser:
        query = query.where(Community.id.in_(list(caller.roles)))
    communities = [c for c in session.scalars(query) if caller.sees(c.id)]
    ids = [c.id for c in communities]
    groups: dict[int, list[GroupRow]] = {i: [] for i in ids}
    for g in _groups(session, ids, today):
        groups[g.community_id].append(g)
    members = (
        dict(
            session.execute(
                select(Membership.community_id, func.count(distinct(Membership.member_id)))
                .where(Membership.community_id.in_(ids), Membership.status == "active")
                .group_by(Membership.community_id)
            )
            .tuples()
            .all()
        )
        if ids
        else {}
    )
    return [
        CommunityRow(
            id=c.id,
            slug=c.slug,
            name=c.name,
            created_at=c.created_at,
            has_spec=bool(c.spec_yaml),
            role=caller.role_in(c.id),
            capabilities=capabilities_of(caller, c.id),
            groups=groups[c.id],
            members=int(members.get(c.id, 0)),
        )
        for c in communities
    ]


@dataclass(frozen=True, slots=True)
class QuarantineRow:
    id: int
    source: str
    location: str
    reason: str
    payload: str
    created_at: datetime
    resolved: bool


def quarantine_for(
    session: Session, community_id: int, *, limit: int, offset: int, unmasked: bool
) -> tuple[list[QuarantineRow], bool]:
    """Newest first; the second value says whether there are more after this page."""
    rows = list(
        session.scalars(
            select(Quarantine)
            .where(Quarantine.community_id == community_id)
            .order_by(Quarantine.created_at.desc(), Quarantine.id.desc())
            .limit(limit + 1)
            .offset(offset)
        )
    )
    items = [
        QuarantineRow(
            id=q.id,
            source=q.source,
            location=q.location,
            reason=q.reason,
            payload=q.payload if unmasked else mask_text(q.payload),
            created_at=q.created_at,
            resolved=q.resolved,
        )
        for q in rows[:limit]
    ]
    return items, len(rows) > limit
