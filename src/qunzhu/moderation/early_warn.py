"""Warnings that do not wait for the batch, where the platform cannot delete.

A WeChat personal account cannot recall a member's message (notices.PARTLY): what the batch
does about an ad there is a warning @ the sender and an alert for an operator. The warning is
the member's answer, and under load it waited seconds for the batch. :class:`EarlyWarnings`
decides it at receipt, from content, for the messages :mod:`qunzhu.moderation.early` found
acting (a rule says delete), and only when it is sure the batch will warn with the same words:

- the sanction is a warning whatever the member's points: the points stored (unexpired,
  counting, as the batch reads them) plus an upper bound of the offences this process saw at
  receipt that are not stored yet (:class:`Tally`, cleared as their messages are stored)
  reach no rung above ``warn`` on the ladder — a third offence that removes, a mute, is the
  batch's, never an early warning;
- nothing the batch sees and this does not can change the finding that decides or its points:
  no image to scan, no link a newcomer rule could catch, a classifier score that acts the same
  in and out of good standing, and flooding and the same text across groups counted far from
  their thresholds (the batch's windows read, with what arrived since: :class:`Windows`).

In doubt (the store or Redis away, a rule that might bite) the ad is left to the batch, as
before. The warning has the batch's key (one per message: notices.actions_for), so that a
redelivery is claimed once, and the connector sends the twin that comes second not at all
(:mod:`qunzhu.moderation.sent_once`). The alert is a row the batch writes: it stays the batch's.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select

from qunzhu import events as ev
from qunzhu.moderation import behaviour as bh
from qunzhu.moderation.decide import (
    _MEMBER_PART,
    Decision,
    Standing,
    decide,
    rule_action,
    slack,
)
from qunzhu.moderation.findings import Finding
from qunzhu.moderation.inspect import Inspector
from qunzhu.moderation.moderator import COUNTING, _latest_tier, stored_keys
from qunzhu.moderation.normalize import Normalized
from qunzhu.moderation.notices import actions_for
from qunzhu.spec.rules import Rules
from qunzhu.store.base import table_of
from qunzhu.store.community import Identity, Member
from qunzhu.store.models import ModerationAction

log = logging.getLogger(__name__)
TALLY_SIZE = 50_000
"""Members whose unstored offences are kept (far more than a batch backlog spans)."""
TALLY_TTL_S = 3600.0
"""An offence never seen stored is forgotten after this (its message failed for good)."""


class Tally:
    """Offences seen at receipt and not yet seen stored, per (platform, community, member):
    (event key → (when, points at most)). The batch that stores one has counted its points
    in the store; :meth:`forget` drops it then."""

    def __init__(self, size: int = TALLY_SIZE) -> None:
        self.size = size
        self._by: OrderedDict[tuple[str, str, str], dict[str, tuple[datetime, float, float]]] = (
            OrderedDict()
        )

    def note(self, who: tuple[str, str, str], key: str, at: datetime, points: float) -> None:
        entries = self._by.setdefault(who, {})
        self._by.move_to_end(who)
        old = entries.get(key)
        entries[key] = (at, max(points, old[1] if old else 0.0), time.monotonic())
        while len(self._by) > self.size:
            self._by.popitem(last=False)

    def pending(self, who: tuple[str, str, str], but: str) -> dict[str, tuple[datetime, float]]:
        entries = self._by.get(who, {})
        old = time.monotonic() - TALLY_TTL_S
        for key in [k for k, (_, _, seen) in entries.items() if seen < old]:
            del entries[key]
        return {k: (at, p) for k, (at, p, _) in entries.items() if k != but}

    def forget(self, who: tuple[str, str, str], keys: set[str]) -> None:
        entries = self._by.get(who)
        if entries:
            for key in keys:
                entries.pop(key, None)


class Windows:
    """Flooding and the same text across groups as the batch will count them: the batch's
    own windows (``Behaviour``: Redis, or this process's) read without counting, with the
    messages that arrived here since and are not counted there yet."""

    def __init__(self, behaviour: bh.Behaviour, size: int = 200_000) -> None:
        self.behaviour = behaviour
        self.size = size
        self._flood: OrderedDict[tuple[str, ...], dict[str, float]] = OrderedDict()
        self._copies: OrderedDict[tuple[str, ...], dict[str, float]] = OrderedDict()

    def observe(self, event: ev.MessagePosted, compact: str, rules: Rules) -> bh.Seen:
        """Count one message that arrived; what the windows hold with it, seen from here."""
        now = event.occurred_at.timestamp()
        flood = _put(
            self._flood,
            (event.platform, event.community, event.group, event.member),
            event.key,
            now,
            rules.flooding.per_seconds,
            self.size,
        )
        digest = bh._text_digest(compact)
        groups = 0
        if digest is not None:
            groups = _put(
                self._copies,
                (event.platform, event.community, event.member, digest),
                event.group,
                now,
                rules.duplicate_across_groups.per_seconds,
                self.size,
            )
        return bh.Seen(flood, groups)

    def at_most(self, asked: Sequence[tuple[ev.MessagePosted, str, Rules]]) -> list[bh.Seen]:
        """What the batch can count for each ``(event, compact text, rules)`` at most: its
        windows and this process's arrivals together (an upper bound), read in one round
        trip. Raises when the batch's windows cannot be read."""
        b = self.behaviour
        pipe = b.client.pipeline(transaction=False) if isinstance(b, bh.SharedBehaviour) else None
        parts = []
        for event, compact, rules in asked:
            now = event.occurred_at.timestamp()
            flood_since = now - rules.flooding.per_seconds
            copies_since = now - rules.duplicate_across_groups.per_seconds
            fkey = (event.platform, event.community, event.group, event.member)
            here_msgs = {k for k, t in self._flood.get(fkey, {}).items() if t > flood_since}
            digest = bh._text_digest(compact) or ""
            ckey = (event.platform, event.community, event.member, digest)
            here_groups = {g for g, t in self._copies.get(ckey, {}).items() if t > copies_since}
            parts.append((fkey, ckey, flood_since, copies_since, here_msgs, here_groups))
            if isinstance(b, bh.SharedBehaviour) and pipe is not None:
                pipe.zrangebyscore(bh._name(b.prefix, "flood", *fkey), f"({flood_since}", "+inf")
                pipe.zrangebyscore(bh._name(b.prefix, "copies", *ckey), f"({copies_since}", "+inf")
        if pipe is not None:
            replies = pipe.execute()
            return [
                bh.Seen(
                    len(here_msgs | {_text(m) for m in replies[2 * i]}),
                    len(here_groups | {_text(g) for g in replies[2 * i + 1]}) if ckey[3] else 0,
                )
                for i, (_, ckey, _, _, here_msgs, here_groups) in enumerate(parts)
            ]
        out = []
        for fkey, ckey, flood_since, copies_since, here_msgs, here_groups in parts:
            # this process's windows, kept by the batch's thread: times only, so both add up
            times = b._times.get(fkey)
            there = sum(1 for t in times if t > flood_since) if isinstance(times, deque) else 0
            seen = b._copies.get(ckey)
            there_g = (
                {g for g, t in seen.items() if t > copies_since}
                if isinstance(seen, dict)
                else set()
            )
            groups = len(here_groups | there_g) if ckey[3] else 0
            out.append(bh.Seen(len(here_msgs) + there, groups))
        return out


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _put(
    windows: OrderedDict[tuple[str, ...], dict[str, float]],
    key: tuple[str, ...],
    member: str,
    now: float,
    seconds: float,
    size: int,
) -> int:
    held = windows.setdefault(key, {})
    windows.move_to_end(key)
    held[member] = now
    for old in [m for m, t in held.items() if t <= now - seconds]:
        del held[old]
    while len(windows) > size:
        windows.popitem(last=False)
    return len(held)


@dataclass(frozen=True)
class Candidate:
    """A message on a platform that cannot delete, whose content a rule says to delete."""

    event: ev.MessagePosted
    norm: Normalized
    findings: list[Finding]
    inspector: Inspector
    community_id: int


_identities = table_of(Identity)
_actions = table_of(ModerationAction)
_MEMBER_IDS = select(_identities.c.platform_user_id, _identities.c.member_id).where(
    _identities.c.community_id == bindparam("community"),
    _identities.c.platform == bindparam("platform"),
    _identities.c.platform_user_id.in_(bindparam("users", expanding=True)),
)
_POINTS = select(
    _actions.c.member_id, _actions.c.key, _actions.c.expires_at, _actions.c.points
).where(
    _actions.c.member_id.in_(bindparam("ids", expanding=True)),
    _actions.c.mode == "live",
    _actions.c.status.in_(COUNTING),
    _actions.c.points > 0,
    _actions.c.expires_at > bindparam("earliest"),
)  # fmt: skip
_TIERS = select(Member.id, _latest_tier).where(Member.id.in_(bindparam("ids", expanding=True)))


class EarlyWarnings:
    """``observe`` every message at receipt (the windows and the tally), then ``decide`` the
    candidates: the batch's warning actions for those it is sure of."""

    def __init__(self, behaviour: bh.Behaviour, language: str) -> None:
        self.language = language
        self.windows = Windows(behaviour)
        self.tally = Tally()

    def observe(
        self, event: ev.MessagePosted, norm: Normalized, acting: list[Finding], rules: Rules
    ) -> None:
        """Count a message that arrived; an offence (content that acts, or a window over its
        threshold) goes to the tally with the most points the batch could give it."""
        seen = self.windows.observe(event, norm.compact, rules)
        worst = [f.severity for f in acting]
        if seen.messages > rules.flooding.max_messages:
            worst.append(rules.flooding.severity)
        if seen.groups > rules.duplicate_across_groups.max_groups:
            worst.append(rules.duplicate_across_groups.severity)
        if worst:
            # the batch counts the worst rule the message broke; any rule it may add counts
            worst += [rules.flooding.severity, rules.duplicate_across_groups.severity]
            worst.append(rules.links.severity)
            self.tally.note(_who(event), event.key, event.occurred_at, float(max(worst)))

    def decide(
        self, conn: Connection, candidates: Sequence[Candidate], *, check_stored: bool = True
    ) -> list[ev.Action]:
        """With ``check_stored`` a message stored already (a redelivery) gets nothing; without,
        the caller's claim on its warning tells (as for early deletes)."""
        sure = [c for c in candidates if self._content_settles(c)]
        sure = self._windows_far(sure)
        if not sure:
            return []
        out: list[ev.Action] = []
        by_place: dict[tuple[int, str], list[Candidate]] = {}
        for c in sure:
            by_place.setdefault((c.community_id, c.event.platform), []).append(c)
        for (cid, platform), group in by_place.items():
            out += self._decide_standing(conn, cid, platform, group, check_stored)
        return out

    # -- what the batch sees and this does not -------------------------------------------
    @staticmethod
    def _content_settles(c: Candidate) -> bool:
        event, rules = c.event, c.inspector.rules
        if event.kind == "image" and event.attachment:
            return False  # the batch decodes it (a QR code may decide)
        for f in c.findings:
            if f.rule == "classifier" and rule_action(rules, f, good_standing=True) != (
                rule_action(rules, f, good_standing=False)
            ):
                return False  # good standing (value, tenure) would decide
        as_newcomer = c.inspector.rule_findings(c.norm, newcomer=True)
        plain = c.inspector.rule_findings(c.norm, newcomer=False)
        return len(as_newcomer) == len(plain)  # a link a newcomer rule might catch

    def _windows_far(self, candidates: list[Candidate]) -> list[Candidate]:
        """The candidates whose flooding and copies windows are far from their thresholds."""
        if not candidates:
            return []
        try:
            seen = self.windows.at_most(
                [(c.event, c.norm.compact, c.inspector.rules) for c in candidates]
            )
        except Exception as exc:  # Redis away: the batch counts, and decides
            log.warning("early warnings: the moderation windows cannot be read (%s)", exc)
            return []
        return [
            c
            for c, s in zip(candidates, seen, strict=True)
            if s.messages <= c.inspector.rules.flooding.max_messages
            and s.groups <= c.inspector.rules.duplicate_across_groups.max_groups
        ]

    # -- the member's points -------------------------------------------------------------
    def _decide_standing(
        self, conn: Connection, cid: int, platform: str, group: list[Candidate], check: bool
    ) -> list[ev.Action]:
        if check:
            stored = stored_keys(conn, {cid: [c.event.key for c in group]})
            group = [c for c in group if (cid, c.event.key) not in stored]  # a redelivery
            if not group:
                return []
        users = sorted({c.event.member for c in group})
        ids = dict(
            conn.execute(_MEMBER_IDS, {"community": cid, "platform": platform, "users": users})
            .tuples()
            .all()
        )
        earliest = min(c.event.occurred_at for c in group)
        points: dict[int, list[tuple[str, datetime, float]]] = {}
        tiers: dict[int, str] = {}
        if ids:
            member_ids = sorted(set(ids.values()))
            for member_id, key, until, p in conn.execute(
                _POINTS, {"ids": member_ids, "earliest": earliest}
            ):
                points.setdefault(member_id, []).append((str(key), until, float(p)))
            tiers = {m: str(t) for m, t in conn.execute(_TIERS, {"ids": member_ids}) if t}
        # offences of this process not stored yet: stored ones are counted by the store
        pending_keys = {k for c in group for k in self.tally.pending(_who(c.event), c.event.key)}
        now_stored = (
            {k for _, k in stored_keys(conn, {cid: sorted(pending_keys)})}
            if pending_keys
            else set()
        )
        out: list[ev.Action] = []
        for c in group:
            who = _who(c.event)
            self.tally.forget(who, now_stored)
            member_id = ids.get(c.event.member)
            tier = tiers.get(member_id) if member_id is not None else None
            at = c.event.occurred_at
            held = points.get(member_id, []) if member_id is not None else []
            done = sum(p for _, until, p in held if _aware(until, at) > at)
            factor = slack(c.inspector.spec.escalation, tier)
            more = sum(
                round(p * factor, 3)
                for k, (when, p) in self.tally.pending(who, c.event.key).items()
                if when + timedelta(days=c.inspector.spec.escalation.points_expire_days) > at
            )
            action = self._warning(c, tier, done, done + more)
            if action is not None:
                out.append(action)
        return out

    def _warning(self, c: Candidate, tier: str | None, low: float, high: float) -> ev.Action | None:
        """The batch's warning when it warns whatever the points in [low, high] are."""
        spec = c.inspector.spec
        escalation = spec.escalation
        decisions = [
            decide(c.findings, spec.rules, escalation, Standing(tier=tier, points=p))
            for p in (low, high)
        ]
        if any(d.sanction != "warn" or not d.delete for d in decisions):
            return None
        first = decisions[0]
        # every rung passed between the two totals warns too (a ladder need not rise)
        lo, hi = low + first.points, high + first.points
        if any(
            lo < step.points <= hi and _MEMBER_PART.get(step.action) not in (None, "warn")
            for step in escalation.ladder
        ):
            return None
        return _warn_of(first, c.event, spec, self.language)


EARLY_WARNING = "early_warning"
"""``detail[EARLY_WARNING]`` is True on a warning sent at receipt. Not ``early.EARLY``: that
puts an action in the executor's first lane, ahead of the group's queued actions, and a
warning is a message paced like any other: in the group's lane, warnings go one after
another. Where the receiving connection can send it at once (``loop_perform``), it goes
there without a lane at all (:meth:`qunzhu.live.executor.Executor.submit_early`)."""


def _warn_of(decision: Decision, event: ev.MessagePosted, spec: Any, lang: str) -> ev.Action | None:
    for action in actions_for(decision, event, spec, lang):
        if action.kind == "warn":
            return ev.Action(
                kind=action.kind,
                platform=action.platform,
                community=action.community,
                group=action.group,
                member=action.member,
                text=action.text,
                reason=action.reason,
                key=action.key,
                detail={**action.detail, EARLY_WARNING: True},
            )
    return None


def _who(event: ev.MessagePosted) -> tuple[str, str, str]:
    return (event.platform, event.community, event.member)


def _aware(value: datetime, like: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    if value.tzinfo is None and like.tzinfo is not None:
        return value.replace(tzinfo=like.tzinfo)
    return value
