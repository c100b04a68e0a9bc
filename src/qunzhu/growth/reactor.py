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
from qunzhu.growth.applications import react_to_application
from qunzhu.growth.capacity import on_leave
from qunzhu.growth.common import parsed_spec
from qunzhu.growth.joins import react_to_join
from qunzhu.growth.payments import activate
from qunzhu.growth.referral_settle import settle
from qunzhu.spec.schema import CommunitySpec
from qunzhu.store.base import table_of
from qunzhu.store.batch import Resolved, Written
from qunzhu.store.models import Order, Referral
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
            done, inviter = react_to_join(conn, r, _spec(conn, r.community_id), joining[r.group_id])
            actions += done
            if inviter is not None:
                touched[r.community_id].add(inviter)
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
            actions += react_to_application(conn, r, _spec(conn, r.community_id).threshold)
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

    def _payment(self, conn: Connection, r: Resolved) -> None:
        e = r.event
        assert isinstance(e, ev.PaymentReceived)
        order_plan = None
        if e.plan is None and e.order_id:
            o = table_of(Order)
            order_plan = conn.execute(
                select(o.c.plan).where(
                    o.c.community_id == r.community_id, o.c.order_no == e.order_id
                )
            ).scalar()
        plan = plan_paid_for(e.plan, order_plan)
        if plan:
            activate(conn, r.community_id, r.member_id, plan, e.occurred_at)


def plan_paid_for(event_plan: str | None, order_plan: str | None) -> str | None:
    """The plan a payment starts or renews: the one the notice names, else its order's."""
    return event_plan if event_plan is not None else order_plan


def _spec(conn: Connection, community_id: int) -> CommunitySpec:
    """:func:`~qunzhu.growth.common.spec_of` through the batch's one read of the specs."""
    row = community_specs(conn, (community_id,)).get(community_id)
    return parsed_spec((row.spec_yaml if row is not None else None) or "")


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
