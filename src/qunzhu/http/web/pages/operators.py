"""Operators (运营团队): invite, change roles, remove; API tokens; sessions. Owners only.

An invited operator who has no account yet gets one with a random password that is shown
once on the page that answers the invitation, to be handed over in person; it is stored
only as its hash. Nobody changes or removes their own role here, so an owner cannot lock
the community out by mistake. Owners see where each operator of the community is signed in
and can end those sessions (one, or all of an operator's).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from qunzhu.auth.credentials import check_username, random_password
from qunzhu.auth.operator_sessions import revoke_session, revoke_sessions
from qunzhu.auth.operators import create_operator, create_token, grant, revoke, revoke_token
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId
from qunzhu.http.web.pages.common import back, page
from qunzhu.http.web.pages.operator_groups import groups_context
from qunzhu.http.web.queries.admin import community_operators, own_tokens, token_of_community
from qunzhu.store.models import ROLES, Operator
from qunzhu.store.scoped import MAX_ID

router = APIRouter()


def _show(request: Request, access: CommunityAccess, **extra: object) -> Response:
    with get_store(request).reading() as session:
        context = {
            "operators": community_operators(session, access.community.id, superusers=True),
            "tokens": own_tokens(session, access.caller.operator_id),
            "roles": ROLES,
            "new_password": None,
            "new_token": None,
            "invited": None,
            **groups_context(session, access.community.id),
            **extra,
        }
    return page(request, access, "operators.html", "operators", context)


@router.get("/c/{slug}/operators")
def operators_page(
    request: Request, access: CommunityAccess = Depends(require("operators"))
) -> Response:
    return _show(request, access)


def _role(role: str) -> str:
    if role not in ROLES:
        raise ApiError(422, "invalid", f"role must be one of {', '.join(ROLES)}", field="role")
    return role


@router.post("/c/{slug}/operators/invite")
def invite(
    request: Request,
    username: str = Form(...),
    role: str = Form(...),
    access: CommunityAccess = Depends(require("operators")),
) -> Response:
    name = check_username(username)
    role = _role(role)
    actor = access.caller.operator_id
    password = None
    with get_store(request).unit_of_work() as session:
        exists = session.scalar(select(Operator.id).where(Operator.username == name))
        if exists == actor:
            raise ApiError(422, "invalid", "you cannot change your own role", field="username")
        if exists is None:
            password = random_password()
            create_operator(session, name, password, actor_id=actor, source="web")
        grant(session, name, access.community.slug, role, actor_id=actor, source="web")
    return _show(request, access, new_password=password, invited=name)


@router.post("/c/{slug}/operators/{operator_id}/role")
def change_role(
    request: Request,
    operator_id: ObjectId,
    role: str = Form(...),
    access: CommunityAccess = Depends(require("operators")),
) -> Response:
    target = _target(request, access, operator_id)
    with get_store(request).unit_of_work() as session:
        if role == "none":
            revoke(
                session,
                target,
                access.community.slug,
                actor_id=access.caller.operator_id,
                source="web",
            )
        else:
            grant(
                session,
                target,
                access.community.slug,
                _role(role),
                actor_id=access.caller.operator_id,
                source="web",
            )
    return back(f"/c/{access.community.slug}/operators", done="role_changed")


def _target(request: Request, access: CommunityAccess, operator_id: int) -> str:
    """The username of an operator of this community other than the caller."""
    if operator_id == access.caller.operator_id:
        raise ApiError(422, "invalid", "you cannot change your own role", field="operator")
    with get_store(request).reading() as session:
        rows = community_operators(session, access.community.id)
    for row in rows:
        if row.id == operator_id:
            return row.username
    raise ApiError(
        404, "not_found", f"no operator {operator_id} in this community", field="operator"
    )


@router.post("/c/{slug}/tokens")
def new_token(
    request: Request, name: str = Form(...), access: CommunityAccess = Depends(require("operators"))
) -> Response:
    with get_store(request).unit_of_work() as session:
        issued = create_token(
            session, access.caller.username, name, actor_id=access.caller.operator_id, source="web"
        )
    return _show(request, access, new_token=issued)


@router.post("/c/{slug}/tokens/{token_id}/revoke")
def drop_token(
    request: Request, token_id: ObjectId, access: CommunityAccess = Depends(require("operators"))
) -> Response:
    with get_store(request).unit_of_work() as session:
        token = token_of_community(
            session, access.community.id, token_id, access.caller.operator_id
        )
        if token is None:
            raise ApiError(404, "not_found", f"no API token {token_id} here", field="token")
        revoke_token(session, token_id, actor_id=access.caller.operator_id, source="web")
    return back(f"/c/{access.community.slug}/operators", done="token_revoked")


@router.post("/c/{slug}/operators/{operator_id}/sessions/revoke")
def end_sessions(
    request: Request,
    operator_id: ObjectId,
    session: int | None = Form(None, ge=1, le=MAX_ID),
    all_sessions: bool = Form(False, alias="all"),
    access: CommunityAccess = Depends(require("operators")),
) -> Response:
    """End one session (``session``) or every session (``all``) of an operator of this
    community; ``require`` has checked the operator holds a role here (else 404)."""
    if session is None and not all_sessions:
        raise ApiError(422, "invalid", "say which session, or all", field="session")
    actor, community = access.caller.operator_id, access.community.id
    reason = "revoked by owner"
    with get_store(request).unit_of_work() as db:  # NotFound (404): not this operator's
        if session is not None:
            revoke_session(
                db,
                operator_id,
                session,
                reason=reason,
                actor_id=actor,
                community_id=community,
                source="web",
            )
        else:
            revoke_sessions(
                db,
                operator_id,
                reason=reason,
                actor_id=actor,
                community_id=community,
                source="web",
            )
    return back(f"/c/{access.community.slug}/operators", done="session_revoked")
