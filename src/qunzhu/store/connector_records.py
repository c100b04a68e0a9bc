"""Reads and writes of the connector tables, in one place (each call is one transaction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from qunzhu.events import make_key
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.connectors import (
    Connector,
    ConnectorAction,
    ConnectorAlert,
    ConnectorGroup,
    ConnectorInviteLink,
    ConnectorRequest,
)
from qunzhu.store.models import Community, Group
from qunzhu.store.resolve import community_id_by_slug
from qunzhu.store.session import Store


def now() -> datetime:
    return datetime.now(UTC)


def community_id(store: Store, slug: str) -> int | None:
    with store.read_engine.connect() as conn:
        return community_id_by_slug(conn, slug)


def _community_of(conn: Connection, connector_id: int) -> int:
    return int(
        conn.execute(
            select(table_of(Connector).c.community_id).where(
                table_of(Connector).c.id == connector_id
            )
        ).scalar_one()
    )


def group_state(store: Store, connector_id: int, group: str) -> tuple[str, str]:
    """(status, reason) of a chat for a connector; ('active', '') when never recorded."""
    t = table_of(ConnectorGroup)
    with store.read_engine.connect() as conn:
        row = conn.execute(
            select(t.c.status, t.c.reason).where(
                t.c.connector_id == connector_id, t.c.platform_group_id == group
            )
        ).first()
    return ("active", "") if row is None else (str(row.status), str(row.reason))


def group_states(store: Store, connector_id: int) -> dict[str, tuple[str, str]]:
    """group → (status, reason) of the chats recorded for a connector (a chat never
    recorded is ('active', ''))."""
    t = table_of(ConnectorGroup)
    with store.read_engine.connect() as conn:
        rows = conn.execute(
            select(t.c.platform_group_id, t.c.status, t.c.reason).where(
                t.c.connector_id == connector_id
            )
        ).all()
    return {str(r.platform_group_id): (str(r.status), str(r.reason)) for r in rows}


def set_group_state(
    store: Store, connector_id: int, group: str, status: str, reason: str = "", **detail: Any
) -> None:
    t = table_of(ConnectorGroup)
    with store.engine.begin() as conn:
        insert_ignoring_conflicts(
            conn,
            t,
            [
                {
                    "community_id": _community_of(conn, connector_id),
                    "connector_id": connector_id,
                    "platform_group_id": group,
                    "status": "active",
                    "reason": "",
                    "detail": {},
                    "name": "",
                    "updated_at": now(),
                }
            ],
        )
        conn.execute(
            update(t)
            .where(t.c.connector_id == connector_id, t.c.platform_group_id == group)
            .values(status=status, reason=reason, detail=detail, updated_at=now())
        )


def set_status(store: Store, connector_id: int, **values: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            update(table_of(Connector))
            .where(table_of(Connector).c.id == connector_id)
            .values(updated_at=now(), **values)
        )


def record_action(store: Store, rows: list[dict[str, Any]]) -> None:
    """Append to the action log; each row's ``community`` slug gives its community id."""
    if not rows:
        return
    with store.engine.begin() as conn:
        slugs = {r["community"] for r in rows}
        ids = dict(
            conn.execute(select(Community.slug, Community.id).where(Community.slug.in_(slugs)))
            .tuples()
            .all()
        )
        conn.execute(
            table_of(ConnectorAction).insert(),
            [{**r, "community_id": ids.get(r["community"])} for r in rows],
        )


def add_alert(
    store: Store,
    *,
    community: str,
    connector_id: int | None,
    platform: str,
    group: str,
    kind: str,
    text: str,
    reason: str = "",
    member: str | None = None,
    level: str = "action_needed",
    detail: dict[str, Any] | None = None,
    key: str | None = None,
) -> bool:
    """Store an alert once (by key); False when the community is unknown or it existed."""
    return bool(
        add_alerts(
            store,
            [
                {
                    "community": community,
                    "connector_id": connector_id,
                    "platform": platform,
                    "group": group,
                    "kind": kind,
                    "text": text,
                    "reason": reason,
                    "member": member,
                    "level": level,
                    "detail": detail,
                    "key": key,
                }
            ],
        )
    )


def add_alerts(store: Store, alerts: Sequence[Mapping[str, Any]]) -> int:
    """Store alerts (each with :func:`add_alert`'s arguments) in one transaction, each once
    by its key; those of an unknown community are left out. How many were new.

    One transaction for many: a live hub alerts for every ad it cannot delete (WeChat), and
    a transaction each contended with the pipeline's batches for SQLite's one writer."""
    ids: dict[str, int | None] = {}
    rows = []
    for a in alerts:
        slug = str(a["community"])
        if slug not in ids:
            ids[slug] = community_id(store, slug)
        cid = ids[slug]
        if cid is None:
            continue
        platform, group, member = a["platform"], a["group"], a.get("member")
        kind, text = a["kind"], str(a["text"])
        rows.append(
            {
                "community_id": cid,
                "connector_id": a.get("connector_id"),
                "platform": platform,
                "platform_group_id": group,
                "member": member,
                "kind": kind,
                "level": a.get("level") or "action_needed",
                "text": text[:4000],
                "reason": str(a.get("reason") or "")[:2000],
                "detail": a.get("detail") or {},
                "key": a.get("key") or make_key("alert", platform, group, member, kind, text),
                "status": "open",
                "created_at": now(),
            }
        )
    if not rows:
        return 0
    t = table_of(ConnectorAlert)
    with store.engine.begin() as conn:
        return len(insert_ignoring_conflicts(conn, t, rows, t.c.id))


def add_notices(
    store: Store,
    notices: list[dict[str, Any]],
    *,
    community: str,
    connector_id: int | None,
    platform: str,
) -> None:
    """A bridge's notices (a group renamed, a member muted on the platform, the bot invited:
    ``group``, ``member``, ``kind``, ``text``, ``key``) as informational alerts, each once by
    its key."""
    add_alerts(
        store,
        [
            {
                "community": community,
                "connector_id": connector_id,
                "platform": platform,
                "group": n["group"],
                "member": n["member"],
                "kind": n["kind"],
                "text": n["text"],
                "level": "info",
                "key": n["key"],
            }
            for n in notices
        ],
    )


def remember_request(store: Store, connector_id: int, group: str, user: str, handle: str) -> None:
    with store.engine.begin() as conn:
        insert_ignoring_conflicts(
            conn,
            table_of(ConnectorRequest),
            [
                {
                    "community_id": _community_of(conn, connector_id),
                    "connector_id": connector_id,
                    "platform_group_id": group,
                    "platform_user_id": user,
                    "handle": handle,
                    "status": "pending",
                    "created_at": now(),
                }
            ],
        )


def take_request(store: Store, connector_id: int, group: str, user: str, status: str) -> str | None:
    """The newest pending request of ``user`` in ``group``, marked ``status``; its handle."""
    t = table_of(ConnectorRequest)
    with store.engine.begin() as conn:
        row = conn.execute(
            select(t.c.id, t.c.handle)
            .where(
                t.c.connector_id == connector_id,
                t.c.platform_group_id == group,
                t.c.platform_user_id == user,
                t.c.status == "pending",
            )
            .order_by(t.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        claimed = conn.execute(
            update(t).where(t.c.id == row.id, t.c.status == "pending").values(status=status)
        )
    return str(row.handle) if claimed.rowcount else None


def remember_link(
    store: Store,
    connector_id: int,
    group: str,
    link: str,
    name: str,
    referrer: str | None,
    code: str | None,
    member_limit: int | None,
) -> None:
    with store.engine.begin() as conn:
        insert_ignoring_conflicts(
            conn,
            table_of(ConnectorInviteLink),
            [
                {
                    "community_id": _community_of(conn, connector_id),
                    "connector_id": connector_id,
                    "platform_group_id": group,
                    "link": link,
                    "name": name[:64],
                    "referrer": referrer,
                    "code": code,
                    "member_limit": member_limit,
                    "created_at": now(),
                }
            ],
        )


def link_owner(store: Store, connector_id: int, link: str) -> tuple[str | None, str | None]:
    """(referrer, code) of an invite link the bot created, or (None, None)."""
    t = table_of(ConnectorInviteLink)
    with store.read_engine.connect() as conn:
        row = conn.execute(
            select(t.c.referrer, t.c.code).where(t.c.connector_id == connector_id, t.c.link == link)
        ).first()
    return (None, None) if row is None else (row.referrer, row.code)


def follow_migration(
    store: Store, connector_id: int, community: str, platform: str, old: str, new: str
) -> None:
    """The chat got a new id: the stored group follows it, so history stays in one group."""
    cid = community_id(store, community)
    g = table_of(Group)
    with store.engine.begin() as conn:
        if cid is not None:
            taken = conn.execute(
                select(g.c.id).where(
                    g.c.community_id == cid, g.c.platform == platform, g.c.platform_group_id == new
                )
            ).first()
            if taken is None:
                conn.execute(
                    update(g)
                    .where(
                        g.c.community_id == cid,
                        g.c.platform == platform,
                        g.c.platform_group_id == old,
                    )
                    .values(platform_group_id=new)
                )
    set_group_state(store, connector_id, old, "migrated", f"moved to {new}", new=new)


def rename_group(store: Store, community: str, platform: str, group: str, name: str) -> bool:
    """The group's name as the platform now shows it (a WeChat "修改群名为" line); False when
    the group is not stored yet (its first message stores it, under the id until renamed)."""
    cid = community_id(store, community)
    if cid is None or not name.strip():
        return False
    g = table_of(Group)
    with store.engine.begin() as conn:
        done = conn.execute(
            update(g)
            .where(
                g.c.community_id == cid, g.c.platform == platform, g.c.platform_group_id == group
            )
            .values(name=name.strip()[:200])
        )
    return bool(getattr(done, "rowcount", 0))
