"""Data behind the community charts: value trend, role mix, funnel and retention cohorts.

Each function returns plain numbers; :mod:`qunzhu.http.web.charts` turns them into ECharts
options with labels in the page's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, exists, func, literal, select
from sqlalchemy.orm import Session

from qunzhu.http.web.queries.common import day_start
from qunzhu.readmodels.health import role_counts
from qunzhu.store.models import GroupDaily, MemberDaily, Membership, Payment

TREND_DAYS = 30
FUNNEL_DAYS = 30
COHORT_WEEKS = 8


@dataclass(frozen=True, slots=True)
class Trend:
    days: list[date]
    messages: list[int]
    value: list[float]
    partial: bool = True  # the last day is today, not over yet: drawn dashed and marked


def value_trend(session: Session, community_id: int, today: date, days: int = TREND_DAYS) -> Trend:
    """Value and messages per day over the ``days`` days ending ``today`` (the local day,
    so the last one is unfinished: :attr:`Trend.partial`)."""
    first = today - timedelta(days=days - 1)
    rows = {
        d: (int(m or 0), float(v or 0.0))
        for d, m, v in session.execute(
            select(GroupDaily.day, func.sum(GroupDaily.messages), func.sum(GroupDaily.value))
            .where(
                GroupDaily.community_id == community_id,
                GroupDaily.day >= first,
                GroupDaily.day <= today,
            )
            .group_by(GroupDaily.day)
        ).tuples()
    }
    span = [first + timedelta(days=i) for i in range(days)]
    return Trend(
        days=span,
        messages=[rows.get(d, (0, 0.0))[0] for d in span],
        value=[round(rows.get(d, (0, 0.0))[1], 2) for d in span],
    )


def role_mix(session: Session, community_id: int, today: date) -> dict[str, int]:
    """Members per behavioural role, as the roles engine assigned them (empty until then)."""
    return role_counts(session.connection(), community_id)


def funnel(
    session: Session, community_id: int, today: date, tz: ZoneInfo, days: int = FUNNEL_DAYS
) -> list[tuple[str, int]]:
    """Joined → spoke → paid, for the memberships that began in the last ``days`` (each
    stage a subset of the one before, so the funnel only narrows). One pass over the
    recent memberships, each checked by an indexed EXISTS, not a scan of the rollups."""
    first = today - timedelta(days=days - 1)
    since = day_start(first, tz)
    spoke = exists().where(
        MemberDaily.group_id == Membership.group_id,
        MemberDaily.member_id == Membership.member_id,
        MemberDaily.day >= first,
        MemberDaily.messages > 0,
    )
    paid = exists().where(Payment.member_id == Membership.member_id, Payment.occurred_at >= since)
    # each EXISTS once per membership, in a subquery; the outer query only adds up
    flags = (
        select(
            case((spoke, 1), else_=0).label("spoke"),
            case((paid, 1), else_=0).label("paid"),
        )
        .where(Membership.community_id == community_id, Membership.joined_at >= since)
        .subquery()
    )
    row = session.execute(
        select(func.count(), func.sum(flags.c.spoke), func.sum(flags.c.spoke * flags.c.paid))
    ).one()
    return [
        ("joined", int(row[0] or 0)),
        ("spoke", int(row[1] or 0)),
        ("paid", int(row[2] or 0)),
    ]


@dataclass(frozen=True, slots=True)
class Cohorts:
    weeks: list[date]  # the Monday each cohort joined in
    sizes: list[int]
    # share (0–100) of each cohort still in its group k weeks on; None: not there yet
    shares: list[list[float | None]]


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _weeks_on_or_after(column: Any, bounds: list[datetime]) -> Any:
    """How many of ``bounds`` the time in ``column`` is at or after (a portable week number:
    comparisons only, no date arithmetic that differs between SQLite and PostgreSQL)."""
    return sum((case((column >= b, 1), else_=0) for b in bounds[1:]), start=literal(0))


def retention(
    session: Session, community_id: int, today: date, tz: ZoneInfo, weeks: int = COHORT_WEEKS
) -> Cohorts:
    """Weekly join cohorts of the last ``weeks`` weeks, and the share of each still in its
    group at the end of each later week (留存). One grouped query over memberships."""
    first = _monday(today) - timedelta(weeks=weeks - 1)
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    bounds = [day_start(d, tz) for d in [*starts, starts[-1] + timedelta(weeks=1)]]
    cohort = _weeks_on_or_after(Membership.joined_at, bounds[:-1]).label("cohort")
    left = _weeks_on_or_after(Membership.left_at, bounds).label("left")
    rows = (
        session.execute(
            select(
                cohort,
                case((Membership.left_at.is_(None), None), else_=left).label("gone"),
                func.count(),
            )
            .where(Membership.community_id == community_id, Membership.joined_at >= bounds[0])
            .group_by(cohort, "gone")
        )
        .tuples()
        .all()
    )
    sizes = [0] * weeks
    stayed = [[0] * weeks for _ in range(weeks)]  # [cohort][calendar week]
    for c, gone, n in rows:
        c = int(c)
        sizes[c] += int(n)
        for j in range(c, weeks):
            # present at the end of week j: not left, or left in a later week
            if gone is None or int(gone) >= j + 1:
                stayed[c][j] += int(n)
    current = weeks - 1
    shares: list[list[float | None]] = []
    for c in range(weeks):
        shares.append(
            [
                None
                if c + k > current or not sizes[c]
                else round(100.0 * stayed[c][c + k] / sizes[c], 1)
                for k in range(weeks)
            ]
        )
    return Cohorts(weeks=starts, sizes=sizes, shares=shares)


def as_plain(obj: Any) -> Any:
    """Dates to ISO strings, for JSON in the page."""
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, list | tuple):
        return [as_plain(o) for o in obj]
    return obj
