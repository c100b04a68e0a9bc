"""What needs an operator today: one small query per section, each bounded; the counts are
qunzhu.readmodels.queues (the figures of ``GET …/queues``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from qunzhu.auth.permissions import mask_text
from qunzhu.http.web.queries.community import group_health as rollup_health
from qunzhu.http.web.queries.problems import kind_key
from qunzhu.readmodels import queues, referrals
from qunzhu.readmodels.health import DYING_RISK, group_health, health_computed
from qunzhu.store.intelligence import Question
from qunzhu.store.messaging import PlannedPost
from qunzhu.store.models import (
    Application,
    Group,
    Member,
    Message,
    ModerationAction,
    Quarantine,
)

SHOWN = 5  # items per section; the section links to the page with all of them
QUESTION_WINDOW = timedelta(hours=48)
QUESTION_MARKS = ("?", "？")


@dataclass(slots=True)
class Section:
    """One thing that may need the operator: how many, the first few, where to act."""

    key: str
    count: int
    items: list[dict[str, Any]] = field(default_factory=list)
    link: str = ""


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        session.execute(select(Member.id, Member.display_name).where(Member.id.in_(ids)))
        .tuples()
        .all()
    )


def _group_names(session: Session, community_id: int) -> dict[int, str]:
    return dict(
        session.execute(select(Group.id, Group.name).where(Group.community_id == community_id))
        .tuples()
        .all()
    )


def review_section(
    session: Session, community_id: int, slug: str, groups: dict[int, str], unmasked: bool
) -> Section:
    where = (
        ModerationAction.community_id == community_id,
        ModerationAction.status == "pending_review",
    )
    count = queues.pending_review(session.connection(), community_id)
    rows = session.execute(
        select(ModerationAction, Message.text)
        .outerjoin(Message, Message.id == ModerationAction.message_id)
        .where(*where)
        .order_by(ModerationAction.created_at, ModerationAction.id)
        .limit(SHOWN)
    ).all()
    names = _names(session, {a.member_id for a, _ in rows})
    items = [
        {
            "id": a.id,
            "rule": a.rule,
            "kind": kind_key(a.rule),  # what kind of problem, through the catalogs
            "action": a.action,
            "at": a.created_at,
            "member": names.get(a.member_id, "?"),
            "member_id": a.member_id,
            "group": groups.get(a.group_id or 0, ""),
            "text": (text if unmasked else mask_text(text or ""))[:140] if text else "",
        }
        for a, text in rows
    ]
    return Section("review", int(count), items, f"/c/{slug}/review")


def applications_section(
    session: Session, community_id: int, slug: str, groups: dict[int, str]
) -> Section:
    where = (Application.community_id == community_id, Application.status == "pending")
    count = queues.pending_applications(session.connection(), community_id)
    rows = list(
        session.scalars(
            select(Application)
            .where(*where)
            .order_by(Application.submitted_at, Application.id)
            .limit(SHOWN)
        )
    )
    names = _names(session, {a.member_id for a in rows if a.member_id})
    items = [
        {
            "id": a.id,
            "at": a.submitted_at,
            "group": groups.get(a.group_id or 0, ""),
            "member": names.get(a.member_id or 0, a.external_id),
            "member_id": a.member_id,
        }
        for a in rows
    ]
    return Section("applications", int(count), items, f"/c/{slug}/growth#applications")


def _tracks_questions(session: Session, community_id: int) -> bool:
    """Whether the engines track questions for this community (so their answers count)."""
    found = session.scalar(
        select(Question.message_id).where(Question.community_id == community_id).limit(1)
    )
    return found is not None


def _unanswered_questions(
    session: Session, community_id: int, since: datetime
) -> tuple[int, list[int]]:
    """(how many questions since ``since`` have no answer, the newest few message ids)."""
    q = Question
    where = (q.community_id == community_id, q.asked_at >= since, q.answered_at.is_(None))
    count = session.scalar(select(func.count()).select_from(q).where(*where)) or 0
    newest = select(q.message_id).where(*where).order_by(q.asked_at.desc()).limit(SHOWN)
    ids = session.scalars(newest)
    return int(count), [int(i) for i in ids]


def questions_section(
    session: Session,
    community_id: int,
    slug: str,
    groups: dict[int, str],
    now: datetime,
    unmasked: bool,
) -> Section:
    """Questions of the last 48 hours nobody has answered: as the engines track them when
    they do for this community, else messages with a question mark and no reply yet (a
    bounded, indexed window of recent messages)."""
    if _tracks_questions(session, community_id):
        count, ids = _unanswered_questions(session, community_id, now - QUESTION_WINDOW)
        rows = (
            list(
                session.scalars(
                    select(Message).where(Message.id.in_(ids)).order_by(Message.occurred_at.desc())
                )
            )
            if ids
            else []
        )
        return _question_section(session, slug, groups, count, rows, unmasked)
    reply = aliased(Message)
    where = (
        Message.group_id.in_(list(groups)) if groups else Message.id < 0,
        Message.occurred_at >= now - QUESTION_WINDOW,
        or_(*(Message.text.contains(mark) for mark in QUESTION_MARKS)),
        ~exists().where(reply.reply_to_id == Message.id),
        Message.recalled.is_(False),
    )
    count = session.scalar(select(func.count()).select_from(Message).where(*where)) or 0
    rows = list(
        session.scalars(
            select(Message).where(*where).order_by(Message.occurred_at.desc()).limit(SHOWN)
        )
    )
    return _question_section(session, slug, groups, int(count), rows, unmasked)


def _question_section(
    session: Session,
    slug: str,
    groups: dict[int, str],
    count: int,
    rows: list[Message],
    unmasked: bool,
) -> Section:
    names = _names(session, {m.member_id for m in rows})
    items = [
        {
            "id": m.id,
            "at": m.occurred_at,
            "group": groups.get(m.group_id, ""),
            "group_id": m.group_id,
            "member": names.get(m.member_id, "?"),
            "member_id": m.member_id,
            "text": (m.text if unmasked else mask_text(m.text))[:140],
        }
        for m in rows
    ]
    link = f"/c/{slug}/groups/{rows[0].group_id}#stream" if rows else ""
    return Section("questions", int(count), items, link)


def risk_section(
    session: Session, community_id: int, slug: str, today: date, lang: str = "zh-CN"
) -> Section:
    """Groups at risk of dying: the health engine's verdict when it has run (its newest
    day, qunzhu.readmodels.health), else the rollup trend of every group."""
    conn = session.connection()
    if health_computed(conn, community_id):
        dying = group_health(conn, community_id, min_risk=DYING_RISK, lang=lang)  # riskiest first
        items: list[dict[str, Any]] = [
            {
                "id": h.group_id,
                "name": h.name,
                "messages_7d": None,
                "messages_prev_7d": None,
                "members": h.members,
                "death_risk": round(h.death_risk),
                "reason": h.reasons[0] if h.reasons else "",
            }
            for h in dying[:SHOWN]
        ]
        return Section("at_risk", len(dying), items, f"/c/{slug}/community#groups")
    at_risk = [g for g in rollup_health(session, community_id, today) if g.risk == "high"]
    items = [
        {
            "id": g.id,
            "name": g.name,
            "messages_7d": g.messages_7d,
            "messages_prev_7d": g.messages_prev_7d,
            "members": g.members,
        }
        for g in at_risk
    ]
    return Section("at_risk", len(items), items[:SHOWN], f"/c/{slug}/community#groups")


def rewards_section(session: Session, community_id: int, slug: str) -> Section:
    """Referral rewards held by the fraud check for an operator (qunzhu.readmodels.referrals)."""
    conn = session.connection()
    held = queues.held_rewards(conn, community_id)
    items = [
        {
            "id": r.id,
            "status": "held",
            "at": None,
            "inviter": r.member,
            "inviter_id": r.member_id,
            "campaign": r.campaign,
            "rung": r.rung,
            "kind": r.kind,
            "value": r.value,
        }
        for r in referrals.rewards(conn, community_id, "held", SHOWN)
    ]
    return Section("rewards", held, items, f"/c/{slug}/growth#rewards")


def errors_section(session: Session, community_id: int, slug: str) -> Section:
    """Input that could not be accepted (importers, webhooks, connectors), not yet resolved."""
    where = (Quarantine.community_id == community_id, Quarantine.resolved.is_(False))
    count = session.scalar(select(func.count()).select_from(Quarantine).where(*where)) or 0
    rows = list(
        session.scalars(
            select(Quarantine).where(*where).order_by(Quarantine.created_at.desc()).limit(SHOWN)
        )
    )
    items = [
        {"id": q.id, "at": q.created_at, "source": q.source[-60:], "reason": q.reason[:160]}
        for q in rows
    ]
    return Section("errors", int(count), items, f"/c/{slug}/errors")


def connectors_section(session: Session, community_id: int, slug: str) -> Section:
    """Connectors in error or disabled, and open alerts (decisions the platform cannot carry
    out, groups disabled by the platform): each needs a person."""
    from qunzhu.store.connectors import Connector, ConnectorAlert

    broken = list(
        session.scalars(
            select(Connector).where(
                Connector.community_id == community_id,
                or_(Connector.status.in_(("error", "disabled")), Connector.enabled.is_(False)),
            )
        )
    )
    open_alerts = (ConnectorAlert.community_id == community_id, ConnectorAlert.status == "open")
    alerts = session.scalar(select(func.count()).select_from(ConnectorAlert).where(*open_alerts))
    items: list[dict[str, Any]] = [
        {
            "text": f"{c.name} ({c.platform}): {c.status}",
            "reason": (c.status_reason or c.last_error or "")[:160],
            "at": c.last_error_at or c.updated_at,
        }
        for c in broken[:SHOWN]
    ]
    for a in session.scalars(
        select(ConnectorAlert)
        .where(*open_alerts)
        .order_by(ConnectorAlert.created_at.desc())
        .limit(max(0, SHOWN - len(items)))
    ):
        items.append({"text": a.text[:160] or a.kind, "reason": a.reason[:160], "at": a.created_at})
    return Section("connectors", len(broken) + int(alerts or 0), items, f"/c/{slug}/connectors")


def calendar_section(session: Session, community_id: int, slug: str, now: datetime) -> Section:
    """Drafts of the content calendar waiting for an admin, and posts going out in the next
    24 hours: the day's plan."""
    soon = now + timedelta(hours=24)
    wanted = or_(
        PlannedPost.status == "draft",
        (PlannedPost.status == "approved") & (PlannedPost.next_at <= soon),
    )
    count = session.scalar(
        select(func.count()).where(PlannedPost.community_id == community_id, wanted)
    )
    rows = session.execute(
        select(PlannedPost.id, PlannedPost.title, PlannedPost.status, PlannedPost.next_at)
        .where(PlannedPost.community_id == community_id, wanted)
        .order_by(PlannedPost.next_at.is_(None), PlannedPost.next_at, PlannedPost.id)
        .limit(SHOWN)
    ).all()
    items = [{"id": r.id, "title": r.title, "status": r.status, "at": r.next_at} for r in rows]
    return Section("calendar", int(count or 0), items, f"/c/{slug}/calendar")


def today_sections(
    session: Session,
    community_id: int,
    slug: str,
    *,
    today: date,
    now: datetime,
    unmasked: bool,
    can_moderate: bool,
    lang: str = "zh-CN",
) -> list[Section]:
    groups = _group_names(session, community_id)
    sections = []
    if can_moderate:
        sections.append(review_section(session, community_id, slug, groups, unmasked))
    sections += [
        applications_section(session, community_id, slug, groups),
        questions_section(session, community_id, slug, groups, now, unmasked),
        risk_section(session, community_id, slug, today, lang),
        calendar_section(session, community_id, slug, now),
        rewards_section(session, community_id, slug),
        errors_section(session, community_id, slug),
        connectors_section(session, community_id, slug),
    ]
    return sections
