"""Moderation over what is already stored: a community's spec, and the audit of history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.events import EventError, MessagePosted
from qunzhu.moderation.behaviour import Behaviour
from qunzhu.moderation.classifier import SpamModel
from qunzhu.moderation.decide import Standing
from qunzhu.moderation.inspect import MAX_CHARS, Inspector, default_spec
from qunzhu.moderation.moderator import in_good_standing
from qunzhu.moderation.normalize import normalize
from qunzhu.spec.loader import load_spec
from qunzhu.spec.problems import SpecError
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.models import Community, Group, Member, Message
from qunzhu.store.session import Store

BATCH = 2000


class AuditError(LookupError):
    """The community is unknown, or its stored spec does not load."""


def community_spec(session: Session, slug: str) -> CommunitySpec:
    community = session.scalar(select(Community).where(Community.slug == slug))
    if community is None:
        raise AuditError(f"unknown community {slug!r}")
    if not community.spec_yaml:
        return default_spec(slug)
    try:
        return load_spec(community.spec_yaml)
    except SpecError as exc:
        raise AuditError(f"the stored spec of {slug!r} does not load: {exc}") from None


def audit_stored(
    store: Store,
    slug: str,
    model: SpamModel,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Judge every stored message of the community in time order, acting on nothing."""
    tally: Counter[tuple[str, str]] = Counter()
    behaviour = Behaviour()
    ledger: dict[int, list[tuple[Any, float]]] = {}
    judged = acted = flagged = 0
    with store.reading() as session:
        spec = community_spec(session, slug)
        inspector = Inspector(spec, model)
        community_id = session.scalar(select(Community.id).where(Community.slug == slug))
        groups = {
            g.id: g
            for g in session.scalars(select(Group).where(Group.community_id == community_id))
        }
        protected = set(
            session.scalars(
                select(Member.id).where(
                    Member.community_id == community_id, Member.protected.is_(True)
                )
            )
        )
        first_seen: dict[int, Any] = {}
        last_id = 0
        while True:
            rows = list(
                session.scalars(
                    select(Message)
                    .where(Message.community_id == community_id, Message.id > last_id)
                    .order_by(Message.id)
                    .limit(BATCH)
                )
            )
            if not rows:
                break
            last_id = rows[-1].id
            rows.sort(key=lambda m: m.occurred_at)
            norms = [normalize((m.text or "")[:MAX_CHARS]) for m in rows]
            for m, norm, score in zip(rows, norms, inspector.scores(norms), strict=True):
                group = groups.get(m.group_id)
                try:
                    event = MessagePosted(
                        platform=group.platform if group else "api",
                        community=slug,
                        group=group.platform_group_id if group else str(m.group_id),
                        member=str(m.member_id),
                        occurred_at=m.occurred_at,
                        message_id=m.platform_message_id,
                        text=m.text or "",
                        kind=m.kind if m.kind else "text",
                    )
                except EventError:
                    continue
                points = sum(p for until, p in ledger.get(m.member_id, []) if until > m.occurred_at)
                # tenure from the member's first stored message (value is not replayed)
                first = first_seen.setdefault(m.member_id, m.occurred_at)
                standing = Standing(
                    protected=m.member_id in protected,
                    points=points,
                    good_standing=in_good_standing(spec, m.occurred_at, first, points, 0.0, None),
                )
                decision = inspector.judge(event, norm, score, standing, behaviour).decision
                judged += 1
                if decision.action == "allow":
                    continue
                if decision.action == "flag":
                    flagged += 1
                else:
                    acted += 1
                if decision.points:
                    until = m.occurred_at + timedelta(days=spec.escalation.points_expire_days)
                    ledger.setdefault(m.member_id, []).append((until, decision.points))
                rule = decision.main.rule if decision.main else ""
                tally[(rule, decision.action)] += 1
            if progress is not None:
                progress(len(rows))
    return {
        "community": slug,
        "messages": judged,
        "acted": acted,
        "flagged": flagged,
        "by_rule": [
            {"rule": r, "action": a, "count": c}
            for (r, a), c in sorted(tally.items(), key=lambda kv: -kv[1])
        ],
    }
