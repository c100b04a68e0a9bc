"""The referral engine (裂变), pure: who qualifies, which rungs a referrer reached, and the
fraud signals that hold a reward for review. No database here; referral_settle.py reads the
facts, calls these functions and writes what they decide."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from qunzhu.spec.growth import FraudThresholds, Qualification, ReferralRung

MIN_SAMPLE = 3  # shares of fewer invitees say nothing about fraud


@dataclass(slots=True)
class InviteeFacts:
    referral_id: int
    inviter: int
    invitee: int
    joined_at: datetime
    left_at: datetime | None  # first leave after this join, if any
    spoke: bool
    value: float
    rejoin: bool  # the invitee had been in the community before this join
    status: str  # the referral's current status; settle moves it forward in place


@dataclass(frozen=True)
class Verdict:
    status: str  # pending | qualified | disqualified | clawed_back
    reason: str


def qualify(f: InviteeFacts, q: Qualification | None, clawback_days: int, now: datetime) -> Verdict:
    """Decide one referral. Qualification needs the invitee to stay ``stay_days`` and, when
    asked, to speak and reach ``min_value``; a qualified invitee who leaves within
    ``clawback_days`` of joining is clawed back. Decisions only move forward."""
    if f.status in ("disqualified", "clawed_back"):
        return Verdict(f.status, "already decided")
    if f.inviter == f.invitee:
        return Verdict("disqualified", "self_invite")
    if f.rejoin:
        return Verdict("disqualified", "rejoin")
    stay = timedelta(days=q.stay_days if q else 0)
    if f.status == "qualified":
        if f.left_at is not None and f.left_at - f.joined_at < timedelta(days=clawback_days):
            return Verdict("clawed_back", "left_within_clawback_window")
        return Verdict("qualified", "kept")
    if f.left_at is not None and f.left_at - f.joined_at < stay:
        return Verdict("disqualified", "left_early")
    if now - f.joined_at < stay:
        return Verdict("pending", "inside_stay_window")
    if q is not None and q.must_speak and not f.spoke:
        return Verdict("pending", "waiting_to_speak")
    if q is not None and f.value < q.min_value:
        return Verdict("pending", "below_min_value")
    if f.left_at is not None and f.left_at - f.joined_at < timedelta(days=clawback_days):
        return Verdict("clawed_back", "left_within_clawback_window")
    return Verdict("qualified", "stayed_and_spoke" if q and q.must_speak else "stayed")


def rungs_reached(ladder: Iterable[ReferralRung], qualified: int) -> list[ReferralRung]:
    return [r for r in ladder if qualified >= r.invitees]


@dataclass
class Signals:
    """Fraud signals of one referrer; empty means nothing to hold for."""

    found: dict[str, object] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.found)


def fraud_signals(
    invitees: list[InviteeFacts],
    t: FraudThresholds,
    stay_days: int,
    now: datetime,
    in_ring: bool,
    shared_marks: int,
) -> Signals:
    """A burst of joins in a day, invitees who leave at once or never speak, a ring, and
    invitees who share a device or address with the referrer."""
    s = Signals()
    by_day: dict[object, int] = defaultdict(int)
    for f in invitees:
        by_day[f.joined_at.date()] += 1
    if by_day and max(by_day.values()) > t.max_invites_per_day:
        s.found["burst"] = max(by_day.values())
    n = len(invitees)
    if n >= MIN_SAMPLE:
        quick = sum(
            1
            for f in invitees
            if f.left_at is not None and f.left_at - f.joined_at < timedelta(days=stay_days)
        )
        if quick / n > t.max_quick_leave_share:
            s.found["quick_leave_share"] = round(quick / n, 3)
        settled = [f for f in invitees if now - f.joined_at >= timedelta(days=stay_days)]
        if len(settled) >= MIN_SAMPLE:
            silent = sum(1 for f in settled if not f.spoke)
            if silent / len(settled) > t.max_silent_share:
                s.found["silent_share"] = round(silent / len(settled), 3)
    if in_ring:
        s.found["ring"] = True
    if shared_marks:
        s.found["shared_device_or_address"] = shared_marks
    return s


def members_in_rings(edges: Iterable[tuple[int, int]]) -> set[int]:
    """Members on a cycle of the invited-by graph (A→B→…→A): strongly connected
    components of two or more, found with an iterative Tarjan so deep trees do not recurse."""
    graph: dict[int, list[int]] = defaultdict(list)
    for a, b in edges:
        if a != b:
            graph[a].append(b)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: set[int] = set()
    counter = 0
    for root in list(graph):
        if root in index:
            continue
        work: list[tuple[int, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = graph.get(node, [])
            if i < len(children):
                work.append((node, i + 1))
                child = children[i]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    out.update(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def k_factor(referred_joins: int, qualified: int, base_members: int) -> dict[str, float | None]:
    """K = new members brought per existing member (invites × conversion collapsed into
    joins, since platforms do not tell us about invitations nobody accepted)."""
    if base_members <= 0:
        return {"k_joined": None, "k_qualified": None}
    return {
        "k_joined": round(referred_joins / base_members, 4),
        "k_qualified": round(qualified / base_members, 4),
    }
