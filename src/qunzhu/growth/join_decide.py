"""What a join means, decided from a snapshot: a pure function, nothing read or written here.

:func:`decide_join` takes what the store said about the join (its code, the code's owner or
state, the community's threshold, whether the member has paid) and returns a
:class:`JoinDecision`: a referral to credit, a join code to spend, refusals to keep for the
operator, a decline, or a seat to look for. :mod:`qunzhu.growth.joins` loads the snapshot
and writes the decision; the seat itself is :mod:`qunzhu.growth.seat_decide`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from qunzhu.growth.common import aware


@dataclass(frozen=True, slots=True)
class JoinCodeState:
    """A one-time join code (入群码) as stored."""

    group_id: int | None
    used_at: datetime | None
    used_by: int | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class JoinSnapshot:
    community_id: int
    group_id: int
    member_id: int
    at: datetime
    code: str  # as stored when it names a code, else as given (stripped); "" for none
    inviter: int | None  # the inviter the platform named
    threshold: str  # the spec's threshold kind: open | application | join_code | paid | ...
    referral_owner: int | None = None  # whose referral code ``code`` is, if it is one
    join_code: JoinCodeState | None = None  # the join code ``code``; None: there is none
    paid: bool = False  # an active paid membership in the threshold's plans


@dataclass(frozen=True, slots=True)
class ReferralCredit:
    inviter: int
    code: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused part of the join, kept for the operator with its reason."""

    reason: str  # a stable code: join_code_used, not_paid, ...
    message: str  # what went wrong, for people

    def record(self, snap: JoinSnapshot, *, with_code: bool) -> tuple[str, str]:
        """(reason, what) as the quarantine keeps them."""
        what = f"member {snap.member_id} joined group {snap.group_id}"
        return f"{self.reason}: {self.message}", (
            f"{what} with {snap.code!r}" if with_code else what
        )


@dataclass(frozen=True, slots=True)
class JoinDecision:
    referral: ReferralCredit | None = None  # a referral to store (the code named its owner)
    redeem: str | None = None  # the join code this join spends
    code_refusal: Refusal | None = None  # the code was refused
    paid_refusal: Refusal | None = None  # the threshold wants a payment there is not
    decline: Refusal | None = None  # the platform declines the join: no seat
    settle: int | None = None  # the inviter whose referral ladder moves

    @property
    def seat(self) -> bool:
        """Whether the join goes on to take a seat (or meet the size policy)."""
        return self.decline is None


NOT_PAID = Refusal("not_paid", "no active paid membership (未付费会员)")


def code_refusal(snap: JoinSnapshot) -> Refusal | None:
    """Why the join code cannot admit this member, or None when it can (free and in time,
    or spent by this member before: a join told twice is one join)."""
    code = snap.code
    if not code:
        return Refusal(
            "join_code_missing", "this community admits by join code and the join carried none"
        )
    state = snap.join_code
    if state is None:
        if snap.threshold != "join_code":
            # not a join code and not a referral code: the operator reads it as the latter
            return Refusal("unknown_referral_code", f"referral code {code!r} does not exist")
        return Refusal("unknown_join_code", f"join code {code!r} does not exist")
    if state.used_by == snap.member_id or redeemable(state, snap.at):
        return None
    if state.used_by is not None:
        return Refusal("join_code_used", f"join code {code!r} was used already")
    return Refusal("join_code_expired", f"join code {code!r} has expired")


def redeemable(state: JoinCodeState, at: datetime) -> bool:
    return state.used_at is None and (state.expires_at is None or aware(state.expires_at) > at)


def decide_join(snap: JoinSnapshot) -> JoinDecision:
    referral: ReferralCredit | None = None
    inviter = snap.inviter
    redeem: str | None = None
    refused: Refusal | None = None
    if snap.code and snap.referral_owner is not None:
        owner = snap.referral_owner
        # the platform's own inviter wins; nobody refers themself
        if inviter is None and owner != snap.member_id:
            inviter = owner
            referral = ReferralCredit(owner, snap.code)
    elif snap.code or snap.threshold == "join_code":
        refused = code_refusal(snap)
        if refused is None:
            redeem = snap.code
        elif snap.threshold == "join_code":
            return JoinDecision(code_refusal=refused, decline=refused)
    if snap.threshold == "paid" and not snap.paid:
        return JoinDecision(
            referral=referral,
            redeem=redeem,
            code_refusal=refused,
            paid_refusal=NOT_PAID,
            decline=NOT_PAID,
        )
    return JoinDecision(referral=referral, redeem=redeem, code_refusal=refused, settle=inviter)
