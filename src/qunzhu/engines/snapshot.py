"""One community's rollups, read once into memory for the daily engines: memberships, the
last weeks of ``member_daily`` / ``group_daily`` / ``member_day_stats`` / reply edges,
questions, moderation points, referrals and payments. No raw message is read here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import Connection, func, or_, select

from qunzhu.engines.fastio import fetch_all
from qunzhu.store.base import table_of
from qunzhu.store.intelligence import MemberDayStats, Question, ReplyEdgeDaily, TierState
from qunzhu.store.models import (
    Application,
    Group,
    GroupDaily,
    Member,
    MemberDaily,
    Membership,
    ModerationAction,
    Payment,
    Referral,
)
from qunzhu.store.uncounted import uncounted_ids

# member_daily is read this far back: the role window, the lost-KOL look-back and newcomer
# activation all fit in it
LOOKBACK_DAYS = 60
SERIES_DAYS = 90
# sanctions whose points count: carried out, turned into an alert, or a flag a moderator
# approved ("the rule's points apply", qunzhu.moderation.review; its escalation counts them)
ACTIVE_MODERATION = ("applied", "alerted", "approved")
NEWCOMER_DAYS = 38  # joiners of 7 to 37 days ago, and their first week


@dataclass
class Membership_:
    group_id: int
    member_id: int
    active: bool
    joined: date | None
    left: date | None
    via: str
    inviter_id: int | None


@dataclass
class CommunityData:
    community_id: int
    as_of: date
    start: date  # first day of the per-member look-back
    groups: dict[int, str] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    memberships: list[Membership_] = field(default_factory=list)
    # (group, member) -> [(day, messages, value, flagged)]
    member_days: dict[tuple[int, int], list[tuple[date, int, float, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # group -> day -> (value, joins, leaves)
    group_days: dict[int, dict[date, tuple[float, int, int]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    # (group, to member) -> [(day, from member)]
    edges: dict[tuple[int, int], list[tuple[date, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    valuable_days: dict[tuple[int, int], list[date]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # group -> [(asked day, minutes to first answer or None)]
    questions: dict[int, list[tuple[date, float | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    moderation_points: dict[int, float] = field(default_factory=dict)
    peripheral: set[int] = field(default_factory=set)
    uncounted: frozenset[int] = frozenset()  # bots and staff: no role, not a top contributor
    # member -> day -> (value, messages), all history up to as_of, summed over groups
    history: dict[int, dict[date, tuple[float, int]]] = field(
        default_factory=lambda: defaultdict(dict)
    )


def _day(at: datetime | None, tz: tzinfo) -> date | None:
    return at.astimezone(tz).date() if at is not None else None


def standing_points(
    conn: Connection, community_id: int, as_of: date, tz: tzinfo, member_id: int | None = None
) -> dict[int, float]:
    """Moderation points per member that stand at the end of ``as_of``: sanctions applied or
    approved and not expired (as the ladder's points expire). A flag waiting for review
    carries none: a classifier score alone never makes a member a disruptor."""
    mod = table_of(ModerationAction)
    day_end = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    query = select(mod.c.member_id, func.sum(mod.c.points)).where(
        mod.c.community_id == community_id,
        mod.c.status.in_(ACTIVE_MODERATION),
        or_(mod.c.expires_at.is_(None), mod.c.expires_at >= day_end),
    )
    if member_id is not None:
        query = query.where(mod.c.member_id == member_id)
    return {
        mid: float(points or 0) for mid, points in fetch_all(conn, query.group_by(mod.c.member_id))
    }


def load_community(
    conn: Connection,
    community_id: int,
    as_of: date,
    tz: tzinfo,
    extra_days: int = 0,
    window_days: int = LOOKBACK_DAYS,
) -> CommunityData:
    start = as_of - timedelta(days=LOOKBACK_DAYS + extra_days)
    data = CommunityData(community_id, as_of, start, uncounted=uncounted_ids(conn, community_id))
    g = table_of(Group)
    for gid, name, pgid in fetch_all(
        conn,
        select(g.c.id, g.c.name, g.c.platform_group_id).where(g.c.community_id == community_id),
    ):
        data.groups[gid] = name or pgid
    ms = table_of(Membership)
    for gid, mid, status, joined, left, via, inviter in fetch_all(
        conn,
        select(
            ms.c.group_id,
            ms.c.member_id,
            ms.c.status,
            ms.c.joined_at,
            ms.c.left_at,
            ms.c.join_via,
            ms.c.inviter_member_id,
        ).where(ms.c.community_id == community_id),
    ):
        data.memberships.append(
            Membership_(
                gid,
                mid,
                status == "active",
                _day(joined, tz),
                _day(left, tz),
                via or "unknown",
                inviter,
            )
        )
    md = table_of(MemberDaily)
    # all of member_daily once: the look-back window per group for roles and health, and
    # every day per member (summed over groups) for member value and tiers
    history = data.history
    for gid, mid, day, msgs, value, flagged in fetch_all(
        conn,
        select(
            md.c.group_id, md.c.member_id, md.c.day, md.c.messages, md.c.value, md.c.flagged
        ).where(md.c.community_id == community_id, md.c.day <= as_of),
    ):
        if day >= start:
            data.member_days[(gid, mid)].append((day, msgs, value, flagged))
        per_day = history[mid]
        seen = per_day.get(day)
        per_day[day] = (value, msgs) if seen is None else (seen[0] + value, seen[1] + msgs)
    gd = table_of(GroupDaily)
    series_start = as_of - timedelta(days=SERIES_DAYS + extra_days)
    for gid, day, value, joins, leaves, removals in fetch_all(
        conn,
        select(gd.c.group_id, gd.c.day, gd.c.value, gd.c.joins, gd.c.leaves, gd.c.removals).where(
            gd.c.community_id == community_id, gd.c.day >= series_start, gd.c.day <= as_of
        ),
    ):
        data.group_days[gid][day] = (value, joins, leaves + removals)
    e = table_of(ReplyEdgeDaily)
    edge_start = as_of - timedelta(days=window_days + extra_days)  # distinct repliers
    for gid, day, frm, to in fetch_all(
        conn,
        select(e.c.group_id, e.c.day, e.c.from_member_id, e.c.to_member_id).where(
            e.c.community_id == community_id, e.c.day >= edge_start, e.c.day <= as_of
        ),
    ):
        data.edges[(gid, to)].append((day, frm))
    st = table_of(MemberDayStats)
    for gid, mid, day in fetch_all(
        conn,
        select(st.c.group_id, st.c.member_id, st.c.day).where(
            st.c.community_id == community_id,
            st.c.day >= as_of - timedelta(days=NEWCOMER_DAYS + extra_days),
            st.c.valuable > 0,
        ),
    ):
        data.valuable_days[(gid, mid)].append(day)
    q = table_of(Question)
    q_start = datetime.combine(start, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    for gid, asked, answered in fetch_all(
        conn,
        select(q.c.group_id, q.c.asked_at, q.c.answered_at).where(
            q.c.community_id == community_id, q.c.asked_at >= q_start
        ),
    ):
        minutes = (answered - asked).total_seconds() / 60 if answered is not None else None
        data.questions[gid].append((asked.astimezone(tz).date(), minutes))
    data.moderation_points.update(standing_points(conn, community_id, as_of, tz))
    mem = table_of(Member)
    for mid, name in fetch_all(
        conn, select(mem.c.id, mem.c.display_name).where(mem.c.community_id == community_id)
    ):
        data.names[mid] = name or f"#{mid}"
    app = table_of(Application)
    in_groups = {m.member_id for m in data.memberships}
    data.peripheral = {
        mid
        for (mid,) in fetch_all(
            conn,
            select(app.c.member_id).where(
                app.c.community_id == community_id,
                app.c.status.in_(("pending", "more_info")),
                app.c.member_id.isnot(None),
            ),
        )
        if mid not in in_groups
    }
    return data


@dataclass
class MemberTotals:
    """Per member over all history, from member_daily: for member value and tiers."""

    days: dict[int, list[tuple[date, float, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    first_joined: dict[int, date] = field(default_factory=dict)
    referrals: dict[int, int] = field(default_factory=dict)
    plans: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    paid: set[int] = field(default_factory=set)
    states: dict[int, tuple[str, date | None, bool]] = field(default_factory=dict)


def load_totals(
    conn: Connection,
    community_id: int,
    as_of: date,
    tz: tzinfo,
    history: dict[int, dict[date, tuple[float, int]]] | None = None,
) -> MemberTotals:
    t = MemberTotals()
    days = t.days
    if history is None:
        md = table_of(MemberDaily)
        stmt = (
            select(md.c.member_id, md.c.day, func.sum(md.c.value), func.sum(md.c.messages))
            .where(md.c.community_id == community_id, md.c.day <= as_of)
            .group_by(md.c.member_id, md.c.day)
        )
        for mid, day, value, msgs in fetch_all(conn, stmt):
            days[mid].append((day, float(value or 0), int(msgs or 0)))
    else:
        for mid, per_day in history.items():
            days[mid] = [(d, float(v or 0), int(n or 0)) for d, (v, n) in per_day.items()]
    ms = table_of(Membership)
    for mid, joined in fetch_all(
        conn,
        select(ms.c.member_id, func.min(ms.c.joined_at))
        .where(ms.c.community_id == community_id)
        .group_by(ms.c.member_id),
    ):
        if joined is not None:
            t.first_joined[mid] = joined.astimezone(tz).date()
    r = table_of(Referral)
    for mid, n in fetch_all(
        conn,
        select(r.c.inviter_member_id, func.count())
        .where(r.c.community_id == community_id, r.c.status.notin_(("disqualified", "clawed_back")))
        .group_by(r.c.inviter_member_id),
    ):
        t.referrals[mid] = int(n)
    p = table_of(Payment)
    for mid, plan in fetch_all(
        conn, select(p.c.member_id, p.c.plan).where(p.c.community_id == community_id)
    ):
        t.paid.add(mid)
        if plan:
            t.plans[mid].add(plan)
    ts = table_of(TierState)
    for mid, tier, below, locked in fetch_all(
        conn,
        select(ts.c.member_id, ts.c.tier, ts.c.below_since, ts.c.locked).where(
            ts.c.community_id == community_id
        ),
    ):
        t.states[mid] = (tier, below, bool(locked))
    return t
