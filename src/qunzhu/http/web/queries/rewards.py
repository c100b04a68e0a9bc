"""An operator's move on a referral reward from the dashboard: approve or reject one held by
the fraud check, or mark a granted one redeemed (兑换), with its audit entry. What the
page lists comes from qunzhu.readmodels.referrals."""

from __future__ import annotations

from typing import Literal, get_args

from sqlalchemy.orm import Session

from qunzhu.auth.audit import record
from qunzhu.growth import referrals

RewardMove = Literal["approve", "reject", "redeem"]
REWARD_MOVES: tuple[str, ...] = get_args(RewardMove)
SHOWN = 50


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
    Raises GrowthError (a ValueError) when the move does not fit."""
    status = referrals.decide_reward(session.connection(), community_id, reward_id, move, note)
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
