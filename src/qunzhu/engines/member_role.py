"""One member's roles again, now: after a review moved their moderation points (an undone
flag gives its points back, an approved one adds them), the member's role in each group is
decided by the daily recompute's own rules — :func:`qunzhu.engines.daily.view_of_day` over a
snapshot of that member alone, :func:`qunzhu.engines.daily_decide.decide_roles` — on the day
the community's roles were last computed, and their rows replaced in the caller's
transaction. The group's health (its role mix) waits for the next recompute.

Nothing is done before the engines ever ran for the community: the first recompute decides.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import Connection, func, select

from qunzhu.engines.daily import view_of_day
from qunzhu.engines.daily_decide import RoleRow, decide_roles
from qunzhu.engines.daily_writes import write_roles
from qunzhu.engines.snapshot import (
    LOOKBACK_DAYS,
    CommunityData,
    Membership_,
    standing_points,
)
from qunzhu.engines.specs import SpecCache
from qunzhu.store.base import table_of
from qunzhu.store.intelligence import ReplyEdgeDaily, RoleAssignment
from qunzhu.store.models import MemberDaily, Membership
from qunzhu.store.uncounted import uncounted_ids


def _day(at: datetime | None, tz: tzinfo) -> date | None:
    return at.astimezone(tz).date() if at is not None else None


def member_data(
    conn: Connection, community_id: int, member_id: int, day: date, tz: tzinfo, window_days: int
) -> CommunityData:
    """:func:`qunzhu.engines.snapshot.load_community` for one member: what their roles are
    decided on (no group series, so no health)."""
    start = day - timedelta(days=LOOKBACK_DAYS)
    data = CommunityData(community_id, day, start, uncounted=uncounted_ids(conn, community_id))
    ms = table_of(Membership)
    for gid, status, joined, left, via, inviter in conn.execute(
        select(
            ms.c.group_id,
            ms.c.status,
            ms.c.joined_at,
            ms.c.left_at,
            ms.c.join_via,
            ms.c.inviter_member_id,
        ).where(ms.c.community_id == community_id, ms.c.member_id == member_id)
    ):
        data.memberships.append(
            Membership_(
                gid,
                member_id,
                status == "active",
                _day(joined, tz),
                _day(left, tz),
                via or "unknown",
                inviter,
            )
        )
    md = table_of(MemberDaily)
    for gid, d, msgs, value, flagged in conn.execute(
        select(md.c.group_id, md.c.day, md.c.messages, md.c.value, md.c.flagged).where(
            md.c.community_id == community_id,
            md.c.member_id == member_id,
            md.c.day >= start,
            md.c.day <= day,
        )
    ):
        data.member_days[(gid, member_id)].append((d, msgs, value, flagged))
    e = table_of(ReplyEdgeDaily)
    for gid, d, frm in conn.execute(
        select(e.c.group_id, e.c.day, e.c.from_member_id).where(
            e.c.community_id == community_id,
            e.c.to_member_id == member_id,
            e.c.day >= day - timedelta(days=window_days),
            e.c.day <= day,
        )
    ):
        data.edges[(gid, member_id)].append((d, frm))
    data.moderation_points.update(standing_points(conn, community_id, day, tz, member_id))
    return data


def recompute_member_roles(
    conn: Connection, community_id: int, member_id: int, tz: tzinfo, now: datetime
) -> list[RoleRow]:
    """Decide and write the member's roles; returns them (``changed`` ones went to the role
    history). Empty when the engines never ran for the community."""
    ra = table_of(RoleAssignment)
    day = conn.execute(select(func.max(ra.c.day)).where(ra.c.community_id == community_id)).scalar()
    if day is None:
        return []
    spec = SpecCache().get(conn, community_id)
    data = member_data(conn, community_id, member_id, day, tz, spec.roles.window_days)
    mine = (ra.c.community_id == community_id, ra.c.member_id == member_id)
    before = {
        (g, m): (role, since)
        for g, m, role, since in conn.execute(
            select(ra.c.group_id, ra.c.member_id, ra.c.role, ra.c.since).where(*mine)
        )
    }
    rows = decide_roles(view_of_day(data, day, spec.roles), before, day)
    write_roles(conn, community_id, day, rows, now, member_id)
    return rows
