"""Operators' tasks over HTTP: the plan (analysts read it), done / snooze / reassign
(moderators on the tasks of their groups and their own, admins and owners on all), and a
task written by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from qunzhu.http.deps import CommunityAccess, get_settings, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId
from qunzhu.tasks import actions
from qunzhu.tasks.plan import Actor, actor, plan, zone_of

router = APIRouter(tags=["tasks"])


def _actor(access: CommunityAccess) -> Actor:
    return actor(
        access.caller.operator_id,
        access.caller.username,
        manage=access.can("manage"),
        moderate=access.can("moderate"),
    )


@router.get("/communities/{slug}/tasks", summary="The plan: open tasks, overdue first")
def list_tasks(
    slug: str,
    request: Request,
    scope: Literal["mine", "all"] = Query("all", description="mine: the caller's tasks"),
    access: CommunityAccess = Depends(require("read")),
) -> dict[str, Any]:
    with get_store(request).reading() as session:
        conn = session.connection()
        tz = zone_of(conn, access.community.id, get_settings(request).tz)
        day = plan(conn, access.community.id, _actor(access), now=datetime.now(UTC), tz=tz,
                   scope=scope)  # fmt: skip
    return day.as_json()


class TaskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., min_length=1, max_length=2000)
    due_at: datetime = Field(description="when it is due (with a zone)")
    group: str | None = Field(None, max_length=200, description="platform id or name")
    owner: str | None = Field(None, max_length=64, description="operator username")


@router.post("/communities/{slug}/tasks", summary="Write a task by hand", status_code=201)
def create_task(
    slug: str,
    body: TaskIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    if body.due_at.tzinfo is None:
        raise ApiError(422, "invalid", "due_at needs a zone, e.g. +08:00", field="due_at")
    with get_store(request).unit_of_work() as session:
        task_id = actions.create(
            session,
            access.community.id,
            text=body.text,
            due_at=body.due_at,
            group=body.group,
            owner=body.owner,
            actor=_actor(access),
            now=datetime.now(UTC),
            source="api",
        )
    return {"id": task_id}


@router.post("/communities/{slug}/tasks/{task_id}/done", summary="Mark a task done")
def task_done(
    slug: str,
    task_id: ObjectId,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    with get_store(request).unit_of_work() as session:
        actions.done(session, access.community.id, task_id, _actor(access), datetime.now(UTC),
                     "api")  # fmt: skip
    return {"id": task_id, "state": "done"}


class SnoozeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: Literal["1h", "tomorrow"] = Field(description="1h, or tomorrow at 09:00 local")


@router.post("/communities/{slug}/tasks/{task_id}/snooze", summary="Snooze a task")
def task_snooze(
    slug: str,
    task_id: ObjectId,
    body: SnoozeIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    with get_store(request).unit_of_work() as session:
        tz = zone_of(session.connection(), access.community.id, get_settings(request).tz)
        until = actions.snooze(session, access.community.id, task_id, body.until,
                               _actor(access), datetime.now(UTC), tz, "api")  # fmt: skip
    return {"id": task_id, "state": "snoozed", "snoozed_until": until}


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operator: str = Field(..., min_length=1, max_length=64, description="username or id")


@router.post("/communities/{slug}/tasks/{task_id}/reassign", summary="Give a task to another")
def task_reassign(
    slug: str,
    task_id: ObjectId,
    body: ReassignIn,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    with get_store(request).unit_of_work() as session:
        owner = actions.reassign(session, access.community.id, task_id, body.operator,
                                 _actor(access), datetime.now(UTC), "api")  # fmt: skip
    return {"id": task_id, "owner_id": owner}
