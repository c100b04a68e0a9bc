"""Live connectors in the API: each connector's state (connected, last event, last error,
disabled groups), the alerts for what a platform could not do, and the OneBot reverse
WebSocket endpoint (authenticated by the connector's access token, like a webhook)."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, WebSocket, WebSocketDisconnect
from sqlalchemy import select, update

from qunzhu.adapters.manage import describe
from qunzhu.auth.audit import record
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ERROR_RESPONSES, ApiError
from qunzhu.http.ownership import ObjectId
from qunzhu.store.connectors import ConnectorAlert

router = APIRouter(tags=["connectors"], responses=ERROR_RESPONSES)
ws_router = APIRouter()


@router.get("/communities/{slug}/connectors", summary="Connectors and their live state")
def list_connectors(
    slug: str, request: Request, access: CommunityAccess = Depends(require("read"))
) -> dict[str, Any]:
    items = describe(get_store(request), community_id=access.community.id)
    if not access.can("manage"):
        for item in items:
            item.pop("credentials", None)
            item.pop("config", None)
    return {"items": items}


@router.get(
    "/communities/{slug}/connectors/alerts",
    summary="What a platform could not carry out, and platform-side events",
)
def list_alerts(
    slug: str,
    request: Request,
    status: str = Query("open", description="open, done, or '' for all"),
    limit: int = Query(100, ge=1, le=1000),
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    q = select(ConnectorAlert).where(ConnectorAlert.community_id == access.community.id)
    if status:
        q = q.where(ConnectorAlert.status == status)
    with get_store(request).reading() as session:
        rows = session.scalars(q.order_by(ConnectorAlert.id.desc()).limit(limit)).all()
        items = [
            {
                "id": a.id,
                "platform": a.platform,
                "group": a.platform_group_id,
                "member": a.member,
                "kind": a.kind,
                "level": a.level,
                "text": a.text,
                "reason": a.reason,
                "status": a.status,
                "created_at": a.created_at.isoformat(),
            }
            for a in rows
        ]
    return {"items": items}


@router.post(
    "/communities/{slug}/connectors/alerts/{alert_id}/done", summary="Mark an alert as handled"
)
def alert_done(
    slug: str,
    alert_id: ObjectId,
    request: Request,
    access: CommunityAccess = Depends(require("moderate")),
) -> dict[str, Any]:
    with get_store(request).unit_of_work() as session:
        done = session.execute(
            update(ConnectorAlert)
            .where(
                ConnectorAlert.id == alert_id, ConnectorAlert.community_id == access.community.id
            )
            .values(status="done")
        )
        if not getattr(done, "rowcount", 0):
            raise ApiError(404, "not_found", f"no alert {alert_id}", field="alert_id")
        record(
            session,
            "connectors.alert_done",
            source="api",
            operator_id=access.caller.operator_id,
            community_id=access.community.id,
            target=str(alert_id),
        )
    return {"id": alert_id, "status": "done"}


@ws_router.websocket("/hooks/onebot/{name}/ws")
async def onebot_reverse_ws(websocket: WebSocket, name: str) -> None:
    hub = getattr(websocket.app.state, "connector_hub", None)
    connector = hub.by_name(name) if hub is not None else None
    if connector is None or not hasattr(connector, "ws_session"):  # OneBot 11 or 12
        await websocket.close(code=4404, reason="no such OneBot connector")
        return
    if not connector.token_ok(
        {k.lower(): v for k, v in websocket.headers.items()}, dict(websocket.query_params)
    ):
        await websocket.close(code=4401, reason="access token missing or wrong")
        return
    # a OneBot 12 bridge offers `12.<impl>` and expects it back
    choose = getattr(connector, "subprotocol", None)
    offered = list(websocket.scope.get("subprotocols") or [])
    await websocket.accept(subprotocol=choose(offered) if choose is not None else None)
    with contextlib.suppress(WebSocketDisconnect):
        await connector.ws_session(websocket.receive_text, websocket.send_text)
