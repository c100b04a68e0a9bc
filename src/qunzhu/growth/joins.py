"""A join in the growth reactor: load its snapshot, decide (:func:`decide_join`, pure), write.

The writes are here and only here: the referral row, the join code spent (a conditional
UPDATE: when another join spent it first, the join is decided again on what the store says
now), the refusals kept for the operator, the decline or the seat (:func:`admit`).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from qunzhu import events as ev
from qunzhu.events import make_key
from qunzhu.growth.admission import spend_join_code
from qunzhu.growth.capacity import admit
from qunzhu.growth.codes import resolve_code
from qunzhu.growth.common import action, place_of, record_refusal
from qunzhu.growth.join_decide import (
    JoinCodeState,
    JoinDecision,
    JoinSnapshot,
    Refusal,
    decide_join,
)
from qunzhu.growth.payments import has_paid
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.base import table_of
from qunzhu.store.batch import Resolved
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.growth import InviteCode, JoinCode
from qunzhu.store.models import Referral

# a referral code first: a code in both tables credits its owner, as it always has
_CODE_TABLES = (table_of(InviteCode), table_of(JoinCode))


def load_join(conn: Connection, r: Resolved, spec: CommunitySpec) -> JoinSnapshot:
    e = r.event
    assert isinstance(e, ev.MemberJoined)
    code = (e.invite_code or "").strip()
    threshold = spec.threshold
    owner: int | None = None
    state: JoinCodeState | None = None
    found = resolve_code(conn, _CODE_TABLES, r.community_id, code) if code else None
    if found is not None:
        table, code = found  # the code as stored, whatever case the join wrote it in
        if table is _CODE_TABLES[0]:
            owner = _referral_owner(conn, r.community_id, code)
        else:
            state = _join_code(conn, r.community_id, code)
    paid = threshold.kind == "paid" and has_paid(
        conn, r.community_id, r.member_id, threshold.plans, e.occurred_at
    )
    return JoinSnapshot(
        community_id=r.community_id,
        group_id=r.group_id,
        member_id=r.member_id,
        at=e.occurred_at,
        code=code,
        inviter=r.other_member_id,
        threshold=threshold.kind,
        referral_owner=owner,
        join_code=state,
        paid=paid,
    )


def _referral_owner(conn: Connection, community_id: int, code: str) -> int | None:
    t = table_of(InviteCode)
    found = conn.execute(
        select(t.c.member_id).where(t.c.community_id == community_id, t.c.code == code)
    ).first()
    return int(found[0]) if found is not None else None


def _join_code(conn: Connection, community_id: int, code: str) -> JoinCodeState | None:
    t = table_of(JoinCode)
    row = conn.execute(
        select(t.c.group_id, t.c.used_at, t.c.used_by_member_id, t.c.expires_at).where(
            t.c.community_id == community_id, t.c.code == code
        )
    ).one_or_none()
    if row is None:
        return None
    return JoinCodeState(row.group_id, row.used_at, row.used_by_member_id, row.expires_at)


def react_to_join(
    conn: Connection, r: Resolved, spec: CommunitySpec, joining: set[int]
) -> tuple[list[ev.Action], int | None]:
    """The join's actions and the inviter whose referrals to settle (None: nobody)."""
    for _ in range(2):
        snap = load_join(conn, r, spec)
        decision = decide_join(snap)
        if decision.redeem is None or _spend(conn, snap, decision.redeem):
            break
        # another join spent the code between our read and our write: decide again on what
        # the store says now (the code shows as used)
    else:
        raise RuntimeError(f"join code {snap.code!r} changed twice under one join; retry")
    return write_join(conn, snap, decision, joining), decision.settle


def _spend(conn: Connection, snap: JoinSnapshot, code: str) -> bool:
    """True when the code is spent for the member now, or was by them before."""
    if snap.join_code is not None and snap.join_code.used_by == snap.member_id:
        return True
    return spend_join_code(conn, snap.community_id, code, snap.member_id, snap.at)


def write_join(
    conn: Connection, snap: JoinSnapshot, decision: JoinDecision, joining: set[int]
) -> list[ev.Action]:
    if decision.referral is not None:
        owner = decision.referral.inviter
        insert_ignoring_conflicts(
            conn,
            table_of(Referral),
            [
                {
                    "community_id": snap.community_id,
                    "group_id": snap.group_id,
                    "inviter_member_id": owner,
                    "invitee_member_id": snap.member_id,
                    "key": make_key(
                        "referral", snap.community_id, snap.group_id, owner, snap.member_id
                    ),
                    "code": decision.referral.code,
                    "occurred_at": snap.at,
                    "status": "pending",
                }
            ],
        )
    if decision.code_refusal is not None:
        _keep(conn, snap, decision.code_refusal, with_code=True)
    if decision.paid_refusal is not None:
        _keep(conn, snap, decision.paid_refusal, with_code=False)
    if decision.decline is not None:
        here = place_of(conn, snap.group_id, snap.member_id)
        refused = decision.decline
        return [action("decline_join", here, reason=refused.reason, text=refused.message)]
    return admit(conn, snap.group_id, snap.member_id, exclude=joining, now=snap.at).actions


def _keep(conn: Connection, snap: JoinSnapshot, refusal: Refusal, *, with_code: bool) -> None:
    reason, what = refusal.record(snap, with_code=with_code)
    record_refusal(conn, snap.community_id, "growth:join", reason, what)
