"""Group (群详情): members with role, tier, value, joined and last valuable message (sort,
filter, search, page); the message stream with moderation marks; capacity and waitlist.

The members table answers htmx requests with the table alone (``HX-Request``), so sorting,
filtering and searching swap one fragment instead of reloading the page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.ownership import ObjectId
from qunzhu.http.templating import request_language
from qunzhu.http.web.pages.common import local_today, page, shown_zone, unmasked
from qunzhu.http.web.queries.group import (
    SORTS,
    STATUSES,
    MemberQuery,
    find_group,
    group_members,
    message_stream,
    roles_in_use,
    tiers_in_use,
)
from qunzhu.readmodels.capacity import group_capacity
from qunzhu.readmodels.health import group_health, risk_since
from qunzhu.store.scoped import MAX_ID

router = APIRouter()


@router.get("/c/{slug}/groups/{group_id}")
def group_page(
    request: Request,
    group_id: ObjectId,
    sort: str = "value",
    status: str = "active",
    q: str = "",
    tier: str = "",
    role: str = "",
    p: int = 1,
    before: int | None = Query(None, ge=1, le=MAX_ID),
    access: CommunityAccess = Depends(require("read")),
) -> Response:
    query = MemberQuery(
        sort=sort, status=status, search=q, tier=tier, role=role, page=p
    ).normalized()
    with get_store(request).reading() as session:
        group = find_group(session, access.community.id, group_id)
        members, members_page = group_members(session, group, query, local_today(request))
        context = {
            "group": {
                "id": group.id,
                "name": group.name,
                "platform": group.platform,
                "segment": group.segment,
                "cap": group.cap,
            },
            "members": members,
            "members_page": members_page,
            "query": query,
            "sorts": SORTS,
            "statuses": STATUSES,
            "tiers": tiers_in_use(session, access.community.id),
            "roles": roles_in_use(session, group.id),
        }
        platform_id = group.platform_group_id
        fragment = request.headers.get("hx-target") == "members"
        if not fragment:
            context["stream"] = message_stream(
                session, group, before=before, unmasked=unmasked(access)
            )
            conn = session.connection()
            context["capacity"] = group_capacity(conn, access.community.id, group.id)
            # when and why the group is at risk: the health engine's newest verdict on it
            lang = request_language(request, access.caller)
            found = [
                h
                for h in group_health(conn, access.community.id, lang=lang)
                if h.group_id == group.id
            ]
            context["health"] = found[0] if found else None
            context["risk_since"] = (
                risk_since(conn, access.community.id, group.id) if found else None
            )
            context["before"] = before
    context["tz"] = shown_zone(request, access.community.id, platform_id)  # the group's own
    template = "group_members.html" if fragment else "group.html"
    return page(request, access, template, "community", context)
