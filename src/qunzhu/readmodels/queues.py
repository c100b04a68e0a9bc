"""What waits for a person in a community: moderation items to review, applications to
decide, referral rewards held by the fraud check, and the outbox by status. The dashboard's
today page and ``GET …/queues`` read these counts.

``pending_review``        moderation actions with status ``pending_review`` (审核队列);
``pending_applications``  applications with status ``pending`` (入群申请);
``held_rewards``          referral rewards with status ``held`` (qunzhu.readmodels.referrals);
``outbox``                outbox actions per status: queued, sending, sent, failed, alerted,
                          skipped (``failed`` and ``alerted`` need an operator).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from qunzhu.readmodels.referrals import reward_counts
from qunzhu.store import outbox
from qunzhu.store.models import Application, ModerationAction

NEEDS_OPERATOR = ("failed", "alerted")


@dataclass(frozen=True, slots=True)
class QueueCounts:
    pending_review: int
    pending_applications: int
    held_rewards: int
    outbox: dict[str, int] = field(default_factory=dict)

    @property
    def outbox_needing_operator(self) -> int:
        return sum(self.outbox.get(s, 0) for s in NEEDS_OPERATOR)


def pending_review(conn: Connection, community_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(
                ModerationAction.community_id == community_id,
                ModerationAction.status == "pending_review",
            )
        ).scalar()
        or 0
    )


def pending_applications(conn: Connection, community_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(
                Application.community_id == community_id, Application.status == "pending"
            )
        ).scalar()
        or 0
    )


def held_rewards(conn: Connection, community_id: int) -> int:
    return reward_counts(conn, community_id).get("held", 0)


def queue_counts(conn: Connection, community_id: int) -> QueueCounts:
    return QueueCounts(
        pending_review=pending_review(conn, community_id),
        pending_applications=pending_applications(conn, community_id),
        held_rewards=held_rewards(conn, community_id),
        outbox=outbox.counts(conn, community_id),
    )
