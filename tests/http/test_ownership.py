"""The path-id check: a route with an id nobody declared is a bug that stops its requests."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from qunzhu.http.deps import CommunityAccess, require
from qunzhu.http.errors import install_error_handlers


def test_a_route_with_an_undeclared_id_refuses_every_request(
    settings: Any, store: Any, personas: Any
) -> None:
    app = FastAPI()
    app.state.store, app.state.settings = store, settings
    install_error_handlers(app)

    @app.get("/api/v1/communities/{slug}/widgets/{widget_id}")
    def widget(widget_id: int, access: CommunityAccess = Depends(require("read"))) -> dict:
        return {"id": widget_id}

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/communities/acme/widgets/1", headers=personas["owner"].headers)
    assert answer.status_code == 500
