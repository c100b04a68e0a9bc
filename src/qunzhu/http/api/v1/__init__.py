"""API v1, mounted at ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from fastapi import APIRouter

from qunzhu.http.api.v1 import communities, events, imports, intelligence, members
from qunzhu.http.api.v1 import connectors as connectors_api
from qunzhu.http.api.v1 import growth as growth_api
from qunzhu.http.api.v1 import moderation as moderation_api
from qunzhu.http.api.v1 import outbox as outbox_api


def build_router() -> APIRouter:
    router = APIRouter()
    router.include_router(communities.router)
    router.include_router(events.router)
    router.include_router(members.router)
    router.include_router(moderation_api.router)
    router.include_router(intelligence.router)
    router.include_router(imports.router)
    router.include_router(growth_api.router)
    router.include_router(connectors_api.router)
    router.include_router(outbox_api.router)
    return router
