"""Referral (裂变) leaderboards and rewards. ``qunzhu referral leaderboard|rewards``, the
API's campaign and rewards routes, and the dashboard's growth and today pages read these.

The leaderboard (排行榜) counts referrals whose join fell in a window — a campaign's
``[starts_at, ends_at)``, or the dashboard's last 30 days — per inviter:

``joined``     every referral of the window, whatever became of it;
``qualified``  those that met the spec's qualification (what the ladder pays on);
``pending``    those still waiting for the qualification to be decided;
``held``       those a fraud check held for an operator.

Ranked by qualified, then joined, then member id. Bots and staff are not ranked
(qunzhu.store.uncounted): the group's assistant inviting people is not a referrer.
``rung`` is how many rungs of the ladder the qualified count reached; ``next_at`` the
qualified invitees the next rung needs.

A reward's ``status`` is ``held`` (waiting for an operator: the fraud review queue),
``granted``, ``rejected``, ``redeemed`` (兑换) or ``clawed_back``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, case, func, select

from qunzhu.growth import referrals
from qunzhu.growth.common import GrowthError
from qunzhu.store.growth import Campaign, ReferralReward
from qunzhu.store.models import Member, Referral
from qunzhu.store.uncounted import counted

LEADERBOARD_SIZE = 20
NOT_SET = datetime(1970, 1, 2, tzinfo=UTC)  # a start before this is growth's EPOCH: unset


@dataclass(frozen=True, slots=True)
class Leader:
    rank: int
    member_id: int
    member: str
    joined: int
    qualified: int
    pending: int
    held: int
    rung: int
    next_at: int | None


@dataclass(frozen=True, slots=True)
class CampaignBoard:
    slug: str
    name: str
    starts_at: datetime | None  # None: no start was set (the default campaign counts all)
    ends_at: datetime | None
    ladder: tuple[dict[str, Any], ...]
    leaders: tuple[Leader, ...]


@dataclass(frozen=True, slots=True)
class Reward:
    id: int
    campaign: str
    member_id: int
    member: str
    rung: int
    kind: str
    value: str
    status: str
    signals: Any
    note: str | None


def _rungs(ladder: Iterable[Any]) -> list[int]:
    needs = []
    for rung in ladder:
        n = rung.get("invitees") if isinstance(rung, dict) else getattr(rung, "invitees", None)
        if isinstance(n, int):
            needs.append(n)
    return sorted(needs)


def leaderboard(
    conn: Connection,
    community_id: int,
    since: datetime,
    until: datetime | None = None,
    ladder: Iterable[Any] = (),
    limit: int = LEADERBOARD_SIZE,
) -> tuple[Leader, ...]:
    """Inviters of referrals that joined in ``[since, until)``, ranked (see the module)."""
    r = Referral

    def of(status: str) -> Any:
        return func.sum(case((r.status == status, 1), else_=0))

    joined = func.count()
    query = (
        select(r.inviter_member_id, Member.display_name, joined)
        .add_columns(of("qualified"), of("pending"), of("held"))
        .join(Member, Member.id == r.inviter_member_id)
        .where(
            r.community_id == community_id,
            r.occurred_at >= since,
            counted(r.inviter_member_id, conn, community_id),
        )
        .group_by(r.inviter_member_id, Member.display_name)
        .order_by(of("qualified").desc(), joined.desc(), r.inviter_member_id)
        .limit(limit)
    )
    if until is not None:
        query = query.where(r.occurred_at < until)
    needs = _rungs(ladder)
    out = []
    for rank, (m, name, n, q, p, h) in enumerate(conn.execute(query).tuples(), 1):
        qualified = int(q or 0)
        reached = sum(1 for need in needs if qualified >= need)
        out.append(
            Leader(
                rank=rank,
                member_id=int(m),
                member=str(name),
                joined=int(n),
                qualified=qualified,
                pending=int(p or 0),
                held=int(h or 0),
                rung=reached,
                next_at=needs[reached] if reached < len(needs) else None,
            )
        )
    return tuple(out)


def _unset(start: datetime) -> bool:
    """The default campaign starts at the epoch, which means "not set", not 1970-01-01."""
    return start.replace(tzinfo=None) <= NOT_SET.replace(tzinfo=None)


def _board(conn: Connection, community_id: int, c: Any, limit: int) -> CampaignBoard:
    ladder = tuple(x for x in (c.ladder or []) if isinstance(x, dict))
    return CampaignBoard(
        slug=c.slug,
        name=c.name,
        starts_at=None if _unset(c.starts_at) else c.starts_at,
        ends_at=c.ends_at,
        ladder=ladder,
        leaders=leaderboard(conn, community_id, c.starts_at, c.ends_at, ladder, limit),
    )


def campaign_leaderboard(
    conn: Connection, community_id: int, campaign: str, limit: int = LEADERBOARD_SIZE
) -> CampaignBoard:
    """One campaign with its leaderboard; GrowthError ``unknown_campaign`` if not here."""
    c = conn.execute(
        select(Campaign).where(Campaign.community_id == community_id, Campaign.slug == campaign)
    ).one_or_none()
    if c is None:
        raise GrowthError("unknown_campaign", f"campaign {campaign!r} does not exist")
    return _board(conn, community_id, c, limit)


def campaigns(
    conn: Connection, community_id: int, limit: int = 10, board: int = 10
) -> tuple[CampaignBoard, ...]:
    """The newest ``limit`` campaigns, each with its top ``board`` inviters."""
    rows = conn.execute(
        select(Campaign)
        .where(Campaign.community_id == community_id)
        .order_by(Campaign.starts_at.desc(), Campaign.id.desc())
        .limit(limit)
    ).all()
    return tuple(_board(conn, community_id, c, board) for c in rows)


def rewards(
    conn: Connection, community_id: int, status: str | None = None, limit: int | None = None
) -> tuple[Reward, ...]:
    """Rewards (oldest first), of one status or all; ``held`` is the fraud review queue."""
    found = referrals.rewards(conn, community_id, status)
    return tuple(Reward(**r) for r in (found if limit is None else found[:limit]))


def reward_counts(conn: Connection, community_id: int) -> dict[str, int]:
    """Rewards per status (``held``: waiting for an operator)."""
    t = ReferralReward
    return {
        str(s): int(n)
        for s, n in conn.execute(
            select(t.status, func.count()).where(t.community_id == community_id).group_by(t.status)
        ).tuples()
    }


def referral_counts(conn: Connection, community_id: int) -> dict[str, int]:
    """Referrals per status (pending, qualified, held, disqualified, clawed_back)."""
    return {
        str(s): int(n)
        for s, n in conn.execute(
            select(Referral.status, func.count())
            .where(Referral.community_id == community_id)
            .group_by(Referral.status)
        ).tuples()
    }
