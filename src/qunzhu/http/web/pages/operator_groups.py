"""Which groups each operator looks after (负责的群), on the operators page: a group's new
tasks go to its operator. Owners assign, like the rest of that page; a group id in the form
is looked up in the path's community, so another community's group is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.auth.audit import record
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import BodyId, ObjectId
from qunzhu.http.web.pages.common import back
from qunzhu.store import tasks
from qunzhu.store.admin import Operator
from qunzhu.store.community import Group
from qunzhu.tasks.actions import operator_of, owners

router = APIRouter()


def groups_context(session: Session, community_id: int) -> dict[str, Any]:
    """For the operators page: each operator who may own tasks, the groups they look after,
    and every group of the community to pick from."""
    groups: dict[int, str] = {
        int(i): str(n)
        for i, n in session.execute(
            select(Group.id, Group.name)
            .where(Group.community_id == community_id)
            .order_by(Group.name, Group.id)
        )
    }
    looked_after = tasks.assignments(session.connection(), community_id)
    return {
        "assignable": [
            {
                "id": oid,
                "username": name,
                "groups": [(g, groups.get(g, "")) for g in looked_after.get(oid, [])],
            }
            for oid, name in owners(session, community_id)
        ],
        "all_groups": list(groups.items()),
    }


def _change(
    request: Request, access: CommunityAccess, operator_id: int, group_id: int, add: bool
) -> Response:
    cid = access.community.id
    with get_store(request).unit_of_work() as session:
        found = session.scalar(
            select(Group.id).where(Group.community_id == cid, Group.id == group_id)
        )
        if found is None:
            raise ApiError(404, "unknown_group", f"no group {group_id} here", field="group_id")
        operator_of(session, cid, str(operator_id))  # one who may own tasks here
        conn = session.connection()
        if add:
            tasks.assign(conn, cid, operator_id, [group_id], datetime.now(UTC))
        else:
            tasks.unassign(conn, cid, operator_id, [group_id])
        record(session, "operator.assign" if add else "operator.unassign", source="web",
               operator_id=access.caller.operator_id, community_id=cid,
               target=_username(session, operator_id), detail={"groups": [group_id]})  # fmt: skip
    done = "operator_assigned" if add else "operator_unassigned"
    return back(f"/c/{access.community.slug}/operators", done=done)


def _username(session: Session, operator_id: int) -> str:
    return str(session.scalar(select(Operator.username).where(Operator.id == operator_id)) or "")


@router.post("/c/{slug}/operators/{operator_id}/groups")
def assign_group(
    request: Request,
    operator_id: ObjectId,
    group_id: BodyId = Form(...),
    access: CommunityAccess = Depends(require("operators")),
) -> Response:
    return _change(request, access, operator_id, group_id, add=True)


@router.post("/c/{slug}/operators/{operator_id}/groups/remove")
def unassign_group(
    request: Request,
    operator_id: ObjectId,
    group_id: BodyId = Form(...),
    access: CommunityAccess = Depends(require("operators")),
) -> Response:
    return _change(request, access, operator_id, group_id, add=False)
