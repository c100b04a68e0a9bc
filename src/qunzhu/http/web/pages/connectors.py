"""Connectors (连接器): each live connector of the community with its state, last event,
last error, the groups a platform disabled (with the reason), its recent actions and the
open alerts. Everyone who reads the community sees it; only admins enable or disable."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunzhu.auth.audit import record
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ApiError
from qunzhu.http.ownership import ObjectId
from qunzhu.http.web.pages.common import back, page
from qunzhu.store.base import utcnow
from qunzhu.store.connectors import Connector, ConnectorAction, ConnectorAlert, ConnectorGroup

router = APIRouter()

RECENT_ACTIONS = 10  # per connector
SHOWN_ALERTS = 20  # per connector
# what a platform cannot do at all: said plainly on the page, not only when it happens
CANNOT: dict[str, str] = {
    "wecom": "connectors.cannot.wecom",
    "wechat": "connectors.cannot.wechat",
}


def connector_cards(session: Session, community_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Connector).where(Connector.community_id == community_id).order_by(Connector.id)
    ).all()
    cards = []
    for c in rows:
        groups = session.scalars(
            select(ConnectorGroup)
            .where(ConnectorGroup.connector_id == c.id, ConnectorGroup.status != "active")
            .order_by(ConnectorGroup.updated_at.desc())
        ).all()
        actions = session.scalars(
            select(ConnectorAction)
            .where(ConnectorAction.connector_id == c.id)
            .order_by(ConnectorAction.id.desc())
            .limit(RECENT_ACTIONS)
        ).all()
        open_alerts = (ConnectorAlert.connector_id == c.id, ConnectorAlert.status == "open")
        alert_count = session.scalar(
            select(func.count()).select_from(ConnectorAlert).where(*open_alerts)
        )
        alerts = session.scalars(
            select(ConnectorAlert)
            .where(*open_alerts)
            .order_by(ConnectorAlert.id.desc())
            .limit(SHOWN_ALERTS)
        ).all()
        cards.append(
            {
                "id": c.id,
                "name": c.name,
                "platform": c.platform,
                "enabled": c.enabled,
                "status": c.status if c.enabled else "disabled",
                "reason": c.status_reason,
                "last_event_at": c.last_event_at,
                "last_error": c.last_error,
                "last_error_at": c.last_error_at,
                "events": c.events_received,
                "actions_sent": c.actions_sent,
                "welcome": str((c.config or {}).get("welcome") or ""),
                "cannot": CANNOT.get(c.platform, ""),
                "groups": [
                    {
                        "group": g.platform_group_id,
                        "name": g.name,
                        "status": g.status,
                        "reason": g.reason,
                        "at": g.updated_at,
                    }
                    for g in groups
                ],
                "actions": [
                    {
                        "kind": a.kind,
                        "group": a.platform_group_id,
                        "member": a.member,
                        "status": a.status,
                        "attempts": a.attempts,
                        "error": (a.error or "")[:200],
                        "at": a.created_at,
                    }
                    for a in actions
                ],
                "alert_count": int(alert_count or 0),
                "alerts": [
                    {
                        "kind": a.kind,
                        "group": a.platform_group_id,
                        "text": a.text[:300],
                        "reason": a.reason[:200],
                        "at": a.created_at,
                    }
                    for a in alerts
                ],
            }
        )
    return cards


def _unattached_alerts(session: Session, community_id: int) -> list[dict[str, Any]]:
    """Open alerts no connector could take (no live connector for that platform)."""
    rows = session.scalars(
        select(ConnectorAlert)
        .where(
            ConnectorAlert.community_id == community_id,
            ConnectorAlert.connector_id.is_(None),
            ConnectorAlert.status == "open",
        )
        .order_by(ConnectorAlert.id.desc())
        .limit(SHOWN_ALERTS)
    ).all()
    return [
        {"kind": a.kind, "group": a.platform_group_id, "text": a.text[:300], "at": a.created_at}
        for a in rows
    ]


@router.get("/c/{slug}/connectors")
def connectors_page(
    request: Request, access: CommunityAccess = Depends(require("read"))
) -> Response:
    with get_store(request).reading() as session:
        cards = connector_cards(session, access.community.id)
        loose = _unattached_alerts(session, access.community.id)
    return page(request, access, "connectors.html", "connectors", {"cards": cards, "loose": loose})


@router.post("/c/{slug}/connectors/{connector_id}/enable")
def enable_connector(
    request: Request, connector_id: ObjectId, access: CommunityAccess = Depends(require("manage"))
) -> Response:
    return _toggle(request, access, connector_id, True)


@router.post("/c/{slug}/connectors/{connector_id}/disable")
def disable_connector(
    request: Request, connector_id: ObjectId, access: CommunityAccess = Depends(require("manage"))
) -> Response:
    return _toggle(request, access, connector_id, False)


def _toggle(
    request: Request, access: CommunityAccess, connector_id: int, enabled: bool
) -> Response:
    with get_store(request).unit_of_work() as session:
        row = session.scalar(
            select(Connector).where(
                Connector.id == connector_id, Connector.community_id == access.community.id
            )
        )
        if row is None:
            raise ApiError(404, "not_found", f"no connector {connector_id} here", field="connector")
        changed = row.enabled != enabled
        if changed:
            row.enabled = enabled
            row.status, row.status_reason = ("idle", "") if enabled else ("disabled", "by operator")
            row.updated_at = utcnow()
            record(
                session,
                "connector.enable" if enabled else "connector.disable",
                source="web",
                operator_id=access.caller.operator_id,
                community_id=access.community.id,
                target=row.name,
                detail={"platform": row.platform},
            )
    done = "connector_unchanged"
    if changed:
        done = "connector_enabled" if enabled else "connector_disabled"
    return back(f"/c/{access.community.slug}/connectors", done=done)
