"""Configure connectors (what ``qunzhu connect`` and the API use): save one with its
credentials sealed, list them with their state, enable or disable one."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from qunzhu.store.connectors import CONNECTOR_PLATFORMS, Connector, ConnectorAlert, ConnectorGroup
from qunzhu.store.credentials import masked, seal, unseal
from qunzhu.store.models import Community
from qunzhu.store.session import Store

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ConnectorConfigError(ValueError):
    """A connector that cannot be saved; ``field`` names the offending option."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message if field is None else f"{field}: {message}")
        self.field = field


def save_connector(
    store: Store,
    *,
    community: str,
    platform: str,
    name: str,
    config: dict[str, Any],
    credentials: dict[str, str],
) -> int:
    """Create or replace the connector ``name``; returns its id."""
    if platform not in CONNECTOR_PLATFORMS:
        raise ConnectorConfigError(
            f"expected one of {', '.join(CONNECTOR_PLATFORMS)}", field="platform"
        )
    if not NAME.match(name):
        raise ConnectorConfigError(
            "lowercase letters, digits, - and _ (it is part of the webhook URL)", field="name"
        )
    sealed = seal(store.settings, {k: v for k, v in credentials.items() if v})
    with store.unit_of_work() as session:
        cid = session.scalar(select(Community.id).where(Community.slug == community))
        if cid is None:
            raise ConnectorConfigError(f"community {community!r} does not exist", field="community")
        row = session.scalar(select(Connector).where(Connector.name == name))
        if row is None:
            row = Connector(community_id=cid, platform=platform, name=name)
            session.add(row)
        elif row.platform != platform or row.community_id != cid:
            raise ConnectorConfigError(
                f"{name!r} is already a {row.platform} connector of another community or "
                "platform; choose another name",
                field="name",
            )
        row.config = dict(config)
        row.secret = sealed
        row.enabled = True
        row.status, row.status_reason = "idle", ""
        session.flush()
        return int(row.id)


def set_enabled(store: Store, name: str, enabled: bool) -> None:
    with store.unit_of_work() as session:
        row = session.scalar(select(Connector).where(Connector.name == name))
        if row is None:
            raise ConnectorConfigError(f"no connector named {name!r}", field="name")
        row.enabled = enabled
        row.status, row.status_reason = ("idle", "") if enabled else ("disabled", "by operator")


def platform_of(store: Store, name: str) -> tuple[int, str]:
    """The id and platform of the connector called ``name``."""
    with store.reading() as session:
        row = session.execute(
            select(Connector.id, Connector.platform).where(Connector.name == name)
        ).first()
    if row is None:
        raise ConnectorConfigError(f"no connector named {name!r}", field="name")
    return int(row.id), str(row.platform)


def describe(store: Store, *, community_id: int | None = None) -> list[dict[str, Any]]:
    """Every connector with its state, disabled groups and open alerts; secrets masked."""
    out: list[dict[str, Any]] = []
    with store.reading() as session:
        q = select(Connector, Community.slug).join(
            Community, Community.id == Connector.community_id
        )
        if community_id is not None:
            q = q.where(Connector.community_id == community_id)
        for row, slug in session.execute(q.order_by(Connector.id)).all():
            groups = session.scalars(
                select(ConnectorGroup).where(
                    ConnectorGroup.connector_id == row.id, ConnectorGroup.status != "active"
                )
            ).all()
            alerts = session.scalars(
                select(ConnectorAlert.id).where(
                    ConnectorAlert.connector_id == row.id, ConnectorAlert.status == "open"
                )
            ).all()
            try:
                creds = {k: masked(v) for k, v in unseal(store.settings, row.secret).items()}
            except ValueError as exc:
                creds = {"error": str(exc)}
            out.append(
                {
                    "id": row.id,
                    "name": row.name,
                    "platform": row.platform,
                    "community": slug,
                    "enabled": row.enabled,
                    "status": row.status,
                    "reason": row.status_reason,
                    "last_event_at": _iso(row.last_event_at),
                    "last_error": row.last_error,
                    "last_error_at": _iso(row.last_error_at),
                    "events": row.events_received,
                    "actions": row.actions_sent,
                    "config": dict(row.config or {}),
                    "credentials": creds,
                    "open_alerts": len(alerts),
                    "groups": [
                        {"group": g.platform_group_id, "status": g.status, "reason": g.reason}
                        for g in groups
                    ],
                }
            )
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
