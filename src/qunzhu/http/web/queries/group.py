"""The group page: its members (sortable, filterable, searchable, paged) and its message
stream with moderation marks. Its capacity and waitlist come from qunzhu.readmodels.capacity,
the same figures as ``qunzhu capacity show`` and ``GET …/capacity``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from qunzhu.auth.permissions import NotFound, mask_text
from qunzhu.http.web.queries.common import Page, page_of
from qunzhu.readmodels.members import VALUE_DAYS, value_window_end
from qunzhu.store.intelligence import RoleAssignment, TierState
from qunzhu.store.models import (
    Group,
    Member,
    MemberDaily,
    Membership,
    Message,
    ModerationAction,
    TierChange,
)
from qunzhu.store.uncounted import kinds_of

MEMBERS_PER_PAGE = 50
STREAM_PER_PAGE = 50
SORTS = ("value", "messages", "joined", "last", "name")
STATUSES = ("active", "left", "removed", "waitlisted", "all")


def find_group(session: Session, community_id: int, group_id: int) -> Group:
    group = session.get(Group, group_id)
    if group is None or group.community_id != community_id:
        raise NotFound(f"group {group_id} not found", field="group_id")
    return group


@dataclass(frozen=True, slots=True)
class MemberRow:
    id: int
    name: str
    status: str
    joined_at: datetime | None
    tier: str | None
    role: str | None
    value_30d: float  # member_daily.value over VALUE_DAYS; not the engines' decayed value
    messages: int
    last_active: date | None
    last_valuable: date | None
    kind: str | None = None  # bot or staff: listed, but not counted in rankings


@dataclass(frozen=True, slots=True)
class MemberQuery:
    sort: str = "value"
    status: str = "active"
    search: str = ""
    tier: str = ""
    role: str = ""
    page: int = 1

    def normalized(self) -> MemberQuery:
        return MemberQuery(
            sort=self.sort if self.sort in SORTS else "value",
            status=self.status if self.status in STATUSES else "active",
            search=self.search.strip()[:100],
            tier=self.tier.strip()[:64],
            role=self.role.strip()[:16],
            page=max(1, self.page),
        )


def _latest_tiers(community_id: int) -> Any:
    ranked = (
        select(
            TierChange.member_id,
            TierChange.tier,
            func.row_number()
            .over(
                partition_by=TierChange.member_id,
                order_by=(TierChange.changed_at.desc(), TierChange.id.desc()),
            )
            .label("n"),
        )
        .where(TierChange.community_id == community_id)
        .subquery()
    )
    return select(ranked.c.member_id, ranked.c.tier).where(ranked.c.n == 1).subquery()


def _member_select(group: Group, q: MemberQuery, end: date) -> Select[Any]:
    """``end``: the last day of "value (30 days)" (qunzhu.readmodels.members)."""
    since = end - timedelta(days=VALUE_DAYS - 1)
    agg = (
        select(
            MemberDaily.member_id,
            func.sum(MemberDaily.value).label("value"),
            func.sum(MemberDaily.messages).label("messages"),
            func.max(MemberDaily.day).label("last_active"),
            func.max(case((MemberDaily.value > 0, MemberDaily.day))).label("last_valuable"),
        )
        .where(MemberDaily.group_id == group.id, MemberDaily.day >= since, MemberDaily.day <= end)
        .group_by(MemberDaily.member_id)
        .subquery()
    )
    tiers = _latest_tiers(group.community_id)
    # the engines' current role (per group) and tier (per member); before the engines ran
    # for this community, the newest tier change stands in for the tier
    ra, ts = RoleAssignment, TierState
    role = ra.role
    tier = func.coalesce(ts.tier, tiers.c.tier)
    query = (
        select(
            Member.id,
            Member.display_name,
            Member.tags,
            Membership.status,
            Membership.joined_at,
            tier.label("tier"),
            role.label("role"),
            # the role's own figure once the engines ran (the same 30 days, summed by them)
            func.coalesce(ra.value, agg.c.value, 0.0).label("value"),
            func.coalesce(agg.c.messages, 0).label("messages"),
            agg.c.last_active,
            agg.c.last_valuable,
        )
        .join(Member, Member.id == Membership.member_id)
        .outerjoin(agg, agg.c.member_id == Membership.member_id)
        .outerjoin(tiers, tiers.c.member_id == Membership.member_id)
        .outerjoin(
            ra, (ra.group_id == Membership.group_id) & (ra.member_id == Membership.member_id)
        )
        .outerjoin(ts, ts.member_id == Membership.member_id)
        .where(Membership.group_id == group.id)
    )
    if q.status != "all":
        query = query.where(Membership.status == q.status)
    if q.search:
        query = query.where(Member.display_name.contains(q.search, autoescape=True))
    if q.tier:
        query = query.where(tier == q.tier)
    if q.role:
        query = query.where(role == q.role)
    return query


def _ordering(q: MemberQuery, query: Select[Any]) -> Select[Any]:
    cols = query.selected_columns
    order = {
        "value": (cols.value.desc(), cols.messages.desc()),
        "messages": (cols.messages.desc(),),
        "joined": (Membership.joined_at.desc(),),
        "last": (cols.last_active.desc(),),
        "name": (Member.display_name,),
    }[q.sort]
    return query.order_by(*order, Member.id)


def group_members(
    session: Session, group: Group, q: MemberQuery, today: date
) -> tuple[list[MemberRow], Page]:
    q = q.normalized()
    end = value_window_end(session.connection(), group.community_id, today)
    query = _member_select(group, q, end)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = page_of(q.page, MEMBERS_PER_PAGE, int(total))
    rows = session.execute(_ordering(q, query).limit(page.size).offset(page.offset)).all()
    kinds = kinds_of(session.connection(), group.community_id, [r.id for r in rows])
    return [
        MemberRow(
            id=r.id,
            name=r.display_name,
            status=r.status,
            joined_at=r.joined_at,
            tier=r.tier,
            role=r.role,
            value_30d=round(float(r.value), 2),
            messages=int(r.messages),
            last_active=r.last_active,
            last_valuable=r.last_valuable,
            kind=kinds.get(r.id),
        )
        for r in rows
    ], page


def tiers_in_use(session: Session, community_id: int) -> list[str]:
    found = set(
        session.scalars(
            select(TierChange.tier).where(TierChange.community_id == community_id).distinct()
        )
    )
    found |= set(
        session.scalars(
            select(TierState.tier).where(TierState.community_id == community_id).distinct()
        )
    )
    return sorted(found)


def roles_in_use(session: Session, group_id: int) -> list[str]:
    return sorted(
        set(
            session.scalars(
                select(RoleAssignment.role).where(RoleAssignment.group_id == group_id).distinct()
            )
        )
    )


@dataclass(frozen=True, slots=True)
class StreamItem:
    id: int
    at: datetime
    member_id: int
    member: str
    kind: str
    text: str
    flagged: bool
    recalled: bool
    reply: bool
    marks: list[tuple[str, str, str]]  # (action, rule, status)
    member_kind: str | None = None  # bot or staff (qunzhu.store.uncounted)


def message_stream(
    session: Session,
    group: Group,
    *,
    before: int | None,
    unmasked: bool,
    size: int = STREAM_PER_PAGE,
) -> list[StreamItem]:
    """The newest messages of the group (older pages by ``before`` id), newest first."""
    query = select(Message).where(Message.group_id == group.id)
    if before is not None:
        query = query.where(Message.id < before)
    rows = list(
        session.scalars(query.order_by(Message.occurred_at.desc(), Message.id.desc()).limit(size))
    )
    ids = [m.id for m in rows]
    marks: dict[int, list[tuple[str, str, str]]] = {}
    if ids:
        for mid, action, rule, status in session.execute(
            select(
                ModerationAction.message_id,
                ModerationAction.action,
                ModerationAction.rule,
                ModerationAction.status,
            ).where(ModerationAction.message_id.in_(ids))
        ).tuples():
            if mid is not None:
                marks.setdefault(mid, []).append((action, rule, status))
    names = (
        dict(
            session.execute(
                select(Member.id, Member.display_name).where(
                    Member.id.in_({m.member_id for m in rows})
                )
            )
            .tuples()
            .all()
        )
        if rows
        else {}
    )
    kinds = kinds_of(session.connection(), group.community_id, names)
    return [
        StreamItem(
            id=m.id,
            at=m.occurred_at,
            member_id=m.member_id,
            member=names.get(m.member_id, "?"),
            kind=m.kind,
            text=m.text if unmasked else mask_text(m.text),
            flagged=m.flagged,
            recalled=m.recalled,
            reply=m.reply_to_id is not None,
            marks=marks.get(m.id, []),
            member_kind=kinds.get(m.member_id),
        )
        for m in rows
    ]
