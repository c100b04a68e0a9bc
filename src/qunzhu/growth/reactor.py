"""Growth in the pipeline: a :class:`~qunzhu.pipeline.Reactor` that, in the transaction of
the chunk that stored them, reacts to

- joins: join code and referral code checks, a seat or the size policy; a join through a
  member's personal invite link names that member and the code (see the connectors);
- invitations told apart from the join (``invite_used``): the referrer's ladder is settled;
- leaves: a freed seat goes to the waitlist; referrers' clawbacks;
- messages: invitees who speak may qualify their referrer;
- applications: the automatic rules, then routing to a segment;
- payments: the plan's membership starts or renews.

Use it as ``Pipeline(store, reactors=[GrowthReactor()])``; time-driven work (stay windows
ending, expiries) is ``qunzhu referral settle`` and ``qunzhu membership sweep``, which the
scheduler of ``qunzhu serve`` runs (:mod:`qunzhu.live.scheduler`).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, bindparam, select

from qunzhu import events as ev
from qunzhu.events import make_key
from qunzhu.growth.admission import apply_auto_review, redeem_join_code
from qunzhu.growth.capacity import admit, on_leave
from qunzhu.growth.common import GrowthError, action, parsed_spec, place_of, record_refusal
from qunzhu.growth.payments import activate, has_paid
from qunzhu.growth.referral_settle import settle
from qunzhu.growth.referrals import owner_of_code
from qunzhu.growth.routing import route_member
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.base import table_of
from qunzhu.store.batch import Resolved, Written
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.growth import InviteCode
from qunzhu.store.models import Application, Order, Referral
from qunzhu.store.resolve import community_specs


class GrowthReactor:
    """Returns the actions growth decided (seat refusals, waitlist notices, removals)."""

    def __call__(self, conn: Connection, written: Written) -> list[ev.Action]:
        actions: list[ev.Action] = []
        touched: dict[int, set[int]] = defaultdict(set)  # community -> referrers to settle
        joins = written.of("member_joined")
        joining: dict[int, set[int]] = defaultdict(set)
        for r in joins:
            joining[r.group_id].add(r.member_id)
        for r in sorted(joins, key=lambda r: r.event.occurred_at):
            actions += self._join(conn, r, joining[r.group_id], touched)
        for r in written.of("invite_used"):
            # an invitation told apart from the join (a system line, a link's own record): the
            # writer stored the referral; its inviter's ladder is settled like a join's
            if r.other_member_id is not None and r.other_member_id != r.member_id:
                touched[r.community_id].add(r.other_member_id)
        leavers: dict[int, set[int]] = defaultdict(set)
        for r in written.of("member_left"):
            actions += on_leave(conn, r.group_id, r.member_id, r.event.occurred_at)
            leavers[r.community_id].add(r.member_id)
        posters: dict[int, set[int]] = defaultdict(set)
        for r in written.of("message_posted"):
            posters[r.community_id].add(r.member_id)
        # one read per community for both: a leaver's referrers (any status) may be clawed
        # back, a poster's pending ones may qualify
        for community_id in leavers.keys() | posters.keys():
            touched[community_id] |= _referrers_of(
                conn, community_id, leavers.get(community_id, set()), posters.get(community_id)
            )
        for r in written.of("application_submitted"):
            actions += self._application(conn, r)
        for r in written.of("payment_received"):
            self._payment(conn, r)
        # the clock of a replayed file is its events' time, not the wall clock
        latest = max(
            (r.event.occurred_at for items in written.new.values() for r in items), default=None
        )
        for community_id, inviters in touched.items():
            if inviters:
                settle(conn, community_id, now=latest, inviters=inviters)
        return actions

    def _join(
        self, conn: Connection, r: Resolved, joining: set[int], touched: dict[int, set[int]]
    ) -> list[ev.Action]:
        e = r.event
        assert isinstance(e, ev.MemberJoined)
        spec = _spec(conn, r.community_id)
        code = (e.invite_code or "").strip().upper()
        inviter = r.other_member_id
        if code and _is_referral_code(conn, r.community_id, code):
            owner = owner_of_code(conn, r.community_id, code)
            if inviter is None and owner != r.member_id:
                inviter = owner
                insert_ignoring_conflicts(
                    conn,
                    table_of(Referral),
                    [
                        {
                            "community_id": r.community_id,
                            "group_id": r.group_id,
                            "inviter_member_id": owner,
                            "invitee_member_id": r.member_id,
                            "key": make_key(
                                "referral", r.community_id, r.group_id, owner, r.member_id
                            ),
                            "code": code,
                            "occurred_at": e.occurred_at,
                            "status": "pending",
                        }
                    ],
                )
        elif code or spec.threshold.kind == "join_code":
            try:
                if not code:
                    raise GrowthError(
                        "join_code_missing",
                        "this community admits by join code and the join carried none",
                    )
                redeem_join_code(conn, r.community_id, code, r.member_id, e.occurred_at)
            except GrowthError as exc:
                if exc.reason == "unknown_join_code" and spec.threshold.kind != "join_code":
                    exc = GrowthError(
                        "unknown_referral_code", f"referral code {code!r} does not exist"
                    )
                record_refusal(
                    conn,
                    r.community_id,
                    "growth:join",
                    f"{exc.reason}: {exc}",
                    f"member {r.member_id} joined group {r.group_id} with {code!r}",
                )
                if spec.threshold.kind == "join_code":
                    here = place_of(conn, r.group_id, r.member_id)
                    return [action("decline_join", here, reason=exc.reason, text=str(exc))]
        if spec.threshold.kind == "paid" and not has_paid(
            conn, r.community_id, r.member_id, spec.threshold.plans, e.occurred_at
        ):
            reason = "no active paid membership (未付费会员)"
            record_refusal(
                conn,
                r.community_id,
                "growth:join",
                f"not_paid: {reason}",
                f"member {r.member_id} joined group {r.group_id}",
            )
            here = place_of(conn, r.group_id, r.member_id)
            return [action("decline_join", here, reason="not_paid", text=reason)]
        if inviter is not None:
            touched[r.community_id].add(inviter)
        return admit(conn, r.group_id, r.member_id, exclude=joining, now=e.occurred_at).actions

    def _application(self, conn: Connection, r: Resolved) -> list[ev.Action]:
        e = r.event
        assert isinstance(e, ev.ApplicationSubmitted)
        a = table_of(Application)
        app_id = conn.execute(
            select(a.c.id).where(a.c.community_id == r.community_id, a.c.key == e.key)
        ).scalar()
        if app_id is None:
            return []
        verdict = apply_auto_review(conn, _spec(conn, r.community_id).threshold, int(app_id))
        here = place_of(conn, r.group_id, r.member_id)
        if verdict.status == "approved":
            route_member(conn, r.community_id, r.member_id)
            return [action("approve_join", here, reason="application approved")]
        if verdict.status == "rejected":
            return [
                action("decline_join", here, reason="application rejected", text=verdict.reason)
            ]
        return []

    def _payment(self, conn: Connection, r: Resolved) -> None:
        e = r.event
        assert isinstance(e, ev.PaymentReceived)
        plan = e.plan
        if plan is None and e.order_id:
            o = table_of(Order)
            plan = conn.execute(
                select(o.c.plan).where(
                    o.c.community_id == r.community_id, o.c.order_no == e.order_id
                )
            ).scalar()
        if plan:
            activate(conn, r.community_id, r.member_id, plan, e.occurred_at)


def _spec(conn: Connection, community_id: int) -> CommunitySpec:
    """:func:`~qunzhu.growth.common.spec_of` through the batch's one read of the specs."""
    row = community_specs(conn, (community_id,)).get(community_id)
    return parsed_spec((row.spec_yaml if row is not None else None) or "")


def _is_referral_code(conn: Connection, community_id: int, code: str) -> bool:
    t = table_of(InviteCode)
    return (
        conn.execute(
            select(t.c.id).where(t.c.community_id == community_id, t.c.code == code)
        ).first()
        is not None
    )


_referrals = table_of(Referral)
# built once: posters' referrers are looked up in nearly every live batch
_REFERRERS = (
    select(_referrals.c.inviter_member_id, _referrals.c.invitee_member_id, _referrals.c.status)
    .where(
        _referrals.c.community_id == bindparam("community_id"),
        _referrals.c.invitee_member_id.in_(bindparam("invitees", expanding=True)),
    )
    .distinct()
)
_PENDING_REFERRERS = _REFERRERS.where(_referrals.c.status == "pending")


def _referrers_of(
    conn: Connection, community_id: int, leavers: set[int], posters: set[int] | None = None
) -> set[int]:
    """Inviters of ``leavers`` (any status) and pending inviters of ``posters``."""
    posting = posters or set()
    query = _REFERRERS if leavers else _PENDING_REFERRERS
    params = {"community_id": community_id, "invitees": sorted(leavers | posting)}
    return {
        int(inviter)
        for inviter, invitee, status in conn.execute(query, params)
        if invitee in leavers or (invitee in posting and status == "pending")
    }
