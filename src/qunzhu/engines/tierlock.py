"""Manual tiers: an operator puts a member in a tier and locks it there (the daily
recompute leaves locked members alone), or unlocks them. Every change goes to the tier
history with its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from qunzhu.engines.specs import SpecCache
from qunzhu.store.base import table_of
from qunzhu.store.intelligence import TierState
from qunzhu.store.models import Member, TierChange


class TierLockError(ValueError):
    """A refused lock; ``code`` and ``values`` let a caller say it in the operator's language."""

    def __init__(self, message: str, code: str = "", **values: Any) -> None:
        super().__init__(message)
        self.code, self.values = code, values


def _check_member(conn: Connection, community_id: int, member_id: int) -> None:
    found = conn.execute(
        select(Member.id).where(Member.id == member_id, Member.community_id == community_id)
    ).scalar()
    if found is None:
        raise TierLockError(
            f"no member {member_id} in this community", "no_member", member=member_id
        )


def lock_tier(
    conn: Connection, community_id: int, member_id: int, tier: str, reason: str, now: datetime
) -> dict[str, Any]:
    _check_member(conn, community_id, member_id)
    tiers = [t.id for t in SpecCache().get(conn, community_id).tiers]
    if tier not in tiers:
        raise TierLockError(
            f"unknown tier {tier!r}; the spec has {', '.join(tiers)}",
            "unknown_tier",
            tier=tier,
            tiers=", ".join(f"`{t}`" for t in tiers),
        )
    if not reason.strip():
        raise TierLockError("a reason is required: it goes to the tier history", "no_reason")
    ts = table_of(TierState)
    previous = conn.execute(select(ts.c.tier).where(ts.c.member_id == member_id)).scalar()
    values = {
        "tier": tier,
        "locked": True,
        "lock_reason": reason[:500],
        "below_since": None,
        "since": now.date(),
    }
    if previous is None:
        conn.execute(insert(ts).values(member_id=member_id, community_id=community_id, **values))
    else:
        conn.execute(update(ts).where(ts.c.member_id == member_id).values(**values))
    conn.execute(
        insert(table_of(TierChange)).values(
            community_id=community_id,
            member_id=member_id,
            tier=tier,
            previous_tier=previous,
            reason=reason,
            source="manual",
            locked=True,
            changed_at=now,
        )
    )
    return {"member": member_id, "tier": tier, "previous": previous, "locked": True}


def unlock_tier(
    conn: Connection, community_id: int, member_id: int, now: datetime
) -> dict[str, Any]:
    _check_member(conn, community_id, member_id)
    ts = table_of(TierState)
    row = conn.execute(select(ts.c.tier, ts.c.locked).where(ts.c.member_id == member_id)).first()
    if row is None or not row[1]:
        raise TierLockError(
            f"member {member_id} has no locked tier", "not_locked", member=member_id
        )
    conn.execute(
        update(ts).where(ts.c.member_id == member_id).values(locked=False, lock_reason=None)
    )
    conn.execute(
        insert(table_of(TierChange)).values(
            community_id=community_id,
            member_id=member_id,
            tier=row[0],
            previous_tier=row[0],
            reason="unlocked: the rules apply again",
            source="manual",
            locked=False,
            changed_at=now,
        )
    )
    return {"member": member_id, "tier": row[0], "locked": False}
