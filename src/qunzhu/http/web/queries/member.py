"""The member page: who they are (masked as the role requires), what they did, what it was
worth in the last 30 days and why, their tier and what the next one needs (from
qunzhu.readmodels.members, the figures of ``qunzhu members explain``), referrals and orders;
their sanctions in words come from queries/problems.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.auth.permissions import NotFound, mask_name, mask_phone, mask_text
from qunzhu.readmodels.members import VALUE_DAYS, tier_standing, value_window_end
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.intelligence import RoleAssignment, RoleChange
from qunzhu.store.models import (
    CheckInRecord,
    Group,
    Identity,
    Member,
    MemberDaily,
    Membership,
    MembershipEvent,
    Message,
    Order,
    Payment,
    Referral,
    TierChange,
)
from qunzhu.store.uncounted import kinds_of

TIMELINE_ITEMS = 40


def find_member(session: Session, community_id: int, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.community_id != community_id:
        raise NotFound(f"member {member_id} not found", field="member_id")
    return member


@dataclass(frozen=True, slots=True)
class Who:
    id: int
    name: str
    real_name: str | None
    phone: str | None
    first_seen_at: datetime | None
    protected: bool
    merged_into_id: int | None
    identities: list[tuple[str, str]]
    kind: str | None = None  # bot or staff: not counted in rankings (qunzhu.store.uncounted)


def who(session: Session, member: Member, unmasked: bool) -> Who:
    identities = [
        (i.platform, i.name)
        for i in session.scalars(
            select(Identity).where(Identity.member_id == member.id).order_by(Identity.platform)
        )
    ]
    return Who(
        id=member.id,
        name=member.display_name,
        real_name=member.real_name if unmasked else mask_name(member.real_name),
        phone=member.phone if unmasked else mask_phone(member.phone),
        first_seen_at=member.first_seen_at,
        protected=member.protected,
        merged_into_id=member.merged_into_id,
        identities=identities,
        kind=kinds_of(session.connection(), member.community_id, [member.id]).get(member.id),
    )


def memberships(session: Session, member_id: int) -> list[dict[str, Any]]:
    return [
        {
            "group_id": g.id,
            "group": g.name,
            "status": m.status,
            "joined_at": m.joined_at,
            "left_at": m.left_at,
            "via": m.join_via,
        }
        for m, g in session.execute(
            select(Membership, Group)
            .join(Group, Group.id == Membership.group_id)
            .where(Membership.member_id == member_id)
            .order_by(Membership.joined_at)
        ).tuples()
    ]


@dataclass(frozen=True, slots=True)
class TimelineItem:
    at: datetime
    kind: str
    text: str
    group: str
    roles: tuple[str, str] | None = None  # a role change: (before or "", after), as codes
    tiers: tuple[str, str] | None = None  # a tier change: (before or "", after), tier ids


def timeline(
    session: Session, member_id: int, groups: dict[int, str], unmasked: bool
) -> list[TimelineItem]:
    """The member's newest events of every kind, newest first (each kind bounded)."""
    n = TIMELINE_ITEMS
    items: list[TimelineItem] = []
    for m in session.scalars(
        select(Message)
        .where(Message.member_id == member_id)
        .order_by(Message.occurred_at.desc())
        .limit(n)
    ):
        text = m.text if unmasked else mask_text(m.text)
        items.append(TimelineItem(m.occurred_at, "message", text[:200], groups.get(m.group_id, "")))
    for e in session.scalars(
        select(MembershipEvent)
        .where(MembershipEvent.member_id == member_id)
        .order_by(MembershipEvent.occurred_at.desc())
        .limit(n)
    ):
        items.append(TimelineItem(e.occurred_at, e.kind, e.via or "", groups.get(e.group_id, "")))
    for c in session.scalars(
        select(CheckInRecord)
        .where(CheckInRecord.member_id == member_id)
        .order_by(CheckInRecord.occurred_at.desc())
        .limit(n)
    ):
        items.append(TimelineItem(c.occurred_at, "check_in", c.name, groups.get(c.group_id, "")))
    for p in session.scalars(
        select(Payment)
        .where(Payment.member_id == member_id)
        .order_by(Payment.occurred_at.desc())
        .limit(n)
    ):
        items.append(
            TimelineItem(p.occurred_at, "payment", f"{p.amount_cents / 100:.2f} {p.currency}", "")
        )
    for t in session.scalars(
        select(TierChange)
        .where(TierChange.member_id == member_id)
        .order_by(TierChange.changed_at.desc())
        .limit(n)
    ):
        items.append(
            TimelineItem(t.changed_at, "tier", "", "", tiers=(t.previous_tier or "", t.tier))
        )
    for r in session.scalars(
        select(RoleChange)
        .where(RoleChange.member_id == member_id)
        .order_by(RoleChange.day.desc(), RoleChange.id.desc())
        .limit(n)
    ):
        at = datetime.combine(r.day, time.min, tzinfo=UTC)
        roles = (r.previous_role or "", r.role)
        items.append(TimelineItem(at, "role", "", groups.get(r.group_id, ""), roles))
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:n]


@dataclass(frozen=True, slots=True)
class ValueLine:
    group_id: int
    group: str
    messages: int
    chars: int
    replies: int
    check_ins: int
    flagged: int
    value: float
    days_active: int
    detail: dict[str, float] = field(default_factory=dict)


def value_explained(
    session: Session, community_id: int, member_id: int, groups: dict[int, str], today: date
) -> list[ValueLine]:
    """Per group over the 30 days of "value (30 days)" (qunzhu.readmodels.members): what the
    member did, and the value it earned, with the engine's breakdown (member_daily.detail)
    summed when the engine left one."""
    end = value_window_end(session.connection(), community_id, today)
    since = end - timedelta(days=VALUE_DAYS - 1)
    lines: dict[int, dict[str, Any]] = {}
    for r in session.scalars(
        select(MemberDaily).where(
            MemberDaily.member_id == member_id,
            MemberDaily.community_id == community_id,
            MemberDaily.day >= since,
            MemberDaily.day <= end,
        )
    ):
        line = lines.setdefault(
            r.group_id,
            {
                "messages": 0,
                "chars": 0,
                "replies": 0,
                "check_ins": 0,
                "flagged": 0,
                "value": 0.0,
                "days_active": 0,
                "detail": {},
            },
        )
        line["messages"] += r.messages
        line["chars"] += r.chars
        line["replies"] += r.replies_sent
        line["check_ins"] += r.check_ins
        line["flagged"] += r.flagged
        line["value"] += r.value
        line["days_active"] += 1 if r.messages or r.check_ins else 0
        for key, amount in (r.detail or {}).items():
            if isinstance(amount, int | float):
                line["detail"][key] = line["detail"].get(key, 0.0) + float(amount)
    # once the engines ran, a group's figure is the value its role was decided on: the same
    # 30 days summed by them (qunzhu.readmodels.members, GET …/members/value?group=)
    decided = dict(
        session.execute(
            select(RoleAssignment.group_id, RoleAssignment.value).where(
                RoleAssignment.member_id == member_id,
                RoleAssignment.community_id == community_id,
            )
        )
        .tuples()
        .all()
    )
    return [
        ValueLine(
            group_id=g,
            group=groups.get(g, ""),
            value=round(float(decided.get(g, v.pop("value"))), 2),
            **{k: x for k, x in v.items() if k != "value"},
        )
        for g, v in sorted(lines.items())
    ]


def _plain(number: Any) -> Any:
    """30.0 reads as 30 (the engines keep thresholds as floats)."""
    return int(number) if isinstance(number, float) and number.is_integer() else number


@dataclass(frozen=True, slots=True)
class TierProgress:
    current: str | None
    current_name: str | None
    next_id: str | None
    next_name: str | None
    # (criterion, needed, has, met)
    needs: list[tuple[str, Any, Any, bool]]

    @property
    def ready(self) -> bool:
        """Every criterion of the next tier met: the next recompute promotes."""
        return bool(self.needs) and all(met for *_, met in self.needs)


def tier_progress(
    session: Session,
    community_id: int,
    member_id: int,
    spec: CommunitySpec | None,
    lang: str,
    today: date,
) -> TierProgress:
    """The member's tier and what the next one needs, as qunzhu.readmodels.members judges
    it (the engines' own promotion test), with the tiers' names in the page's language."""
    standing = tier_standing(session.connection(), community_id, member_id, today)
    zh = lang.startswith("zh")
    names = {
        t.id: (t.name_zh if zh or not t.name_en else t.name_en)
        for t in (spec.tiers if spec is not None else [])
    }
    current = standing.current
    lowest = spec.tiers[0].id if spec is not None and spec.tiers else None
    current_name = names.get(current or lowest or "", current)
    needs: list[tuple[str, Any, Any, bool]] = []
    for n in standing.needs:
        has = ("✓" if n.met else "–") if n.criterion == "plan" else _plain(n.have)
        needs.append((n.criterion, _plain(n.need), has, n.met))
    next_name = standing.next_name_zh if zh or not standing.next_name_en else standing.next_name_en
    return TierProgress(current, current_name, standing.next_tier, next_name, needs)


def referrals(session: Session, member_id: int) -> dict[str, list[dict[str, Any]]]:
    made = (
        session.execute(
            select(Referral, Member.display_name)
            .join(Member, Member.id == Referral.invitee_member_id)
            .where(Referral.inviter_member_id == member_id)
            .order_by(Referral.occurred_at.desc())
            .limit(100)
        )
        .tuples()
        .all()
    )
    by = (
        session.execute(
            select(Referral, Member.display_name)
            .join(Member, Member.id == Referral.inviter_member_id)
            .where(Referral.invitee_member_id == member_id)
        )
        .tuples()
        .all()
    )

    def row(r: Referral, other: str, other_id: int) -> dict[str, Any]:
        return {
            "id": r.id,
            "other": other,
            "other_id": other_id,
            "status": r.status,
            "at": r.occurred_at,
            "code": r.code,
        }

    return {
        "made": [row(r, n, r.invitee_member_id) for r, n in made],
        "by": [row(r, n, r.inviter_member_id) for r, n in by],
    }


def orders_and_payments(session: Session, member_id: int) -> tuple[list[Order], list[Payment]]:
    orders = list(
        session.scalars(
            select(Order)
            .where(Order.member_id == member_id)
            .order_by(Order.created_at.desc())
            .limit(50)
        )
    )
    payments = list(
        session.scalars(
            select(Payment)
            .where(Payment.member_id == member_id)
            .order_by(Payment.occurred_at.desc())
            .limit(50)
        )
    )
    return orders, payments


def group_names(session: Session, community_id: int) -> dict[int, str]:
    return dict(
        session.execute(select(Group.id, Group.name).where(Group.community_id == community_id))
        .tuples()
        .all()
    )
