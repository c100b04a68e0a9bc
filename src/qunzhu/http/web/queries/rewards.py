"""Referral campaigns and their rewards, from the growth package (``qunzhu.growth``) when it
is installed: campaigns with their leaderboards, rewards held by a fraud check (approve or
reject) and rewards granted (mark redeemed, 兑换). Empty when that package is not there."""

from __future__ import annotations

from typing import Any, Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qunzhu.auth.audit import record
from qunzhu.http.web.queries.common import optional_module

RewardMove = Literal["approve", "reject", "redeem"]
REWARD_MOVES: tuple[str, ...] = get_args(RewardMove)
SHOWN = 50


def _tables() -> tuple[Any, Any] | None:
    store = optional_module("qunzhu.store.growth")
    campaign = getattr(store, "Campaign", None)
    reward = getattr(store, "ReferralReward", None)
    return (campaign, reward) if campaign is not None and reward is not None else None


def available() -> bool:
    return _tables() is not None and optional_module("qunzhu.growth.referrals") is not None


def campaigns(session: Session, community_id: int) -> list[dict[str, Any]]:
    """Campaigns newest first, each with its leaderboard (top 10)."""
    tables = _tables()
    referrals = optional_module("qunzhu.growth.referrals")
    if tables is None or referrals is None:
        return []
    campaign, _ = tables
    rows = list(
        session.scalars(
            select(campaign)
            .where(campaign.community_id == community_id)
            .order_by(campaign.starts_at.desc())
            .limit(10)
        )
    )
    conn = session.connection()
    out = []
    for c in rows:
        board = referrals.leaderboard(conn, community_id, c.slug, 10)
        out.append(
            {
                "slug": c.slug,
                "name": c.name,
                "starts_at": c.starts_at,
                "ends_at": c.ends_at,
                "ladder": c.ladder or [],
                "leaders": board,
            }
        )
    return out


def rewards(session: Session, community_id: int, status: str) -> list[dict[str, Any]]:
    referrals = optional_module("qunzhu.growth.referrals")
    if referrals is None or _tables() is None:
        return []
    found: list[dict[str, Any]] = referrals.rewards(session.connection(), community_id, status)
    return found[:SHOWN]


def waiting_count(session: Session, community_id: int) -> int | None:
    """Rewards held for a decision; None when the growth package is not installed."""
    tables = _tables()
    if tables is None:
        return None
    _, reward = tables
    return int(
        session.scalar(
            select(func.count())
            .select_from(reward)
            .where(reward.community_id == community_id, reward.status == "held")
        )
        or 0
    )


def decide(
    session: Session,
    community_id: int,
    reward_id: int,
    move: RewardMove,
    *,
    operator_id: int,
    note: str = "",
) -> str:
    """Approve / reject a held reward or mark a granted one redeemed; the new status.
    Raises ValueError (the growth package's GrowthError) when the move does not fit."""
    referrals = optional_module("qunzhu.growth.referrals")
    if referrals is None:
        raise ValueError("rewards need the growth package")
    status: str = referrals.decide_reward(session.connection(), community_id, reward_id, move, note)
    record(
        session,
        f"reward.{move}",
        source="web",
        operator_id=operator_id,
        community_id=community_id,
        target=str(reward_id),
        detail={"status": status},
    )
    return status
