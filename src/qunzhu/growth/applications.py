"""An application submitted through the pipeline: load it, decide (pure), write.

:func:`decide_application` takes the stored status and the automatic rules' verdict
(:func:`~qunzhu.growth.admission.auto_review`, pure too) and says what to store and what
to tell the platform; :func:`react_to_application` loads and writes around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, select, update

from qunzhu import events as ev
from qunzhu.growth.admission import Review, auto_review
from qunzhu.growth.common import Place, action, place_of
from qunzhu.growth.routing import route_member
from qunzhu.spec.positioning import Threshold
from qunzhu.store.base import table_of
from qunzhu.store.batch import Resolved
from qunzhu.store.models import Application


@dataclass(frozen=True, slots=True)
class ApplicationSnapshot:
    application_id: int
    status: str  # as stored: pending, approved, rejected, more_info
    answers: dict[str, Any]
    threshold: Threshold
    here: Place  # the applicant in the group they asked to join


@dataclass(frozen=True, slots=True)
class ApplicationDecision:
    verdict: Review
    store: Literal["status", "reason", "nothing"]  # the verdict settles it, or only explains
    route: bool  # approved: the applicant goes to their segment
    actions: tuple[ev.Action, ...] = ()


def decide_application(snap: ApplicationSnapshot) -> ApplicationDecision:
    verdict = auto_review(snap.threshold, snap.answers)
    if snap.status != "pending":
        store: Literal["status", "reason", "nothing"] = "nothing"  # an operator decided
    else:
        store = "reason" if verdict.status == "pending" else "status"
    match verdict.status:
        case "approved":
            answer = (action("approve_join", snap.here, reason="application approved"),)
            return ApplicationDecision(verdict, store, route=True, actions=answer)
        case "rejected":
            answer = (
                action(
                    "decline_join", snap.here, reason="application rejected", text=verdict.reason
                ),
            )
            return ApplicationDecision(verdict, store, route=False, actions=answer)
        case _:
            return ApplicationDecision(verdict, store, route=False)


def load_application(
    conn: Connection, r: Resolved, threshold: Threshold
) -> ApplicationSnapshot | None:
    e = r.event
    assert isinstance(e, ev.ApplicationSubmitted)
    a = table_of(Application)
    row = conn.execute(
        select(a.c.id, a.c.answers, a.c.status).where(
            a.c.community_id == r.community_id, a.c.key == e.key
        )
    ).first()
    if row is None:
        return None
    return ApplicationSnapshot(
        int(row.id),
        row.status,
        dict(row.answers or {}),
        threshold,
        place_of(conn, r.group_id, r.member_id),
    )


def react_to_application(conn: Connection, r: Resolved, threshold: Threshold) -> list[ev.Action]:
    snap = load_application(conn, r, threshold)
    if snap is None:
        return []
    decision = decide_application(snap)
    write_application(conn, r.community_id, r.member_id, snap.application_id, decision)
    return list(decision.actions)


def write_application(
    conn: Connection,
    community_id: int,
    member_id: int,
    application_id: int,
    decision: ApplicationDecision,
) -> None:
    t = table_of(Application)
    verdict = decision.verdict
    match decision.store:
        case "status":
            # conditional: an operator who decided meanwhile keeps the last word
            conn.execute(
                update(t)
                .where(t.c.id == application_id, t.c.status == "pending")
                .values(status=verdict.status, reason=verdict.reason, reviewed_at=datetime.now(UTC))
            )
        case "reason":
            conn.execute(
                update(t)
                .where(t.c.id == application_id, t.c.reason.is_(None))
                .values(reason=verdict.reason)
            )
        case "nothing":
            pass
    if decision.route:
        route_member(conn, community_id, member_id)
