"""The review queue and appeals, over the ``moderation_actions`` table.

- **approve** (a flagged message did break the rule): the rule's points are added and the
  platform actions (delete, warn, …) are decided; status ``approved``.
- **undo** (it did not, or an appeal is upheld): the points are taken back, the message is
  unflagged, a mute or ban is lifted; status ``undone``. An appeal is an undo with the
  member's reason kept in the note.
- **escalate**: the member goes to the next rung of the ladder now; a new row records it.

The platform actions a review decides are queued in the outbox in the review's own
transaction (:mod:`qunzhu.store.outbox`): the connectors of ``qunzhu serve`` carry them
out, and ``outcome`` / ``carried_out_at`` of the row they belong to say what the platform did.
Status ``applied`` is the decision; the outcome is the carrying out.

An undone flag is unflagged everywhere it counted: the message, and the ``flagged`` counter
of the member's and the group's day in the rollups (the roles engine counts a member's
flagged messages as points too). Each entry point then has the member's role decided again
in the same transaction (:func:`qunzhu.wiring.after_review`).

Reviewed rows are labelled data: ``feedback`` turns them into (label, text) pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from qunzhu import events as ev
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store import outbox
from qunzhu.store.models import Community, GroupDaily, MemberDaily, Message, ModerationAction
from qunzhu.store.scoped import row_in

Operation = Literal["approve", "undo", "escalate"]
OPERATIONS: tuple[str, ...] = ("approve", "undo", "escalate")
_UNDOABLE = ("pending_review", "applied", "alerted", "approved", "audited")


class ReviewError(ValueError):
    """The item cannot be reviewed that way; ``field`` names what was wrong."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Reviewed:
    id: int
    status: str
    points: float
    actions: list[ev.Action]
    queued: list[int] = field(default_factory=list)  # outbox rows that carry them out
    member_id: int | None = None  # whose points moved: their role is decided again

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "points": self.points,
            "actions": [{"kind": a.kind, "member": a.member, "text": a.text} for a in self.actions],
            "queued": self.queued,
        }


def as_item(row: ModerationAction) -> dict[str, Any]:
    evidence = row.evidence if isinstance(row.evidence, dict) else {}
    return {
        "id": row.id,
        "member_id": row.member_id,
        "message_id": row.message_id,
        "action": row.action,
        "rule": row.rule,
        "detector": row.detector,
        "score": row.score,
        "points": row.points,
        "status": row.status,
        "mode": row.mode,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "text": evidence.get("text", ""),
        "findings": evidence.get("findings", []),
        "review_note": row.review_note,
        "outcome": row.outcome,
        "carried_out_at": row.carried_out_at,
    }


def queue(
    session: Session, community_id: int, *, status: str | None = "pending_review", limit: int = 100
) -> list[dict[str, Any]]:
    query = select(ModerationAction).where(ModerationAction.community_id == community_id)
    if status:
        query = query.where(ModerationAction.status == status)
    query = query.order_by(ModerationAction.created_at.desc(), ModerationAction.id.desc())
    return [as_item(row) for row in session.scalars(query.limit(limit))]


def _row(session: Session, community_id: int, item_id: int) -> ModerationAction:
    row = row_in(session, ModerationAction, community_id, item_id)
    if row is None:
        raise ReviewError(f"no moderation item {item_id} in this community", field="id")
    return row


def _target(
    session: Session,
    row: ModerationAction,
    kind: ev.ActionKind,
    *,
    decision: int | None = None,
    **extra: Any,
) -> ev.Action:
    """An action on the row's member where the message was posted; ``decision`` is the row
    whose outcome it reports (an escalation's own row), else this one."""
    evidence = row.evidence if isinstance(row.evidence, dict) else {}
    community = evidence.get("community") or session.scalar(
        select(Community.slug).where(Community.id == row.community_id)
    )
    return ev.Action(
        kind=kind,
        platform=str(evidence.get("platform", "api")),
        community=str(community),
        group=str(evidence.get("group", row.group_id or "")) or "-",
        member=evidence.get("member"),
        reason=f"review of {row.rule}",
        detail={"moderation_action": decision or row.id},
        **extra,
    )


def review(
    session: Session,
    community_id: int,
    item_id: int,
    operation: str,
    spec: CommunitySpec,
    *,
    operator_id: int | None = None,
    note: str | None = None,
    now: datetime | None = None,
    origin: str = "review",
    dispatch: bool = True,
    tz: tzinfo = UTC,
) -> Reviewed:
    """Decide one item; its platform actions are queued in the outbox under
    ``<origin>:<id>`` (``appeal:12``) unless ``dispatch`` is False. ``tz``: the store's day
    boundary (``settings.tz``), for the rollup day an undone flag is taken off."""
    if operation not in OPERATIONS:
        raise ReviewError(
            f"unknown operation {operation!r}; use {', '.join(OPERATIONS)}", field="operation"
        )
    now = now or datetime.now(UTC)
    row = _row(session, community_id, item_id)
    actions: list[ev.Action] = []
    if operation == "approve":
        if row.status != "pending_review":
            raise ReviewError(f"item {item_id} is {row.status}, not waiting for review", field="id")
        severity = spec.rules.severities().get(row.rule, 0)
        row.points = float(severity)
        row.expires_at = now + timedelta(days=spec.escalation.points_expire_days)
        row.status = "approved"
        if row.message_id is not None:
            message = session.get(Message, row.message_id)
            if message is not None:
                actions.append(
                    _target(session, row, "delete_message", message_id=message.platform_message_id)
                )
        actions.append(_target(session, row, "warn", text=f"rule: {row.rule}"))
    elif operation == "undo":
        if row.status not in _UNDOABLE:
            raise ReviewError(f"item {item_id} is {row.status} and cannot be undone", field="id")
        evidence = row.evidence if isinstance(row.evidence, dict) else {}
        sanction = evidence.get("sanction")
        if row.status in ("applied", "approved") and sanction == "mute":
            actions.append(_target(session, row, "unmute"))
        elif row.status in ("applied", "approved") and sanction in ("remove", "blacklist"):
            actions.append(_target(session, row, "unban"))
        row.status = "undone"
        row.points = 0.0
        if row.message_id is not None:
            unflag(session, row.community_id, row.message_id, tz)
    else:
        actions += _escalate(session, row, spec, now)
        row.status = "approved" if row.status == "pending_review" else row.status
    row.reviewed_by = operator_id
    row.reviewed_at = now
    if note is not None:
        row.review_note = note[:2000]
    session.flush()
    queued: list[int] = []
    if dispatch and actions:
        # an escalation's actions are its new row's: that row's id makes them a new origin
        decided = actions[0].detail.get("moderation_action", row.id)
        queued = outbox.enqueue(session, row.community_id, actions, f"{origin}:{decided}")
    return Reviewed(row.id, row.status, row.points, actions, queued, row.member_id)


def unflag(session: Session, community_id: int, message_id: int, tz: tzinfo = UTC) -> bool:
    """The message is no longer flagged, and its day's ``flagged`` counters (member and
    group) count it no more. False when it was not flagged (nothing to take off)."""
    message = session.scalar(
        select(Message).where(Message.id == message_id, Message.community_id == community_id)
    )
    if message is None or not message.flagged:
        return False
    message.flagged = False
    at = message.occurred_at
    day = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(tz).date()
    session.execute(
        update(MemberDaily)
        .where(
            MemberDaily.community_id == community_id,
            MemberDaily.group_id == message.group_id,
            MemberDaily.member_id == message.member_id,
            MemberDaily.day == day,
            MemberDaily.flagged > 0,
        )
        .values(flagged=MemberDaily.flagged - 1)
    )
    session.execute(
        update(GroupDaily)
        .where(
            GroupDaily.community_id == community_id,
            GroupDaily.group_id == message.group_id,
            GroupDaily.day == day,
            GroupDaily.flagged > 0,
        )
        .values(flagged=GroupDaily.flagged - 1)
    )
    session.flush()
    return True


def _escalate(
    session: Session, row: ModerationAction, spec: CommunitySpec, now: datetime
) -> list[ev.Action]:
    """Put the member on the next rung: a new row carries the points that reach it."""
    total = sum(
        r.points
        for r in session.scalars(
            select(ModerationAction).where(
                ModerationAction.community_id == row.community_id,
                ModerationAction.member_id == row.member_id,
                ModerationAction.mode == "live",
                ModerationAction.status.in_(("applied", "alerted", "approved")),
                ModerationAction.expires_at > now,
            )
        )
    )
    higher = [s for s in spec.escalation.ladder if s.points > total]
    if not higher:
        raise ReviewError("the member is already on the top rung of the ladder", field="id")
    step = min(higher, key=lambda s: s.points)
    # numbered, not timestamped: two escalations of one item within a second (a double
    # click, a bulk call) once collided on the unique (community, key) and answered 500
    earlier = session.scalar(
        select(func.count()).where(
            ModerationAction.community_id == row.community_id,
            ModerationAction.key.startswith(f"{row.key}:escalate:", autoescape=True),
        )
    )
    escalation = ModerationAction(
        community_id=row.community_id,
        group_id=row.group_id,
        member_id=row.member_id,
        message_id=row.message_id,
        key=f"{row.key}:escalate:{(earlier or 0) + 1}",
        action=step.action,
        rule=row.rule,
        detector="review",
        evidence=row.evidence,
        score=row.score,
        points=float(step.points - total),
        status="applied",
        mode="live",
        expires_at=now + timedelta(days=spec.escalation.points_expire_days),
        created_at=now,
    )
    session.add(escalation)
    session.flush()  # its id: the escalation's actions report their outcome on it
    kinds: dict[str, ev.ActionKind] = {"mute": "mute", "remove": "remove", "blacklist": "ban"}
    kind = kinds.get(step.action, "warn")
    seconds = (step.duration_minutes or 10) * 60 if kind == "mute" else None
    return [_target(session, row, kind, decision=escalation.id, duration_seconds=seconds)]


def feedback(session: Session, community_id: int) -> list[tuple[int, str]]:
    """Reviewed items as (label, text): approved → 1 (spam), undone → 0 (normal)."""
    out: list[tuple[int, str]] = []
    for row in session.scalars(
        select(ModerationAction)
        .where(
            ModerationAction.community_id == community_id,
            ModerationAction.status.in_(("approved", "undone")),
            ModerationAction.reviewed_at.is_not(None),
        )
        .order_by(ModerationAction.id)
    ):
        evidence = row.evidence if isinstance(row.evidence, dict) else {}
        text = str(evidence.get("text", ""))
        if text:
            out.append((1 if row.status == "approved" else 0, text))
    return out
