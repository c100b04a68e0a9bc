"""The dashboard's pages, one module per page; :data:`router` mounts them all.

Every route takes its community through ``require(action)`` (qunzhu.http.deps), which
answers 404 for a community the caller may not see and 403 for a role that may not act,
and checks the CSRF token of every form post. Every change writes an audit entry in the
same unit of work.
"""

from __future__ import annotations

from fastapi import APIRouter

from qunzhu.http.web.pages import (
    audit,
    calendar,
    calendar_feed,
    community,
    connectors,
    group,
    growth,
    library,
    member,
    moderation,
    operator_groups,
    operators,
    playbooks,
    send,
    sessions,
    tasks,
    today,
)


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in (
        today,
        community,
        group,
        member,
        moderation,
        growth,
        connectors,
        operators,
        operator_groups,
        sessions,
        audit,
        calendar,
        calendar_feed,
        tasks,
        send,
        playbooks,
        library,
    ):
        router.include_router(module.router)
    return router
