"""The numbers of the weekly report (周报), read from the engines' tables: the same
dictionary feeds the HTML file, the PDF and the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from qunzhu.engines.roles import PRECEDENCE
from qunzhu.engines.specs import SpecCache
from qunzhu.engines.suggestions import role_mix_findings, suggest
from qunzhu.engines.views import (
    alerts,
    explain_member,
    funnel_data,
    health_rows,
    latest_day,
    members_list,
)
from qunzhu.readmodels.what_worked import ranking
from qunzhu.spec.zones import local_time, spec_zone, zone_name
from qunzhu.store.base import table_of
from qunzhu.store.intelligence import Question
from qunzhu.store.models import Community, Group, GroupDaily, Member, Message

RISK_SHOWN = 40.0
LONG = "%Y-%m-%d %H:%M"


def weekly_data(
    conn: Connection,
    community_id: int,
    as_of: date | None = None,
    lang: str = "en",
    default_zone: tzinfo = UTC,
    tz: tzinfo | None = None,
) -> dict[str, Any]:
    """The report's numbers for the week ending ``as_of`` (the engines' newest day).

    ``default_zone`` (QUNZHU_TIMEZONE) holds where the spec names no time zone.
    ``value_trend`` is value per day per group, the days the chart draws; each group's
    ``value_per_day`` (the table) is the health engine's mean of the same last 7 days, and
    ``value_trend.per_day`` that mean worked out from the chart's own points — the two agree.
    ``value_trend.partial`` says the last day is today in ``tz`` (else the community's zone)
    and not over yet."""
    as_of = as_of or latest_day(conn, community_id)
    if as_of is None:
        raise LookupError("nothing computed yet for this community: run `qunzhu recompute`")
    spec = SpecCache().get(conn, community_id)
    week_start = as_of - timedelta(days=6)
    community = conn.execute(
        select(Community.slug, Community.name, Community.spec_yaml).where(
            Community.id == community_id
        )
    ).one()
    zone = spec_zone(community.spec_yaml, default_zone)
    groups = health_rows(conn, community_id, as_of, lang)
    trend = _value_trend(conn, community_id, as_of, 28)
    trend["partial"] = as_of >= datetime.now(tz or zone).date()
    trend["per_day"] = {k: round(sum(v[-7:]) / 7, 2) for k, v in trend["series"].items()}
    this_week = sum(sum(v[-7:]) for v in trend["series"].values())
    last_week = sum(sum(v[-14:-7]) for v in trend["series"].values())
    top = members_list(conn, community_id, limit=10)
    for row in top:
        why = explain_member(conn, community_id, row["member"], lang)
        row["why"] = why["value_explained"][:3]
        row["names"] = row["names"][:1]
    suggestions: list[dict[str, Any]] = []
    for g in groups:
        suggestions += suggest(g["name"], g["reason_detail"], lang)
        mix = g["metrics"].get("role_mix", {})
        g["role_findings"] = role_mix_findings(mix, spec.targets, lang)
    return {
        "community": {"slug": community.slug, "name": community.name},
        "lang": lang,
        "timezone": zone_name(zone),
        "week": {"start": week_start.isoformat(), "end": as_of.isoformat()},
        "value": {
            "this_week": round(this_week, 1),
            "last_week": round(last_week, 1),
            "change": round(this_week / last_week - 1, 3) if last_week else None,
        },
        "value_trend": trend,
        "groups": groups,
        "at_risk": [g for g in groups if g["death_risk"] >= RISK_SHOWN],
        "role_mix": {g["name"]: g["metrics"].get("role_mix", {}) for g in groups},
        "role_order": [r for r in reversed(PRECEDENCE) if r != "peripheral"],
        "role_targets": {k: v.model_dump() for k, v in spec.targets.ranges().items()},
        "funnel": funnel_data(conn, community_id, as_of),
        "top_contributors": top,
        "unanswered": unanswered_questions(
            conn, community_id, as_of, zone=zone, spec_yaml=community.spec_yaml
        ),
        "suggestions": suggestions,
        "what_worked": _what_worked(conn, community_id, week_start, as_of, zone, lang),
        "alerts": [a for a in alerts(conn, community_id) if a["day"] >= week_start.isoformat()],
        "spec": spec.source,
    }


def _what_worked(
    conn: Connection, community_id: int, start: date, end: date, zone: tzinfo, lang: str
) -> list[dict[str, Any]]:
    """The posts of the report's week (its days in the community's zone), best first."""
    since = datetime.combine(start, time.min, zone)
    until = datetime.combine(end + timedelta(days=1), time.min, zone)
    with Session(bind=conn) as session:
        return ranking(session, community_id, since, until, now=datetime.now(UTC), lang=lang)


def _value_trend(conn: Connection, community_id: int, as_of: date, days: int) -> dict[str, Any]:
    gd, g = table_of(GroupDaily), table_of(Group)
    start = as_of - timedelta(days=days - 1)
    labels = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    series: dict[str, list[float]] = {}
    for name, day, value in conn.execute(
        select(g.c.name, gd.c.day, gd.c.value)
        .select_from(gd.join(g, g.c.id == gd.c.group_id))
        .where(gd.c.community_id == community_id, gd.c.day >= start, gd.c.day <= as_of)
    ):
        series.setdefault(name, [0.0] * days)[(day - start).days] = round(float(value), 2)
    return {"labels": labels, "series": series}


def unanswered_questions(
    conn: Connection,
    community_id: int,
    as_of: date,
    days: int = 7,
    limit: int = 20,
    *,
    zone: tzinfo = UTC,
    spec_yaml: str | None = None,
) -> list[dict[str, Any]]:
    """Questions of the last ``days`` (in ``zone``) nobody answered, oldest first (only these
    few messages are read for their text); ``asked_local`` is the time in the group's zone."""
    q, m, g, mem = table_of(Question), table_of(Message), table_of(Group), table_of(Member)
    since = datetime.combine(as_of - timedelta(days=days - 1), datetime.min.time(), zone)
    until = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), zone)
    rows = conn.execute(
        select(
            q.c.message_id,
            g.c.name,
            g.c.platform_group_id,
            mem.c.display_name,
            q.c.asked_at,
            m.c.text,
        )
        .select_from(
            q.join(m, m.c.id == q.c.message_id)
            .join(g, g.c.id == q.c.group_id)
            .join(mem, mem.c.id == q.c.member_id)
        )
        .where(
            q.c.community_id == community_id,
            q.c.answered_at.is_(None),
            q.c.asked_at >= since,
            q.c.asked_at < until,
        )
        .order_by(q.c.asked_at)
        .limit(limit)
    )
    return [
        {
            "message": i,
            "group": gname,
            "member": name,
            "asked_at": at.isoformat(),
            "asked_local": local_time(at, spec_zone(spec_yaml, zone, gkey), LONG),
            "text": (text or "")[:200],
        }
        for i, gname, gkey, name, at, text in rows
    ]
