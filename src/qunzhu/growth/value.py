"""Member value as growth reads it, for qualification and for one-in-one-out.

The intelligence engines keep each member's time-decayed value in ``member_values``
(engines/recompute.py). Growth depends only on the small function :func:`value_of`; where
the engines have not written a member yet (history loaded without them, or a community
whose values were never recomputed), the value falls back to the sum of the member's
``member_daily.value`` over the last 90 days, the same daily figures the engines start from.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import Connection, func, select

from qunzhu.store.intelligence import MemberValue
from qunzhu.store.models import MemberDaily

FALLBACK_DAYS = 90
_IN = 500


class ValueSource(Protocol):
    def __call__(self, conn: Connection, member_ids: Iterable[int]) -> dict[int, float]: ...


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _IN):
        yield ids[start : start + _IN]


def value_of(
    conn: Connection, member_ids: Iterable[int], as_of: date | None = None
) -> dict[int, float]:
    """Value per member id; every id asked for is in the answer (0.0 when nothing is known)."""
    ids = sorted(set(member_ids))
    out = {m: 0.0 for m in ids}
    missing: set[int] = set(ids)
    for part in _chunks(ids):
        for member_id, value in conn.execute(
            select(MemberValue.member_id, MemberValue.value).where(MemberValue.member_id.in_(part))
        ):
            out[int(member_id)] = float(value or 0.0)
            missing.discard(int(member_id))
    since = (as_of or date.today()) - timedelta(days=FALLBACK_DAYS)
    for part in _chunks(sorted(missing)):
        for member_id, total in conn.execute(
            select(MemberDaily.member_id, func.sum(MemberDaily.value))
            .where(MemberDaily.member_id.in_(part), MemberDaily.day >= since)
            .group_by(MemberDaily.member_id)
        ):
            out[int(member_id)] = float(total or 0.0)
    return out


def speakers(conn: Connection, member_ids: Iterable[int], since: date | None = None) -> set[int]:
    """Members with at least one message (from the daily rollup, never raw messages)."""
    ids = sorted(set(member_ids))
    found: set[int] = set()
    for part in _chunks(ids):
        query = select(MemberDaily.member_id).where(
            MemberDaily.member_id.in_(part), MemberDaily.messages > 0
        )
        if since is not None:
            query = query.where(MemberDaily.day >= since)
        found.update(int(m) for (m,) in conn.execute(query.distinct()))
    return found


def values_in(conn: Connection, community_id: int, as_of: date | None = None) -> dict[int, float]:
    """:func:`value_of` for every member of a community, in two queries."""
    out: dict[int, float] = {}
    since = (as_of or date.today()) - timedelta(days=FALLBACK_DAYS)
    for member_id, total in conn.execute(
        select(MemberDaily.member_id, func.sum(MemberDaily.value))
        .where(MemberDaily.community_id == community_id, MemberDaily.day >= since)
        .group_by(MemberDaily.member_id)
    ):
        out[int(member_id)] = float(total or 0.0)
    for member_id, value in conn.execute(
        select(MemberValue.member_id, MemberValue.value).where(
            MemberValue.community_id == community_id
        )
    ):
        out[int(member_id)] = float(value or 0.0)  # the engines' figure wins
    return out


def speakers_in(conn: Connection, community_id: int) -> set[int]:
    """:func:`speakers` for every member of a community, in one query."""
    return {
        int(m)
        for (m,) in conn.execute(
            select(MemberDaily.member_id)
            .where(MemberDaily.community_id == community_id, MemberDaily.messages > 0)
            .distinct()
        )
    }
