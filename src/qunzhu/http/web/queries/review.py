"""The moderation review queue: what waits for a moderator, and their decisions on it.

Decisions go through the moderation package (``qunzhu.moderation.review.review``), so points
and the escalation ladder follow its rules: **approve** confirms the flag (the rule's points
apply), **undo** reverses it (points back, message unflagged; an upheld appeal),
**escalate** moves the member to the next rung of the ladder now. When the community's
stored spec does not load, the decision is recorded here on the row itself. Either way the
item leaves the queue with the operator and time, and the audit log says who decided what.
The members whose points moved have their roles decided again in the same transaction
(:func:`qunzhu.wiring.after_review`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunzhu.auth.audit import record
from qunzhu.http.web.queries.common import Page, page_of
from qunzhu.http.web.queries.problems import Described, describe
from qunzhu.moderation.review import review, unflag
from qunzhu.moderation.stored import AuditError, community_spec
from qunzhu.store.models import Group, Member, Message, ModerationAction, utcnow
from qunzhu.wiring import after_review

Decision = Literal["approve", "undo", "escalate"]
DECISIONS: tuple[str, ...] = get_args(Decision)
QUEUE_STATUSES = ("pending_review", "applied", "alerted", "approved", "undone", "all")
PER_PAGE = 50
# What each decision leaves on the row when this module records it itself.
STATUS_AFTER: dict[str, str] = {"approve": "approved", "undo": "undone", "escalate": "approved"}


@dataclass(frozen=True, slots=True)
class QueueItem:
    id: int
    created_at: datetime
    group_id: int | None
    group: str
    member_id: int
    member: str
    action: str
    rule: str
    detector: str
    score: float
    status: str
    found: Described  # what kind of problem, and the message with the evidence marked
    outcome: str | None  # what the platform did (sent, failed, alerted, skipped); None: not yet


def queue(
    session: Session, community_id: int, *, status: str, page: int, unmasked: bool
) -> tuple[list[QueueItem], Page]:
    where = [ModerationAction.community_id == community_id]
    if status != "all":
        where.append(ModerationAction.status == status)
    total = session.scalar(select(func.count()).select_from(ModerationAction).where(*where)) or 0
    shown = page_of(page, PER_PAGE, int(total))
    rows = (
        session.execute(
            select(ModerationAction, Message.text, Member.display_name, Group.name)
            .outerjoin(Message, Message.id == ModerationAction.message_id)
            .join(Member, Member.id == ModerationAction.member_id)
            .outerjoin(Group, Group.id == ModerationAction.group_id)
            .where(*where)
            .order_by(ModerationAction.created_at, ModerationAction.id)
            .limit(shown.size)
            .offset(shown.offset)
        )
        .tuples()
        .all()
    )
    items = []
    for a, text, member, group in rows:
        items.append(
            QueueItem(
                id=a.id,
                created_at=a.created_at,
                group_id=a.group_id,
                group=group or "",
                member_id=a.member_id,
                member=member,
                action=a.action,
                rule=a.rule,
                detector=a.detector,
                score=round(a.score, 2),
                status=a.status,
                found=describe(a.rule, a.detector, a.score, a.evidence, text, unmasked=unmasked),
                outcome=a.outcome,
            )
        )
    return items, shown


def _reviewer(
    session: Session, slug: str, tz: tzinfo
) -> Callable[[ModerationAction, str, int, str], None] | None:
    """``qunzhu.moderation.review.review`` bound to the community's spec; None when the
    stored spec does not load (the decision is then recorded here on the row)."""
    try:
        spec = community_spec(session, slug)
    except AuditError:
        return None

    def run(action: ModerationAction, decision: str, operator_id: int, note: str) -> None:
        review(
            session,
            action.community_id,
            action.id,
            decision,
            spec,
            operator_id=operator_id,
            note=note or None,
            tz=tz,
        )

    return run


def _record_here(
    session: Session, action: ModerationAction, decision: str, note: str, tz: tzinfo
) -> None:
    """The decision without the moderation package: status, and the message unflagged on
    undo; points and platform actions wait for that package."""
    action.status = STATUS_AFTER[decision]
    if decision == "undo":
        action.points = 0.0
        if action.message_id is not None:
            unflag(session, action.community_id, action.message_id, tz)
    if note:
        action.review_note = note[:500]


def decide(
    session: Session,
    community_id: int,
    slug: str,
    ids: list[int],
    decision: Decision,
    *,
    operator_id: int,
    note: str = "",
    tz: tzinfo = UTC,
) -> int:
    """Apply ``decision`` to the community's actions ``ids``; returns how many changed.

    Ids of another community are ignored (never an error that tells they exist); items the
    decision does not fit (approving one already decided) are skipped."""
    actions = list(
        session.scalars(
            select(ModerationAction)
            .where(ModerationAction.community_id == community_id, ModerationAction.id.in_(ids))
            .order_by(ModerationAction.id)
        )
    )
    reviewer = _reviewer(session, slug, tz)
    changed = 0
    moved: list[int] = []
    for action in actions:
        if decision == "undo" and action.status in ("undone",):
            continue
        if decision != "undo" and action.status != "pending_review":
            continue
        before = action.status
        if reviewer is not None:
            try:
                with session.begin_nested():
                    reviewer(action, decision, operator_id, note)
            except ValueError:  # ReviewError: e.g. already on the top rung of the ladder
                continue
        else:
            _record_here(session, action, decision, note, tz)
        action.reviewed_by = operator_id
        action.reviewed_at = utcnow()
        record(
            session,
            f"moderation.{decision}",
            source="web",
            operator_id=operator_id,
            community_id=community_id,
            target=str(action.id),
            detail={"before": before, "after": action.status, "rule": action.rule},
        )
        changed += 1
        moved.append(action.member_id)
    after_review(session, community_id, moved, tz)
    return changed
