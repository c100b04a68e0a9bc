"""API v1, mounted at ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from fastapi import APIRouter

from qunzhu.api.v1 import communities, events, members


def build_router() -> APIRouter:
    router = APIRouter()
    router.include_router(communities.router)
    router.include_router(events.router)
    router.include_router(members.router)
    return router
