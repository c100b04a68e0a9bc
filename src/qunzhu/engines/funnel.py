"""Funnel (拉新 → 留存 → 转化): joins by source and referrer, D7 / D30 retention by weekly
join cohort, and conversion to paid.

A member is retained at Dn when they were active (a message or a check-in) on day n after
joining or later. A cohort too young to tell shows None, never 0.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class JoinRecord:
    member_id: int
    joined: date
    via: str
    inviter_id: int | None
    last_active: date | None
    paid: bool


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _share(n: int, of: int) -> float | None:
    return round(n / of, 3) if of else None


def funnel(joins: list[JoinRecord], as_of: date, weeks: int = 12) -> dict[str, Any]:
    start = week_of(as_of) - timedelta(weeks=weeks - 1)
    recent = [j for j in joins if j.joined >= start and j.joined <= as_of]
    by_source = Counter(j.via for j in recent)
    referrers = Counter(j.inviter_id for j in recent if j.inviter_id is not None)
    cohorts: dict[date, list[JoinRecord]] = defaultdict(list)
    for j in recent:
        cohorts[week_of(j.joined)].append(j)
    rows: list[dict[str, Any]] = []
    for week in sorted(cohorts):
        members = cohorts[week]
        row: dict[str, Any] = {"cohort": week.isoformat(), "joins": len(members)}
        for n in (7, 30):
            old_enough = [j for j in members if j.joined + timedelta(days=n) <= as_of]
            kept = [
                j
                for j in old_enough
                if j.last_active is not None and j.last_active >= j.joined + timedelta(days=n)
            ]
            row[f"d{n}"] = _share(len(kept), len(old_enough)) if old_enough else None
        row["paid"] = _share(sum(j.paid for j in members), len(members))
        row["by_source"] = dict(Counter(j.via for j in members))
        rows.append(row)
    total = len(recent)
    return {
        "since": start.isoformat(),
        "joins": total,
        "by_source": dict(by_source.most_common()),
        "top_referrers": [{"member": m, "joins": n} for m, n in referrers.most_common(10)],
        "cohorts": rows,
        "paid": _share(sum(j.paid for j in recent), total),
    }
