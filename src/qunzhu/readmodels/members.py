"""A member's profile (成员档案): value, role, tier and why; and members ranked by value.
``qunzhu members list|explain``, ``GET …/members/value`` and ``…/members/{id}/explain``,
and the dashboard's member and group pages read these functions.

``value``
    The member's time-decayed value as the engines last computed it (``member_values``,
    half-life from the spec): what the tier rules test, shown as "value (decayed)".
``value (30 days)``
    A different figure under that different name: the sum of ``member_daily.value`` over
    the :data:`VALUE_DAYS` days ending on :func:`value_window_end` — the engines' newest
    day, so it is the value the member's role in a group was decided on
    (``role_assignments.value``, ``GET …/members/value?group=``) when the spec's role window
    is 30 days, the default.
``role``
    The strongest behavioural role the engines assigned in the member's groups.
``tier``
    The current tier: ``tier_states`` (kept by the recompute, tier locks and payments),
    else — before the engines ran, e.g. after an import — the newest ``tier_changes`` row.
``next tier needs``
    The engines' own test for promotion (qunzhu.engines.tiers.next_tier_needs) on the
    member's standing (qunzhu.engines.views.standing_of): what the recompute will decide on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, select

from qunzhu.engines import views
from qunzhu.engines.specs import SpecCache
from qunzhu.engines.tiers import next_tier_needs
from qunzhu.store.intelligence import MemberValue, TierState
from qunzhu.store.models import Member, TierChange
from qunzhu.store.uncounted import kinds_of

UnknownMember = views.UnknownMember  # one error for "not this community's member"
VALUE_DAYS = 30


def value_window_end(conn: Connection, community_id: int, today: date) -> date:
    """The last day of the "value (30 days)" window: the engines' newest day (the day the
    roles were decided on), ``today`` before they ran."""
    return views.latest_day(conn, community_id) or today


@dataclass(frozen=True, slots=True)
class MemberStanding:
    member: int
    names: tuple[str, ...]
    messages: int
    value: float
    role: str
    tier: str | None


def members_by_value(
    conn: Connection, community_id: int, group_id: int | None = None, limit: int = 100
) -> tuple[MemberStanding, ...]:
    """Members by value, highest first (in one group: the value of its role window)."""
    return tuple(
        MemberStanding(
            member=int(r["member"]),
            names=tuple(r["names"]),
            messages=int(r["messages"]),
            value=float(r["value"]),
            role=str(r["role"]),
            tier=r["tier"],
        )
        for r in views.members_list(conn, community_id, group_id, limit)
    )


def _check(conn: Connection, community_id: int, member_id: int) -> None:
    found = conn.execute(
        select(Member.id).where(Member.id == member_id, Member.community_id == community_id)
    ).scalar()
    if found is None:
        raise UnknownMember(f"no member {member_id} in this community")


def current_tier(conn: Connection, community_id: int, member_id: int) -> str | None:
    """The member's current tier (see the module), None when they have none yet."""
    state = conn.execute(
        select(TierState.tier).where(
            TierState.member_id == member_id, TierState.community_id == community_id
        )
    ).scalar()
    if state is not None:
        return str(state)
    newest = conn.execute(
        select(TierChange.tier)
        .where(TierChange.member_id == member_id, TierChange.community_id == community_id)
        .order_by(TierChange.changed_at.desc(), TierChange.id.desc())
        .limit(1)
    ).scalar()
    return None if newest is None else str(newest)


@dataclass(frozen=True, slots=True)
class TierNeed:
    criterion: str  # min_value | min_days_active | min_tenure_days | min_referrals | plan | …
    need: Any
    have: Any
    missing: float

    @property
    def met(self) -> bool:
        return self.missing == 0


@dataclass(frozen=True, slots=True)
class TierStanding:
    current: str | None
    next_tier: str | None
    next_name_zh: str | None
    next_name_en: str | None
    needs: tuple[TierNeed, ...]

    @property
    def ready(self) -> bool:
        return self.next_tier is not None and all(n.met for n in self.needs)


def tier_standing(conn: Connection, community_id: int, member_id: int, today: date) -> TierStanding:
    """The current tier and what the next one still needs, criterion by criterion, as of
    the engines' newest value day (``today`` before they ran); UnknownMember if not here."""
    _check(conn, community_id, member_id)
    spec = SpecCache().get(conn, community_id)
    current = current_tier(conn, community_id, member_id)
    valued = conn.execute(
        select(MemberValue.value, MemberValue.day).where(
            MemberValue.member_id == member_id, MemberValue.community_id == community_id
        )
    ).first()
    value, as_of = (float(valued[0]), valued[1]) if valued else (0.0, today)
    standing = views.standing_of(conn, community_id, member_id, as_of, value)
    nxt = next_tier_needs(list(spec.tiers), current, standing)
    if nxt is None:
        return TierStanding(current, None, None, None, ())
    return TierStanding(
        current=current,
        next_tier=str(nxt["tier"]),
        next_name_zh=nxt["name_zh"],
        next_name_en=nxt["name_en"],
        needs=tuple(
            TierNeed(str(n["criterion"]), n["need"], n["have"], float(n["missing"]))
            for n in nxt["needs"]
        ),
    )


@dataclass(frozen=True, slots=True)
class MemberProfile:
    member_id: int
    names: tuple[str, ...]
    value: float
    messages: int
    tier: str | None  # tier_states only: the engines' explanation speaks of their state
    document: dict[str, Any]  # the whole explanation as the API and --json print it

    @property
    def known(self) -> bool:
        """Whether anything is stored about the member here."""
        return bool(self.names or self.messages or self.tier)


def member_profile(
    conn: Connection, community_id: int, member_id: int, lang: str = "en"
) -> MemberProfile:
    """Why the member has their value, role and tier, and what the next tier needs
    (qunzhu.engines.views.explain_member); UnknownMember when not the community's."""
    _check(conn, community_id, member_id)
    doc = views.explain_member(conn, community_id, member_id, lang)
    # bot or staff (qunzhu.store.uncounted): no role, tier or ranking, and the reason why
    doc["kind"] = kinds_of(conn, community_id, [member_id]).get(member_id)
    tier = doc.get("tier")
    return MemberProfile(
        member_id=member_id,
        names=tuple(doc["names"]),
        value=float(doc["value"]),
        messages=int(doc["messages"]),
        tier=str(tier["tier"]) if isinstance(tier, dict) else None,
        document=doc,
    )
