"""Settle referrals: decide qualification and clawback, grant the rungs each referrer
reached in each campaign once, and hold them for review when fraud signals show.

Run by the growth reactor for the referrers an event touched, and by ``qunzhu referral
settle`` for everyone (stay windows end without any event). Safe to re-run: statuses only
move forward, and a reward is unique per (campaign, referrer, rung).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from qunzhu.growth.common import aware, spec_of
from qunzhu.growth.payments import set_tier
from qunzhu.growth.referral_rules import (
    InviteeFacts,
    fraud_signals,
    members_in_rings,
    qualify,
    rungs_reached,
)
from qunzhu.growth.value import speakers, speakers_in, value_of, values_in
from qunzhu.spec.growth import ReferralRung
from qunzhu.store.base import table_of
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.growth import Campaign, MemberTag, ReferralReward
from qunzhu.store.models import MembershipEvent, Referral
from qunzhu.store.uncounted import uncounted_ids

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class SettleReport:
    decided: dict[str, int] = field(default_factory=dict)
    granted: int = 0
    held: int = 0
    clawed_back: int = 0
    rewards: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decided": self.decided,
            "granted": self.granted,
            "held": self.held,
            "clawed_back": self.clawed_back,
            "rewards": self.rewards,
        }


def ensure_default_campaign(conn: Connection, community_id: int) -> None:
    """A community whose spec turns referral on gets a standing campaign with its ladder."""
    spec = spec_of(conn, community_id)
    if not spec.referral.enabled or not spec.referral.ladder:
        return
    insert_ignoring_conflicts(
        conn,
        table_of(Campaign),
        [
            {
                "community_id": community_id,
                "slug": "default",
                "name": "裂变 (spec ladder)",
                "starts_at": EPOCH,
                "ends_at": None,
                "ladder": [r.model_dump() for r in spec.referral.ladder],
                "created_at": datetime.now(UTC),
            }
        ],
    )


WHOLE_COMMUNITY = 2000  # beyond this many invitees, read the community whole, not by id


def _joins_and_leaves(
    conn: Connection, community_id: int, ids: set[int] | None
) -> tuple[dict[int, datetime], dict[tuple[int, int], list[datetime]]]:
    """First join per member, and leaves per (group, member): for ``ids``, or everyone."""
    me = table_of(MembershipEvent)
    first_join: dict[int, datetime] = {}
    leaves: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    parts: list[list[int] | None] = [None]
    if ids is not None:
        ordered = sorted(ids)
        parts = [ordered[i : i + 500] for i in range(0, len(ordered), 500)]
    for part in parts:
        joins = select(me.c.member_id, func.min(me.c.occurred_at)).where(
            me.c.community_id == community_id, me.c.kind == "join"
        )
        gone = select(me.c.group_id, me.c.member_id, me.c.occurred_at).where(
            me.c.community_id == community_id, me.c.kind.in_(("leave", "remove", "ban"))
        )
        if part is not None:
            joins = joins.where(me.c.member_id.in_(part))
            gone = gone.where(me.c.member_id.in_(part))
        for m, at in conn.execute(joins.group_by(me.c.member_id)):
            first_join[int(m)] = aware(at)
        for g, m, at in conn.execute(gone):
            leaves[(int(g), int(m))].append(aware(at))
    return first_join, leaves


def _facts(
    conn: Connection, community_id: int, inviters: set[int] | None, now: datetime
) -> list[InviteeFacts]:
    r = table_of(Referral)
    query = select(
        r.c.id,
        r.c.inviter_member_id,
        r.c.invitee_member_id,
        r.c.group_id,
        r.c.occurred_at,
        r.c.status,
    ).where(r.c.community_id == community_id)
    if inviters is not None and len(inviters) <= 500:
        query = query.where(r.c.inviter_member_id.in_(sorted(inviters)))
    rows = list(conn.execute(query))
    if inviters is not None:
        rows = [x for x in rows if x.inviter_member_id in inviters]
    if not rows:
        return []
    invitees = {x.invitee_member_id for x in rows}
    whole = len(invitees) > WHOLE_COMMUNITY
    first_join, leaves = _joins_and_leaves(conn, community_id, None if whole else invitees)
    spoke = speakers_in(conn, community_id) if whole else speakers(conn, invitees)
    values = (
        values_in(conn, community_id, now.date()) if whole else value_of(conn, invitees, now.date())
    )
    earliest_referral: dict[int, datetime] = {}
    for x in rows:
        at = aware(x.occurred_at)
        if (
            x.invitee_member_id not in earliest_referral
            or at < earliest_referral[x.invitee_member_id]
        ):
            earliest_referral[x.invitee_member_id] = at
    out = []
    for x in rows:
        joined = aware(x.occurred_at)
        after = [t for t in leaves.get((x.group_id, x.invitee_member_id), []) if t >= joined]
        before = min(
            first_join.get(x.invitee_member_id, joined), earliest_referral[x.invitee_member_id]
        )
        out.append(
            InviteeFacts(
                referral_id=x.id,
                inviter=x.inviter_member_id,
                invitee=x.invitee_member_id,
                joined_at=joined,
                left_at=min(after) if after else None,
                spoke=x.invitee_member_id in spoke,
                value=values.get(x.invitee_member_id, 0.0),
                rejoin=before < joined,
                status=x.status,
            )
        )
    return out


RING_DEPTH = 12  # a ring longer than this is indistinguishable from organic growth


def _rings_through(conn: Connection, community_id: int, members: set[int]) -> set[int]:
    """Which of a few ``members`` sit on a ring: walk up the invited-by chain from each
    (a handful of indexed queries) instead of loading the whole graph, as the reactor
    settles only the referrers an event touched."""
    r = table_of(Referral)
    out: set[int] = set()
    for start in members:
        seen: set[int] = set()
        frontier = {start}
        for _ in range(RING_DEPTH):
            ups = {
                int(a)
                for (a,) in conn.execute(
                    select(r.c.inviter_member_id).where(
                        r.c.community_id == community_id,
                        r.c.invitee_member_id.in_(sorted(frontier)),
                    )
                )
            }
            if start in ups:
                out.add(start)
                break
            frontier = ups - seen
            seen |= ups
            if not frontier:
                break
    return out


def _rings(conn: Connection, community_id: int) -> set[int]:
    r = table_of(Referral)
    edges = conn.execute(
        select(r.c.inviter_member_id, r.c.invitee_member_id).where(r.c.community_id == community_id)
    )
    return members_in_rings((int(a), int(b)) for a, b in edges)


def _shared_marks(
    conn: Connection, community_id: int, by_inviter: dict[int, list[InviteeFacts]]
) -> dict[int, int]:
    """Invitees who share a ``device:`` or ``address:`` tag with their referrer."""
    t = table_of(MemberTag)
    marks: dict[int, set[str]] = defaultdict(set)
    for m, tag in conn.execute(
        select(t.c.member_id, t.c.tag).where(
            t.c.community_id == community_id, t.c.tag.like("device:%") | t.c.tag.like("address:%")
        )
    ):
        marks[int(m)].add(tag)
    if not marks:
        return {}
    return {
        inviter: sum(1 for f in facts if marks.get(f.invitee, set()) & marks.get(inviter, set()))
        for inviter, facts in by_inviter.items()
    }


def settle(
    conn: Connection,
    community_id: int,
    now: datetime | None = None,
    inviters: set[int] | None = None,
) -> SettleReport:
    now = now or datetime.now(UTC)
    spec = spec_of(conn, community_id)
    ensure_default_campaign(conn, community_id)
    report = SettleReport()
    facts = _facts(conn, community_id, inviters, now)
    q, rc = spec.referral.qualification, spec.referral
    changes: list[dict[str, Any]] = []
    decided: list[InviteeFacts] = []
    for f in facts:
        verdict = qualify(f, q, rc.clawback_days, now)
        if verdict.status != f.status:
            changes.append(
                {"rid": f.referral_id, "st": verdict.status, "why": verdict.reason, "at": now}
            )
            report.decided[verdict.status] = report.decided.get(verdict.status, 0) + 1
        f.status = verdict.status
        decided.append(f)
    if changes:
        r = table_of(Referral)
        conn.execute(
            update(r)
            .where(r.c.id == bindparam("rid"))
            .values(
                status=bindparam("st"), status_reason=bindparam("why"), decided_at=bindparam("at")
            ),
            changes,
        )
    by_inviter: dict[int, list[InviteeFacts]] = defaultdict(list)
    # the referrals of bots and staff are decided like any other, but earn them nothing
    no_rewards = uncounted_ids(conn, community_id) if decided else frozenset()
    for f in decided:
        if f.inviter not in no_rewards:
            by_inviter[f.inviter].append(f)
    if not by_inviter:
        rings: set[int] = set()
    elif inviters is not None and len(inviters) <= 50:
        rings = _rings_through(conn, community_id, set(by_inviter))
    else:
        rings = _rings(conn, community_id)
    shared = _shared_marks(conn, community_id, by_inviter)
    stay = q.stay_days if q else 0
    signals = {
        i: fraud_signals(fs, rc.fraud, stay, now, i in rings, shared.get(i, 0))
        for i, fs in by_inviter.items()
    }
    campaigns = list(conn.execute(select(Campaign).where(Campaign.community_id == community_id)))
    for c in campaigns:
        _pay_campaign(conn, community_id, c, by_inviter, signals, now, report)
    return report


def _pay_campaign(
    conn: Connection,
    community_id: int,
    c: Any,
    by_inviter: dict[int, list[InviteeFacts]],
    signals: dict[int, Any],
    now: datetime,
    report: SettleReport,
) -> None:
    """Insert every rung reached (the unique key keeps it once), and take back rungs no
    longer reached after a clawback unless redeemed: a few statements per campaign."""
    ladder = [ReferralRung.model_validate(x) for x in c.ladder]
    start, end = aware(c.starts_at), aware(c.ends_at) if c.ends_at else None
    rewards = table_of(ReferralReward)
    rows: list[dict[str, Any]] = []
    qualified_by: dict[int, int] = {}
    for inviter, facts in by_inviter.items():
        qualified = sum(
            1
            for f in facts
            if f.status == "qualified"
            and f.joined_at >= start
            and (end is None or f.joined_at < end)
        )
        qualified_by[inviter] = qualified
        held = signals[inviter]
        rows += [
            {
                "community_id": community_id,
                "campaign_id": c.id,
                "member_id": inviter,
                "rung": r.invitees,
                "kind": r.reward.kind,
                "value": str(r.reward.value),
                "status": "held" if held else "granted",
                "signals": dict(held.found) if held else None,
                "created_at": now,
            }
            for r in rungs_reached(ladder, qualified)
        ]
    for start_at in range(0, len(rows), 1000):
        for row in insert_ignoring_conflicts(
            conn,
            rewards,
            rows[start_at : start_at + 1000],
            rewards.c.member_id,
            rewards.c.rung,
            rewards.c.status,
            rewards.c.kind,
            rewards.c.value,
        ):
            if row.kind == "tier" and row.status == "granted":
                set_tier(
                    conn, community_id, row.member_id, row.value, "referral reward", "referral"
                )
            report.held += row.status == "held"
            report.granted += row.status == "granted"
            report.rewards.append(
                {
                    "member_id": row.member_id,
                    "campaign": c.slug,
                    "rung": row.rung,
                    "status": row.status,
                }
            )
    standing = conn.execute(
        select(rewards.c.id, rewards.c.member_id, rewards.c.rung).where(
            rewards.c.campaign_id == c.id, rewards.c.status.in_(("granted", "held"))
        )
    ).all()
    gone = [
        {"rid": r.id}
        for r in standing
        if r.member_id in qualified_by and r.rung > qualified_by[r.member_id]
    ]
    if gone:
        conn.execute(
            update(rewards)
            .where(rewards.c.id == bindparam("rid"), rewards.c.status.in_(("granted", "held")))
            .values(status="clawed_back", decided_at=now, note="invitee left within the window"),
            gone,
        )
        report.clawed_back += len(gone)
