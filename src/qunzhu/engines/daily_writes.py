"""The daily recompute's writes: the rows of what :mod:`qunzhu.engines.daily_decide` decided,
and nothing else. Each function replaces what a re-run of the same day would (roles, a
day's health, member values) so running a day twice gives the same rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, update

from qunzhu.engines.daily_decide import Alert, HealthRow, RoleRow, TierRow, ValueRow
from qunzhu.engines.fastio import insert_rows
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.intelligence import (
    GroupHealth,
    IntelAlert,
    MemberValue,
    RoleAssignment,
    RoleChange,
    TierState,
)
from qunzhu.store.models import TierChange


def _insert(
    conn: Connection,
    model: Any,
    rows: list[dict[str, Any]],
    encoded: dict[int, Any] | None = None,
) -> None:
    insert_rows(conn, table_of(model), rows, encoded)


def write_roles(
    conn: Connection,
    community_id: int,
    day: date,
    rows: list[RoleRow],
    now: datetime,
    member_id: int | None = None,
) -> int:
    """Replace the community's role assignments (only ``member_id``'s when given: a review
    decides one member again); the history keeps changes only (a member whose role holds
    adds no row). Returns the number of changes."""
    c = community_id
    ra = table_of(RoleAssignment)
    scope = [ra.c.community_id == c]
    if member_id is not None:
        scope.append(ra.c.member_id == member_id)
    conn.execute(delete(ra).where(*scope))
    # a role and its history row hold the same reason: encoded once (``rows`` keeps each
    # alive until both are written)
    reasons: dict[int, Any] = {}
    _insert(
        conn,
        RoleAssignment,
        [
            {
                "community_id": c,
                "group_id": r.group_id,
                "member_id": r.member_id,
                "role": r.role,
                "day": day,
                "since": r.since,
                "value": r.value,
                "reason": r.reason,
            }
            for r in rows
        ],
        reasons,
    )
    changes = [
        {
            "community_id": c,
            "group_id": r.group_id,
            "member_id": r.member_id,
            "day": day,
            "role": r.role,
            "previous_role": r.previous,
            "reason": r.reason,
            "created_at": now,
        }
        for r in rows
        if r.changed
    ]
    _insert(conn, RoleChange, changes, reasons)
    return len(changes)


def write_health(conn: Connection, community_id: int, day: date, rows: list[HealthRow]) -> None:
    """Replace the community's health rows of ``day``."""
    gh = table_of(GroupHealth)
    conn.execute(delete(gh).where(gh.c.community_id == community_id, gh.c.day == day))
    _insert(
        conn,
        GroupHealth,
        [
            {
                "community_id": community_id,
                "group_id": r.group_id,
                "day": day,
                "death_risk": r.result.death_risk,
                "value_per_day": r.result.value_per_day,
                "active_share": r.result.active_share,
                "members": r.members,
                "metrics": r.result.metrics,
                "reasons": r.result.reasons,
            }
            for r in rows
        ],
    )


def write_alerts(
    conn: Connection, community_id: int, day: date, alerts: list[Alert], now: datetime
) -> None:
    """Once per group, kind and day, however often the day is recomputed."""
    insert_ignoring_conflicts(
        conn,
        table_of(IntelAlert),
        [
            {
                "community_id": community_id,
                "group_id": a.group_id,
                "kind": a.kind,
                "day": day,
                "message": a.message,
                "detail": a.detail,
                "created_at": now,
                "acknowledged": False,
            }
            for a in alerts
        ],
    )


def write_values(conn: Connection, community_id: int, day: date, rows: list[ValueRow]) -> None:
    """Replace the community's member values."""
    mv = table_of(MemberValue)
    conn.execute(delete(mv).where(mv.c.community_id == community_id))
    _insert(
        conn,
        MemberValue,
        [
            {
                "member_id": r.member_id,
                "community_id": community_id,
                "day": day,
                "value": r.value,
                "raw_value": r.raw_value,
                "messages": r.messages,
                "days_active": r.days_active,
            }
            for r in rows
        ],
    )


def clear_tiers(conn: Connection, community_id: int, members: frozenset[int]) -> None:
    """Bots and staff hold no tier the engines gave (one set by hand or by payment stays)."""
    if not members:
        return
    ts = table_of(TierState)
    conn.execute(
        delete(ts).where(
            ts.c.community_id == community_id,
            ts.c.member_id.in_(sorted(members)),
            ts.c.locked.is_(False),
        )
    )


def write_tiers(
    conn: Connection, community_id: int, day: date, rows: list[TierRow], now: datetime
) -> int:
    """New tier states, the states that moved, and a history row per tier changed. Returns
    the number of changes."""
    fresh: list[dict[str, Any]] = []
    with_since: list[dict[str, Any]] = []
    without: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for r in rows:
        d = r.decision
        if r.moves:
            if r.stored is None:
                fresh.append(
                    {
                        "member_id": r.member_id,
                        "community_id": community_id,
                        "tier": d.tier,
                        "since": day,
                        "below_since": d.below_since,
                        "locked": False,
                        "lock_reason": None,
                    }
                )
            elif d.changed:
                with_since.append(
                    {
                        "b_id": r.member_id,
                        "b_tier": d.tier,
                        "b_since": day,
                        "b_below": d.below_since,
                    }
                )
            else:
                without.append({"b_id": r.member_id, "b_below": d.below_since})
        if d.changed:
            changes.append(
                {
                    "community_id": community_id,
                    "member_id": r.member_id,
                    "tier": d.tier,
                    "previous_tier": r.stored.tier if r.stored is not None else None,
                    "reason": d.reason,
                    "source": d.source,
                    "locked": False,
                    "changed_at": now,
                }
            )
    ts = table_of(TierState)
    _insert(conn, TierState, fresh)
    if with_since:
        conn.execute(
            update(ts)
            .where(ts.c.member_id == bindparam("b_id"))
            .values(
                tier=bindparam("b_tier"),
                since=bindparam("b_since"),
                below_since=bindparam("b_below"),
            ),
            with_since,
        )
    if without:
        conn.execute(
            update(ts)
            .where(ts.c.member_id == bindparam("b_id"))
            .values(below_since=bindparam("b_below")),
            without,
        )
    _insert(conn, TierChange, changes)
    return len(changes)
