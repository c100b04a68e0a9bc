"""What the CLI, the API and the reports show, read from the engines' tables (never from
raw messages, except one member's own top messages when explaining them)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from qunzhu.engines.funnel import JoinRecord, funnel
from qunzhu.engines.risk import risk_of, unanswered_first, unanswered_share
from qunzhu.engines.roles import ROLE_NAMES, describe_reason, strongest
from qunzhu.engines.snapshot import ACTIVE_MODERATION, load_totals
from qunzhu.engines.specs import SpecCache
from qunzhu.engines.tiers import Standing, next_tier_needs
from qunzhu.engines.value import POINT_LABELS, explain_points
from qunzhu.store.base import table_of
from qunzhu.store.intelligence import (
    GroupHealth,
    IntelAlert,
    MemberDayStats,
    MemberValue,
    MessageScore,
    RoleAssignment,
    RoleChange,
    TierState,
)
from qunzhu.store.models import (
    Group,
    GroupDaily,
    Identity,
    Member,
    MemberDaily,
    Membership,
    Message,
    ModerationAction,
    Payment,
    Referral,
    TierChange,
)
from qunzhu.store.resolve import community_id_by_slug
from qunzhu.store.uncounted import counted


class UnknownCommunity(LookupError):
    pass


class UnknownMember(LookupError):
    """No such member in the community asked about (another community's: the same)."""


def community_id_of(conn: Connection, slug: str) -> int:
    found = community_id_by_slug(conn, slug)
    if found is None:
        raise UnknownCommunity(f"unknown community {slug!r} (see `qunzhu community list`)")
    return found


def group_id_of(conn: Connection, community_id: int, ref: str) -> int:
    g = table_of(Group)
    cond = g.c.platform_group_id == ref
    if ref.isdigit():
        cond = cond | (g.c.id == int(ref))
    found = conn.execute(select(g.c.id).where(g.c.community_id == community_id, cond)).scalar()
    if found is None:
        raise UnknownCommunity(f"no group {ref!r} in this community (use its id or platform id)")
    return int(found)


def latest_day(conn: Connection, community_id: int) -> date | None:
    gh = table_of(GroupHealth)
    found = conn.execute(
        select(func.max(gh.c.day)).where(gh.c.community_id == community_id)
    ).scalar()
    return found if isinstance(found, date) else None


def latest_data_day(conn: Connection, community_id: int, today: date | None = None) -> date | None:
    """The last day with data, not after today: imported history is judged as of its end."""
    gd = table_of(GroupDaily)
    last = conn.execute(
        select(func.max(gd.c.day)).where(gd.c.community_id == community_id)
    ).scalar()
    if not isinstance(last, date):
        return today
    return min(last, today) if today is not None else last


def members_list(
    conn: Connection, community_id: int, group_id: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Members by value, highest first: names, messages, value, role, tier. A ranking:
    bots and staff are not in it (qunzhu.store.uncounted)."""
    mv, ra, ts = table_of(MemberValue), table_of(RoleAssignment), table_of(TierState)
    md = table_of(MemberDaily)
    if group_id is None:
        stmt = (
            select(mv.c.member_id, mv.c.value, mv.c.messages)
            .where(mv.c.community_id == community_id, counted(mv.c.member_id, conn, community_id))
            .order_by(mv.c.value.desc(), mv.c.member_id)
            .limit(limit)
        )
        base = [(m, float(v), int(n)) for m, v, n in conn.execute(stmt)]
    else:
        # in one group: the value and messages of the role window the roles were decided on
        as_of = conn.execute(select(func.max(ra.c.day)).where(ra.c.group_id == group_id)).scalar()
        window = SpecCache().get(conn, community_id).roles.window_days
        since = (as_of or date.today()) - timedelta(days=window - 1)
        stmt = (
            select(ra.c.member_id, ra.c.value)
            .where(ra.c.group_id == group_id, counted(ra.c.member_id, conn, community_id))
            .order_by(ra.c.value.desc(), ra.c.member_id)
            .limit(limit)
        )
        found = [(m, float(v)) for m, v in conn.execute(stmt)]
        counts: dict[int, Any] = dict(
            (m, n)
            for m, n in conn.execute(
                select(md.c.member_id, func.sum(md.c.messages))
                .where(
                    md.c.group_id == group_id,
                    md.c.day >= since,
                    md.c.member_id.in_([m for m, _ in found]),
                )
                .group_by(md.c.member_id)
            )
        )
        base = [(m, v, int(counts.get(m) or 0)) for m, v in found]
    ids = [m for m, _, _ in base]
    names = _names(conn, ids)
    roles: dict[int, list[str]] = defaultdict(list)
    role_stmt = select(ra.c.member_id, ra.c.role).where(ra.c.member_id.in_(ids))
    if group_id is not None:
        role_stmt = role_stmt.where(ra.c.group_id == group_id)
    for mid, role in conn.execute(role_stmt):
        roles[mid].append(role)
    tiers: dict[int, str] = {
        m: t
        for m, t in conn.execute(select(ts.c.member_id, ts.c.tier).where(ts.c.member_id.in_(ids)))
    }
    return [
        {
            "member": m,
            "names": names.get(m, []),
            "messages": n,
            "value": round(v, 2),
            "role": strongest(roles.get(m, [])),
            "tier": tiers.get(m),
        }
        for m, v, n in base
    ]


def _names(conn: Connection, ids: list[int]) -> dict[int, list[str]]:
    mem, ident = table_of(Member), table_of(Identity)
    out: dict[int, list[str]] = defaultdict(list)
    for mid, name in conn.execute(select(mem.c.id, mem.c.display_name).where(mem.c.id.in_(ids))):
        if name:
            out[mid].append(name)
    for mid, name in conn.execute(
        select(ident.c.member_id, ident.c.name).where(ident.c.member_id.in_(ids))
    ):
        if name and name not in out[mid]:
            out[mid].append(name)
    return out


def explain_member(
    conn: Connection, community_id: int, member_id: int, lang: str = "en"
) -> dict[str, Any]:
    """Why a member has their value, role and tier, and what the next tier needs.

    Raises :class:`UnknownMember` unless the member belongs to ``community_id``; every read
    below is scoped by the community as well."""
    member_of = conn.execute(
        select(Member.id).where(Member.id == member_id, Member.community_id == community_id)
    ).first()
    if member_of is None:
        raise UnknownMember(f"no member {member_id} in this community")
    spec = SpecCache().get(conn, community_id)
    mv, ra, ts = table_of(MemberValue), table_of(RoleAssignment), table_of(TierState)
    value_row = conn.execute(
        select(mv.c.value, mv.c.raw_value, mv.c.messages, mv.c.days_active, mv.c.day).where(
            mv.c.member_id == member_id, mv.c.community_id == community_id
        )
    ).first()
    s, st = table_of(MessageScore), table_of(MemberDayStats)
    points: dict[str, float] = defaultdict(float)
    mine = (s.c.member_id == member_id, s.c.community_id == community_id)
    for (p,) in conn.execute(select(s.c.points).where(*mine)):
        for k, v in (p or {}).items():
            points[k] += float(v)
    earned = conn.execute(
        select(func.sum(st.c.replies_earned), func.sum(st.c.reactions_earned)).where(
            st.c.member_id == member_id, st.c.community_id == community_id
        )
    ).first()
    w = spec.weights
    if earned is not None:
        points["replies_earned"] = float(earned[0] or 0) * w.reply_earned_per_member
        points["reactions"] = float(earned[1] or 0) * w.reaction
    md = table_of(MemberDaily)
    check_ins = conn.execute(
        select(func.sum(md.c.check_ins)).where(
            md.c.member_id == member_id, md.c.community_id == community_id
        )
    ).scalar()
    points["check_in"] = float(check_ins or 0) * w.check_in
    m = table_of(Message)
    top = [
        {"message": i, "value": v, "text": (t or "")[:120], "points": p}
        for i, v, t, p in conn.execute(
            select(s.c.message_id, s.c.value, m.c.text, s.c.points)
            .select_from(s.join(m, m.c.id == s.c.message_id))
            .where(*mine, m.c.community_id == community_id)
            .order_by(s.c.value.desc())
            .limit(5)
        )
    ]
    g = table_of(Group)
    roles = [
        {
            "group": name,
            "group_id": gid,
            "role": role,
            "role_name": ROLE_NAMES[role][1 if lang[:2] == "zh" else 0],
            "since": since.isoformat(),
            "reason": describe_reason(role, reason, lang),
            "facts": reason,
        }
        for gid, name, role, since, reason in conn.execute(
            select(g.c.id, g.c.name, ra.c.role, ra.c.since, ra.c.reason)
            .select_from(ra.join(g, g.c.id == ra.c.group_id))
            .where(ra.c.member_id == member_id, ra.c.community_id == community_id)
        )
    ]
    rh = table_of(RoleChange)
    role_history = [
        {
            "group": name,
            "day": day.isoformat(),
            "role": role,
            "role_name": ROLE_NAMES[role][1 if lang[:2] == "zh" else 0],
            "previous_role": previous,
            "reason": describe_reason(role, reason, lang),
            "facts": reason,
        }
        for name, day, role, previous, reason in conn.execute(
            select(g.c.name, rh.c.day, rh.c.role, rh.c.previous_role, rh.c.reason)
            .select_from(rh.join(g, g.c.id == rh.c.group_id))
            .where(rh.c.member_id == member_id, rh.c.community_id == community_id)
            .order_by(rh.c.day, rh.c.id)
        )
    ]
    state = conn.execute(
        select(ts.c.tier, ts.c.since, ts.c.below_since, ts.c.locked, ts.c.lock_reason).where(
            ts.c.member_id == member_id, ts.c.community_id == community_id
        )
    ).first()
    tc = table_of(TierChange)
    history = [
        {"tier": t, "previous": p, "reason": r, "source": src, "at": at.isoformat()}
        for t, p, r, src, at in conn.execute(
            select(tc.c.tier, tc.c.previous_tier, tc.c.reason, tc.c.source, tc.c.changed_at)
            .where(tc.c.member_id == member_id, tc.c.community_id == community_id)
            .order_by(tc.c.changed_at, tc.c.id)
        )
    ]
    as_of = value_row[4] if value_row else date.today()
    standing = standing_of(
        conn, community_id, member_id, as_of, float(value_row[0]) if value_row else 0.0
    )
    return {
        "member": member_id,
        "names": _names(conn, [member_id]).get(member_id, []),
        "value": round(float(value_row[0]), 2) if value_row else 0.0,
        "raw_value": round(float(value_row[1]), 2) if value_row else 0.0,
        "half_life_days": w.half_life_days,
        "messages": int(value_row[2]) if value_row else 0,
        "days_active": int(value_row[3]) if value_row else 0,
        "value_points": {k: round(v, 2) for k, v in points.items() if v},
        "value_explained": explain_points(dict(points), lang),
        "point_labels": {
            k: POINT_LABELS[k][1 if lang[:2] == "zh" else 0] for k in points if k in POINT_LABELS
        },
        "top_messages": top,
        "roles": roles,
        "role_history": role_history,
        "tier": {
            "tier": state[0],
            "since": state[1].isoformat(),
            "below_since": state[2].isoformat() if state[2] else None,
            "locked": bool(state[3]),
            "lock_reason": state[4],
        }
        if state
        else None,
        "tier_history": history,
        "next_tier": next_tier_needs(list(spec.tiers), state[0] if state else None, standing),
        "spec": spec.source,
    }


def standing_of(
    conn: Connection, community_id: int, member_id: int, as_of: date, value: float
) -> Standing:
    """One member's standing for the tier criteria (the recompute does all at once)."""
    md, ms = table_of(MemberDaily), table_of(Membership)
    r, p, mod = table_of(Referral), table_of(Payment), table_of(ModerationAction)
    days = conn.execute(
        select(func.count(func.distinct(md.c.day))).where(
            md.c.member_id == member_id, md.c.community_id == community_id, md.c.day <= as_of
        )
    ).scalar()
    joined = conn.execute(
        select(func.min(ms.c.joined_at)).where(
            ms.c.member_id == member_id, ms.c.community_id == community_id
        )
    ).scalar()
    referrals = conn.execute(
        select(func.count()).where(
            r.c.inviter_member_id == member_id,
            r.c.community_id == community_id,
            r.c.status.notin_(("disqualified", "clawed_back")),
        )
    ).scalar()
    paid = select(p.c.plan).where(p.c.member_id == member_id, p.c.community_id == community_id)
    plans = {x for (x,) in conn.execute(paid) if x}
    points = conn.execute(
        select(func.sum(mod.c.points)).where(
            mod.c.member_id == member_id,
            mod.c.community_id == community_id,
            mod.c.status.in_(ACTIVE_MODERATION),
        )
    ).scalar()
    return Standing(
        value=value,
        days_active=int(days or 0),
        tenure_days=(as_of - joined.astimezone(UTC).date()).days if joined else 0,
        referrals=int(referrals or 0),
        plans=frozenset(plans),
        moderation_points=float(points or 0),
    )


def health_rows(
    conn: Connection,
    community_id: int,
    day: date | None = None,
    lang: str = "en",
    min_risk: float | None = None,
) -> list[dict[str, Any]]:
    day = day or latest_day(conn, community_id)
    if day is None:
        return []
    gh, g = table_of(GroupHealth), table_of(Group)
    key = "zh" if lang[:2] == "zh" else "en"
    rows = []
    where = [gh.c.community_id == community_id, gh.c.day == day]
    if min_risk is not None:  # only the riskiest, in SQL: Today lists a few of a thousand
        where.append(gh.c.death_risk >= min_risk)
    for gid, pgid, name, risk, vpd, share, members, metrics, reasons in conn.execute(
        select(
            gh.c.group_id,
            g.c.platform_group_id,
            g.c.name,
            gh.c.death_risk,
            gh.c.value_per_day,
            gh.c.active_share,
            gh.c.members,
            gh.c.metrics,
            gh.c.reasons,
        )
        .select_from(gh.join(g, g.c.id == gh.c.group_id))
        .where(*where)
        .order_by(gh.c.death_risk.desc())
    ):
        unanswered = unanswered_share(metrics)
        if unanswered_first(risk, unanswered):
            reasons = sorted(reasons, key=lambda r: r["code"] != "unanswered")
        rows.append(
            {
                "group": pgid,
                "group_id": gid,
                "name": name,
                "day": day.isoformat(),
                "death_risk": risk,
                "risk": risk_of(risk, unanswered),
                "unanswered_share": unanswered,
                "reasons": [r[key] for r in reasons],
                "reason_codes": [r["code"] for r in reasons],
                "active_share": share,
                "value_per_day": vpd,
                "members": members,
                "forecast_days": metrics.get("forecast_days_to_below_living"),
                "metrics": metrics,
                "reason_detail": reasons,
            }
        )
    return rows


def health_history(conn: Connection, community_id: int, days: int = 28) -> dict[str, list[Any]]:
    gh, g = table_of(GroupHealth), table_of(Group)
    out: dict[str, list[Any]] = defaultdict(list)
    for pgid, day, risk, vpd in conn.execute(
        select(g.c.platform_group_id, gh.c.day, gh.c.death_risk, gh.c.value_per_day)
        .select_from(gh.join(g, g.c.id == gh.c.group_id))
        .where(gh.c.community_id == community_id)
        .order_by(gh.c.day)
    ):
        out[pgid].append({"day": day.isoformat(), "death_risk": risk, "value_per_day": vpd})
    return {k: v[-days:] for k, v in out.items()}


def alerts(conn: Connection, community_id: int, limit: int = 50) -> list[dict[str, Any]]:
    a = table_of(IntelAlert)
    return [
        {
            "id": i,
            "group_id": gid,
            "kind": k,
            "day": d.isoformat(),
            "message": msg,
            "acknowledged": ack,
        }
        for i, gid, k, d, msg, ack in conn.execute(
            select(a.c.id, a.c.group_id, a.c.kind, a.c.day, a.c.message, a.c.acknowledged)
            .where(a.c.community_id == community_id)
            .order_by(a.c.day.desc(), a.c.id.desc())
            .limit(limit)
        )
    ]


def funnel_data(
    conn: Connection, community_id: int, as_of: date, weeks: int = 12, tz: Any = None
) -> dict[str, Any]:
    tz = tz or UTC
    ms, md = table_of(Membership), table_of(MemberDaily)
    last_active: dict[int, date] = {
        m: d
        for m, d in conn.execute(
            select(md.c.member_id, func.max(md.c.day))
            .where(md.c.community_id == community_id, md.c.messages + md.c.check_ins > 0)
            .group_by(md.c.member_id)
        )
    }
    totals_paid = load_totals(conn, community_id, as_of, tz).paid
    joins = [
        JoinRecord(
            mid,
            joined.astimezone(tz).date(),
            via or "unknown",
            inviter,
            last_active.get(mid),
            mid in totals_paid,
        )
        for mid, joined, via, inviter in conn.execute(
            select(ms.c.member_id, ms.c.joined_at, ms.c.join_via, ms.c.inviter_member_id).where(
                ms.c.community_id == community_id, ms.c.joined_at.isnot(None)
            )
        )
    ]
    return funnel(joins, as_of, weeks)
