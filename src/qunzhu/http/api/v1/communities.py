"""Communities, their groups and quarantine; and ``/me``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from qunzhu.auth.audit import record
from qunzhu.auth.operators import grant
from qunzhu.auth.permissions import Caller, Conflict, Forbidden, capabilities_of
from qunzhu.bounds import MAX_INT
from qunzhu.http.api.schemas import (
    CommunityCreate,
    CommunityDetail,
    CommunityOut,
    GroupOut,
    MeOut,
    QuarantineItem,
    QuarantinePage,
    RoleOut,
)
from qunzhu.http.deps import CommunityAccess, current_caller, get_settings, get_store, require
from qunzhu.http.errors import ERROR_RESPONSES
from qunzhu.readmodels.communities import CommunityRow, GroupRow, communities_for, quarantine_for
from qunzhu.readmodels.queues import queue_counts
from qunzhu.store.models import Community, Operator

router = APIRouter(responses=ERROR_RESPONSES)


def _today(request: Request) -> date:
    return datetime.now(get_settings(request).tz).date()


def _summary(row: CommunityRow) -> CommunityOut:
    return CommunityOut(
        slug=row.slug,
        name=row.name,
        role=row.role,
        capabilities=row.capabilities,
        groups=len(row.groups),
        members=row.members,
        memberships=row.memberships,
        created_at=row.created_at,
    )


def _detail(row: CommunityRow) -> CommunityDetail:
    return CommunityDetail(
        **_summary(row).model_dump(),
        has_spec=row.has_spec,
        messages_7d=row.messages_7d,
        messages_total=row.messages_total,
    )


def _group(g: GroupRow) -> GroupOut:
    return GroupOut(
        id=g.id,
        platform=g.platform,
        platform_group_id=g.platform_group_id,
        name=g.name,
        segment=g.segment,
        cap=g.cap,
        members=g.members,
        messages_7d=g.messages_7d,
        messages_total=g.messages_total,
    )


def _one(request: Request, access: CommunityAccess) -> CommunityRow:
    with get_store(request).reading() as session:
        return communities_for(session, access.caller, _today(request), only=access.community.id)[0]


@router.get("/me", tags=["operators"], summary="Who is asking, and their roles")
def me(request: Request, caller: Caller = Depends(current_caller)) -> MeOut:
    with get_store(request).reading() as session:
        rows = {
            c.id: (c.slug, c.name)
            for c in session.scalars(select(Community).where(Community.id.in_(list(caller.roles))))
        }
        display = session.get_one(Operator, caller.operator_id).display_name
    roles = sorted(
        (
            RoleOut(
                community=rows[cid][0],
                name=rows[cid][1],
                role=role,
                capabilities=capabilities_of(caller, cid),
            )
            for cid, role in caller.roles.items()
            if cid in rows
        ),
        key=lambda r: r.community,
    )
    return MeOut(
        username=caller.username,
        display_name=display,
        superuser=caller.is_superuser,
        via=caller.via,
        language=caller.language,
        may_create_communities=caller.may_create_communities,
        roles=roles,
    )


@router.get("/communities", tags=["communities"], summary="The communities the caller may see")
def list_communities(
    request: Request, caller: Caller = Depends(current_caller)
) -> list[CommunityOut]:
    with get_store(request).reading() as session:
        rows = communities_for(session, caller, _today(request))
    return [_summary(r) for r in rows]


@router.post(
    "/communities",
    tags=["communities"],
    status_code=201,
    summary="Create a community (superusers only)",
    responses={409: {"description": "The slug is taken"}},
)
def create_community(
    body: CommunityCreate, request: Request, caller: Caller = Depends(current_caller)
) -> CommunityDetail:
    if not caller.may_create_communities:
        raise Forbidden("only superusers create communities")
    with get_store(request).unit_of_work() as session:
        if session.scalar(select(Community.id).where(Community.slug == body.slug)) is not None:
            raise Conflict(f"a community with slug {body.slug!r} exists already", field="slug")
        community = Community(slug=body.slug, name=body.name)
        session.add(community)
        session.flush()
        record(
            session,
            "community.create",
            source="api",
            operator_id=caller.operator_id,
            community_id=community.id,
            target=body.slug,
            detail={"name": body.name},
        )
        if body.owner:
            grant(
                session, body.owner, body.slug, "owner", actor_id=caller.operator_id, source="api"
            )
        community_id = community.id
    with get_store(request).reading() as session:
        return _detail(communities_for(session, caller, _today(request), only=community_id)[0])


@router.get("/communities/{slug}", tags=["communities"], summary="One community")
def get_community(
    slug: str, request: Request, access: CommunityAccess = Depends(require("read"))
) -> CommunityDetail:
    return _detail(_one(request, access))


@router.get(
    "/communities/{slug}/groups",
    tags=["communities"],
    summary="The groups of a community with members and message counts",
)
def list_groups(
    slug: str, request: Request, access: CommunityAccess = Depends(require("read"))
) -> list[GroupOut]:
    return [_group(g) for g in _one(request, access).groups]


@router.get(
    "/communities/{slug}/quarantine",
    tags=["events"],
    summary="Input that was refused, newest first (moderators and up)",
)
def list_quarantine(
    slug: str,
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    # bounded: an offset beyond 64 bits answered 500 on PostgreSQL (bigint out of range)
    offset: int = Query(0, ge=0, le=MAX_INT),
    access: CommunityAccess = Depends(require("moderate")),
) -> QuarantinePage:
    with get_store(request).reading() as session:
        rows, more = quarantine_for(
            session,
            access.community.id,
            limit=limit,
            offset=offset,
            unmasked=access.can("personal_data"),
        )
    items = [
        QuarantineItem(
            id=q.id,
            source=q.source,
            location=q.location,
            reason=q.reason,
            payload=q.payload,
            created_at=q.created_at,
            resolved=q.resolved,
        )
        for q in rows
    ]
    return QuarantinePage(items=items, next_offset=offset + limit if more else None)


@router.get(
    "/communities/{slug}/queues",
    tags=["communities"],
    summary="What waits for a person: reviews, applications, held rewards, outbox by status",
)
def queues(
    slug: str, request: Request, access: CommunityAccess = Depends(require("read"))
) -> dict[str, Any]:
    with get_store(request).reading() as session:
        found = queue_counts(session.connection(), access.community.id)
    return {**asdict(found), "outbox_needing_operator": found.outbox_needing_operator}
