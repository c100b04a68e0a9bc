"""Thresholds (门槛): application forms with automatic rules and a review queue, and
one-time join codes (入群码)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from qunzhu.growth.common import GrowthError, action, place_of
from qunzhu.growth.referrals import new_code
from qunzhu.growth.routing import route_member
from qunzhu.spec.positioning import Threshold
from qunzhu.store import outbox
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.growth import JoinCode
from qunzhu.store.models import Application

REVIEWABLE = ("pending", "more_info")


@dataclass(frozen=True)
class Review:
    status: str  # approved | rejected | pending (waits for an operator)
    reason: str


def auto_review(threshold: Threshold, answers: dict[str, Any]) -> Review:
    """The automatic rules: required answers, choices, deny words, then allow words.
    Manual review keeps what passes the rules pending for an operator."""
    given = {k: str(v).strip() for k, v in answers.items() if str(v).strip()}
    missing = [q.id for q in threshold.questions if q.required and q.id not in given]
    if missing:
        return Review(
            "rejected", "missing required answers: " + ", ".join(missing) + " (缺少必答题)"
        )
    for q in threshold.questions:
        if q.choices and q.id in given and given[q.id] not in q.choices:
            return Review(
                "rejected",
                f"answer to {q.id} must be one of {', '.join(q.choices)}, not {given[q.id]!r}",
            )
    text = " ".join(given.values()).lower()
    denied = [w for w in threshold.deny_words if w.lower() in text]
    if denied:
        return Review("rejected", "answers contain denied words: " + ", ".join(denied))
    if threshold.review == "manual":
        return Review("pending", "waits for an operator (人工审核)")
    if threshold.allow_words and not any(w.lower() in text for w in threshold.allow_words):
        return Review("pending", "no allowed word in the answers: an operator decides")
    return Review("approved", "passed the automatic rules (自动通过)")


_DECISIONS = {"approve": "approved", "reject": "rejected", "ask": "more_info"}


def review(
    conn: Connection,
    community_id: int,
    application_id: int,
    decision: str,
    reason: str | None,
    operator_id: int | None,
) -> dict[str, Any]:
    """An operator's decision: approve, reject (with a reason) or ask for more.

    Where the application came from a platform's join request (a group and a member are
    known), approving or rejecting it also queues the platform's answer, approve_join or
    decline_join, in the outbox in this transaction; ``qunzhu serve`` carries it out. An
    approved applicant is routed to their segment as the automatic review does."""
    if decision not in _DECISIONS:
        raise GrowthError(
            "bad_decision", f"decision must be approve, reject or ask, not {decision!r}"
        )
    if decision in ("reject", "ask") and not (reason or "").strip():
        raise GrowthError("reason_required", f"{decision} needs a reason the applicant reads")
    t = table_of(Application)
    done = conn.execute(
        update(t)
        .where(
            t.c.id == application_id, t.c.community_id == community_id, t.c.status.in_(REVIEWABLE)
        )
        .values(
            status=_DECISIONS[decision],
            reason=reason,
            reviewed_by=operator_id,
            reviewed_at=datetime.now(UTC),
        )
    )
    if not done.rowcount:
        status = conn.execute(
            select(t.c.status).where(t.c.id == application_id, t.c.community_id == community_id)
        ).scalar()
        if status is None:
            raise GrowthError("unknown_application", f"application {application_id} does not exist")
        raise GrowthError("already_reviewed", f"application {application_id} is {status}")
    queued = _answer_on_platform(conn, community_id, application_id, decision, reason)
    return {
        "id": application_id,
        "status": _DECISIONS[decision],
        "reason": reason,
        "queued": queued,
    }


def _answer_on_platform(
    conn: Connection, community_id: int, application_id: int, decision: str, reason: str | None
) -> list[int]:
    if decision == "ask":  # the applicant answers in the form, the request stays open
        return []
    t = table_of(Application)
    row = conn.execute(select(t.c.group_id, t.c.member_id).where(t.c.id == application_id)).one()
    if row.group_id is None or row.member_id is None:
        return []
    here = place_of(conn, int(row.group_id), int(row.member_id))
    if decision == "approve":
        route_member(conn, community_id, int(row.member_id))
        act = action("approve_join", here, reason="application approved")
    else:
        act = action("decline_join", here, reason="application rejected", text=reason)
    return outbox.enqueue(conn, community_id, [act], f"application:{application_id}")


def queue(
    conn: Connection, community_id: int, status: str | None = "pending"
) -> list[dict[str, Any]]:
    t = table_of(Application)
    q = select(t).where(t.c.community_id == community_id).order_by(t.c.submitted_at, t.c.id)
    if status:
        q = q.where(t.c.status == status)
    return [
        {
            "id": r.id,
            "external_id": r.external_id,
            "member_id": r.member_id,
            "group_id": r.group_id,
            "answers": r.answers,
            "status": r.status,
            "reason": r.reason,
            "submitted_at": r.submitted_at,
        }
        for r in conn.execute(q)
    ]


def issue_join_codes(
    conn: Connection,
    community_id: int,
    count: int,
    *,
    group_id: int | None = None,
    valid_days: int | None = None,
    note: str = "",
) -> list[str]:
    if not 1 <= count <= 10_000:
        raise GrowthError("bad_count", "issue between 1 and 10000 codes at a time")
    now = datetime.now(UTC)
    expires = now + timedelta(days=valid_days) if valid_days else None
    t = table_of(JoinCode)
    made: list[str] = []
    while len(made) < count:
        rows = [
            {
                "community_id": community_id,
                "group_id": group_id,
                "code": new_code(10),
                "note": note,
                "expires_at": expires,
                "created_at": now,
            }
            for _ in range(count - len(made))
        ]
        made += [r.code for r in insert_ignoring_conflicts(conn, t, rows, t.c.code)]
    return made


def spend_join_code(
    conn: Connection, community_id: int, code: str, member_id: int, now: datetime
) -> bool:
    """Spend a free, unexpired code for ``member_id``: the conditional UPDATE that two joins
    racing for one code cannot both pass. ``code`` is as stored (see
    :mod:`qunzhu.growth.codes`). Whether the code may admit the member at all is
    :func:`qunzhu.growth.join_decide.code_refusal`'s to say."""
    t = table_of(JoinCode)
    spent = conn.execute(
        update(t)
        .where(
            t.c.community_id == community_id,
            t.c.code == code,
            t.c.used_at.is_(None),
            (t.c.expires_at.is_(None)) | (t.c.expires_at > now),
        )
        .values(used_at=now, used_by_member_id=member_id)
    )
    return bool(spent.rowcount)
