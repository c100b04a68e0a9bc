"""API v1, mounted at ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from fastapi import APIRouter

from qunzhu.http.api.v1 import (
    broadcasts,
    calendar,
    communities,
    events,
    imports,
    intelligence,
    library,
    members,
)
from qunzhu.http.api.v1 import connectors as connectors_api
from qunzhu.http.api.v1 import growth as growth_api
from qunzhu.http.api.v1 import moderation as moderation_api
from qunzhu.http.api.v1 import outbox as outbox_api
from qunzhu.http.api.v1 import tasks as tasks_api
from qunzhu.http.errors import ERROR_RESPONSES


def build_router() -> APIRouter:
    # every route may answer these (the one error handler, qunzhu.http.errors): declared
    # once here so the OpenAPI lists them for all, not only where a sub-router remembered
    router = APIRouter(responses=ERROR_RESPONSES)
    router.include_router(communities.router)
    router.include_router(events.router)
    router.include_router(members.router)
    router.include_router(moderation_api.router)
    router.include_router(intelligence.router)
    router.include_router(imports.router)
    router.include_router(growth_api.router)
    router.include_router(connectors_api.router)
    router.include_router(outbox_api.router)
    router.include_router(broadcasts.router)
    router.include_router(calendar.router)
    router.include_router(library.router)
    router.include_router(tasks_api.router)
    return router
