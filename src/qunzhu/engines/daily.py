"""From a :class:`CommunityData` snapshot to the day's roles and per-group health inputs
(pure: nothing here reads or writes the store)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from qunzhu.engines.health import GroupSnapshot
from qunzhu.engines.roles import MemberWindow, RoleDecision, assign_role
from qunzhu.engines.snapshot import CommunityData
from qunzhu.spec.members import RoleThresholds

LOST_TOP_SHARE = 0.25
SILENT_DAYS = 14


@dataclass
class DayView:
    day: date
    roles: dict[tuple[int, int], tuple[RoleDecision, float]] = field(default_factory=dict)
    groups: dict[int, GroupSnapshot] = field(default_factory=dict)


def _in_group(joined: date | None, left: date | None, active: bool, day: date) -> bool:
    if joined is not None and joined > day:
        return False
    if left is not None and left <= day:
        return False
    return active or left is not None


def view_of_day(data: CommunityData, day: date, t: RoleThresholds) -> DayView:
    view = DayView(day)
    w_start = day - timedelta(days=t.window_days - 1)
    d7, d14 = day - timedelta(days=6), day - timedelta(days=13)
    d30 = day - timedelta(days=29)
    prev_start, prev_end = day - timedelta(days=59), day - timedelta(days=15)
    members_in: dict[int, int] = Counter()
    roles_in: dict[int, Counter[str]] = defaultdict(Counter)
    speakers7: dict[int, int] = Counter()
    speakers30: dict[int, int] = Counter()
    values30: dict[int, list[float]] = defaultdict(list)
    previous: dict[int, list[tuple[int, float, date | None]]] = defaultdict(list)
    newcomers: dict[int, int] = Counter()
    activated: dict[int, int] = Counter()
    joined_of = {(m.group_id, m.member_id): m for m in data.memberships}
    keys = set(data.member_days) | set(joined_of)
    for key in keys:
        g, mid = key
        ms = joined_of.get(key)
        rows = data.member_days.get(key, [])
        msgs = 0
        value = v30 = prev_value = 0.0
        last: date | None = None
        spoke7 = spoke30 = False
        for d, n, v, _flagged in rows:
            if d > day:
                continue
            if n and (last is None or d > last):
                last = d
            if d >= w_start:
                msgs += n
                value += v
            if d >= d30:
                v30 += v
                spoke30 = spoke30 or n > 0
            if d >= d7 and n:
                spoke7 = True
            if prev_start <= d <= prev_end:
                prev_value += v
        counted = mid not in data.uncounted
        if prev_value > 0 and counted:
            previous[g].append((mid, prev_value, last))
        # bots and staff are not the group's members: no role, no share of its activity
        if not counted or ms is None or not _in_group(ms.joined, ms.left, ms.active, day):
            continue
        members_in[g] += 1
        speakers7[g] += spoke7
        speakers30[g] += spoke30
        values30[g].append(v30)
        repliers = {frm for d, frm in data.edges.get(key, ()) if w_start <= d <= day}
        tenure = (day - ms.joined).days if ms.joined is not None else 10**4
        # points of sanctions that stand (applied, approved), never a flag waiting for a
        # reviewer: a classifier score alone does not make a member a disruptor
        points = data.moderation_points.get(mid, 0.0)
        decision = assign_role(MemberWindow(mid, tenure, msgs, value, len(repliers), points), t)
        view.roles[key] = (decision, value)
        roles_in[g][decision.role] += 1
        if ms.joined is not None and day - timedelta(days=37) <= ms.joined <= d7 - timedelta(
            days=1
        ):
            newcomers[g] += 1
            limit = ms.joined + timedelta(days=7)
            if any(ms.joined <= d <= limit for d in data.valuable_days.get(key, ())):
                activated[g] += 1
    for g, name in data.groups.items():
        days = data.group_days.get(g, {})
        series = [days.get(day - timedelta(days=i), (0.0, 0, 0)) for i in range(89, -1, -1)]
        last30 = series[-30:]
        qs = [(d, mins) for d, mins in data.questions.get(g, ()) if d14 <= d <= day]
        prev_total = sum(v for _, v, _ in previous[g])
        lost = []
        ranked = sorted(previous[g], key=lambda x: -x[1])
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        for mid, v, last in ranked[:1]:
            silent = (day - last).days if last is not None else SILENT_DAYS
            # the group's clear top contributor (a large share, or twice the next one)
            clear = v / prev_total >= LOST_TOP_SHARE or v >= 2 * runner_up
            if prev_total > 0 and clear and silent >= SILENT_DAYS:
                lost.append(
                    {
                        "member": mid,
                        "name": data.names.get(mid, f"#{mid}"),
                        "share": round(v / prev_total, 3),
                        "silent_days": silent,
                    }
                )
        view.groups[g] = GroupSnapshot(
            group_id=g,
            name=name,
            value=[v for v, _, _ in series],
            joins_30d=sum(j for _, j, _ in last30),
            leaves_30d=sum(lv for _, _, lv in last30),
            members=members_in[g],
            speakers_7d=speakers7[g],
            speakers_30d=speakers30[g],
            role_counts=dict(roles_in[g]),
            member_values_30d=values30[g],
            questions_14d=len(qs),
            unanswered_14d=sum(1 for _, m in qs if m is None),
            first_answer_minutes=[m for _, m in qs if m is not None],
            newcomers=newcomers[g],
            newcomers_activated=activated[g],
            lost_top=lost,
        )
    return view
