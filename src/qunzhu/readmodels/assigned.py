"""The groups an operator acts for: every group for admins and up, else the groups assigned
to them on the Operators page (the same assignment their tasks follow). Sending, keeping
library items and acting on tasks all read it here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.auth.permissions import Caller
from qunzhu.store.tasks import OperatorGroup


def assigned_groups(session: Session, community_id: int, caller: Caller) -> set[int] | None:
    """None for every group (admins and up), else the ids of the groups assigned."""
    if caller.can(community_id, "manage"):
        return None
    return set(
        session.scalars(
            select(OperatorGroup.group_id).where(
                OperatorGroup.community_id == community_id,
                OperatorGroup.operator_id == caller.operator_id,
            )
        )
    )
