"""The app's route table, for tests generated from it (imported as ``qunzhu_tests_routes``,
registered by tests/http/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from qunzhu.http.app import create_app
from qunzhu.settings import Settings

PARAM = re.compile(r"{(\w+)(?::\w+)?}")
# path parameters that name no object, and the value a generated call puts there
VERBS = {"operation": "approve", "decision": "approve", "name": "members"}


def _flat(routes: list[Any]) -> Iterator[Any]:
    """Routes of included routers too (FastAPI keeps those behind one entry each)."""
    for route in routes:
        inner = getattr(route, "effective_route_contexts", None)
        yield from (inner() if inner else [route])


def route_table() -> list[tuple[str, str]]:
    """(method, path) of every route of a freshly built app; HEAD left out."""
    settings = Settings(database_url="sqlite://", secret_key="r" * 40)
    app = create_app(settings)
    try:
        table = []
        for route in _flat(app.routes):
            path = getattr(route, "path", "")
            for method in sorted(getattr(route, "methods", None) or ["WEBSOCKET"]):
                if method != "HEAD":
                    table.append((method, path))
        return table
    finally:
        app.state.store.dispose()


def object_params(path: str) -> list[str]:
    """The path parameters that name an object (not the community, not a verb)."""
    return [p for p in PARAM.findall(path) if p != "slug" and p not in VERBS]


ROUTES = route_table()
# every route of a community that names one of its objects by id
ID_ROUTES = [(m, p) for m, p in ROUTES if object_params(p) and "{slug}" in p]
