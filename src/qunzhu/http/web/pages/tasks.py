"""The plan on Today (今日计划): each task's buttons — done, snooze an hour or until tomorrow,
give it to another operator. Forms post here and come back to Today; the role checks are
qunzhu.tasks.actions' (moderators on their groups' tasks and their own, admins on all)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from qunzhu.http.deps import CommunityAccess, get_settings, get_store, require
from qunzhu.http.ownership import ObjectId
from qunzhu.http.web.pages.common import back
from qunzhu.tasks import actions
from qunzhu.tasks.plan import Actor, actor, groups_of, plan, zone_of

router = APIRouter()
Scope = Literal["mine", "all", ""]


def actor_of(access: CommunityAccess) -> Actor:
    return actor(
        access.caller.operator_id,
        access.caller.username,
        manage=access.can("manage"),
        moderate=access.can("moderate"),
    )


def plan_context(
    request: Request, session: Session, access: CommunityAccess, asked: str
) -> dict[str, Any]:
    """What Today's plan shows: the tasks in the scope asked (by default the caller's own
    when they look after a group, else all), and whom a task may be given to."""
    conn = session.connection()
    me = actor_of(access)
    cid = access.community.id
    scope = asked if asked in ("mine", "all") else "all"
    if asked not in ("mine", "all") and groups_of(conn, cid, me.operator_id):
        scope = "mine"
    tz = zone_of(conn, cid, get_settings(request).tz)
    day = plan(conn, cid, me, now=datetime.now(UTC), tz=tz, scope=scope)
    give_to = actions.owners(session, cid) if me.some_tasks else []
    return {"plan": day, "scope": scope, "give_to": give_to}


def _back(access: CommunityAccess, scope: str, done: str) -> Response:
    return back(f"/c/{access.community.slug}", scope=scope, done=done)


@router.post("/c/{slug}/tasks/{task_id}/done")
def task_done(
    request: Request,
    task_id: ObjectId,
    scope: Scope = Form(""),
    access: CommunityAccess = Depends(require("moderate")),
) -> Response:
    with get_store(request).unit_of_work() as session:
        actions.done(session, access.community.id, task_id, actor_of(access),
                     datetime.now(UTC), "web")  # fmt: skip
    return _back(access, scope, "task_done")


@router.post("/c/{slug}/tasks/{task_id}/snooze")
def task_snooze(
    request: Request,
    task_id: ObjectId,
    until: Literal["1h", "tomorrow"] = Form(...),
    scope: Scope = Form(""),
    access: CommunityAccess = Depends(require("moderate")),
) -> Response:
    with get_store(request).unit_of_work() as session:
        tz = zone_of(session.connection(), access.community.id, get_settings(request).tz)
        actions.snooze(session, access.community.id, task_id, until, actor_of(access),
                       datetime.now(UTC), tz, "web")  # fmt: skip
    return _back(access, scope, "task_snoozed")


@router.post("/c/{slug}/tasks/{task_id}/reassign")
def task_reassign(
    request: Request,
    task_id: ObjectId,
    operator: str = Form(..., min_length=1, max_length=64),
    scope: Scope = Form(""),
    access: CommunityAccess = Depends(require("moderate")),
) -> Response:
    with get_store(request).unit_of_work() as session:
        actions.reassign(session, access.community.id, task_id, operator, actor_of(access),
                         datetime.now(UTC), "web")  # fmt: skip
    return _back(access, scope, "task_reassigned")
