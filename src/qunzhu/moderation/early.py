"""Actions that do not wait for the batch: an ad is answered before it is stored.

A live batch resolves members, moderates, writes, scores value and runs the growth reactor
in one transaction; under load that is tens of milliseconds, and the ad stays visible all
that time. The content of a message alone is enough to know that it must be deleted: a
finding whose rule says delete (``delete``, ``delete_warn``, ``remove``, ``blacklist``)
deletes the message whatever the sender's points, unless the sender is protected. So before
the batch runs, it judges each new message on what needs no history —
the content rules, the classifier, mass mentions and marked kinds, never newcomer rules or
the flood counters — and :class:`EarlyDeletes` returns the ``delete_message`` actions of
those that must go. They
carry the same key as the delete the batch will decide (``Action`` keys are made from the
message), so the executor does the delete once and records its outcome on the decision the
batch writes (:meth:`qunzhu.live.executor.Executor.submit_early`).

Where the platform cannot delete but can warn (WeChat: ``notices.warns_early``), the first
answer to an ad is the warning @ the sender: :mod:`qunzhu.moderation.early_warn` returns the
batch's own warning for the ads it is sure the batch will warn (never a third offence that
removes, never a member near a flood threshold), and :mod:`qunzhu.moderation.sent_once`
makes it go out once.

Never more than the batch would do: the findings are a subset of the batch's (same model,
same spec, newcomer rules off), the protected are left alone (``members.protected`` and the
spec's list, read with the spec), and a redelivered message is skipped (already stored, or
its delete already claimed: see :class:`EarlyDeletes`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select

from qunzhu import events as ev
from qunzhu.moderation.behaviour import marked_kinds, mass_mentions
from qunzhu.moderation.decide import _DELETES, rule_action
from qunzhu.moderation.early_warn import Candidate, EarlyWarnings
from qunzhu.moderation.findings import Finding
from qunzhu.moderation.inspect import MAX_CHARS, Inspector
from qunzhu.moderation.moderator import (
    RuleModerator,
    named_protected,
    scores_by_model,
    stored_keys,
)
from qunzhu.moderation.normalize import Normalized, normalize
from qunzhu.moderation.notices import CAN_ACT, warns_early
from qunzhu.store.community import Identity, Member
from qunzhu.store.models import Community

log = logging.getLogger(__name__)
EARLY = "early"
"""``detail[EARLY]`` is True on an action sent before its batch committed."""

_COMMUNITIES = select(Community.slug, Community.id).where(
    Community.slug.in_(bindparam("slugs", expanding=True))
)
# the identities of the members protected in the store, or named by member id in the spec
_GUARDED = (
    select(Identity.platform, Identity.platform_user_id)
    .join(Member, Member.id == Identity.member_id)
    .where(
        Identity.community_id == bindparam("community"),
        or_(Member.protected.is_(True), Member.id.in_(bindparam("named", expanding=True))),
    )
)


@dataclass(frozen=True)
class _Place:
    """What a community's early deletes need, read once per ``spec_ttl``."""

    until: float
    id: int
    inspector: Inspector
    # (platform, platform user id) of the members protected by their flag or by their
    # member id in the spec: named_protected needs no member id then
    guarded: frozenset[tuple[str, str]]

    def protects(self, event: ev.MessagePosted) -> bool:
        return (event.platform, event.member) in self.guarded or named_protected(
            self.inspector.spec, event, None
        )


class EarlyDeletes:
    """Called with the events as they arrive (``early(events)``): the deletes to send now.

    No database read per message: the communities' ids, inspectors and protected members
    are kept for ``spec_ttl`` seconds (a spec edit, or a member protected, reaches early
    deletes within that; the batch always reads them afresh). With ``check_stored`` the
    store is asked whether a message to delete is stored already (a redelivery); without,
    the caller's claim on the delete tells (a Redis ledger: claims live an hour, far longer
    than a platform redelivers)."""

    def __init__(
        self,
        moderator: RuleModerator,
        connect: Any,
        *,
        spec_ttl: float = 2.0,
        check_stored: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.moderator = moderator
        self.connect = connect  # () -> a read-only Connection context manager
        self.spec_ttl = spec_ttl
        self.clock = clock  # what spec_ttl is counted on
        self.check_stored = check_stored
        self._places: dict[str, _Place] = {}
        # warnings at receipt where the platform cannot delete (moderation.early_warn); its
        # windows and tally are shared by the threads that deliver
        self.warnings = EarlyWarnings(moderator.behaviour, moderator.language)
        self._lock = threading.Lock()

    def __call__(self, events: Sequence[Any]) -> list[ev.Action]:
        # where the platform can act, the delete; where it can warn but not delete (WeChat),
        # the warning (moderation.early_warn); elsewhere (WeCom) the batch turns the decision
        # into one alert for the operator, and anything early would be a second
        posted = [
            e
            for e in events
            if isinstance(e, ev.MessagePosted)
            and e.message_id
            and (e.platform in CAN_ACT or warns_early(e.platform))
        ]
        if not posted or self.moderator.mode != "live":
            return []
        places = self._places_of({e.community for e in posted})
        posted = [e for e in posted if e.community in places]
        judged = self._judge(posted, places) if posted else []
        doomed: list[tuple[ev.MessagePosted, str]] = []
        candidates: list[Candidate] = []
        for event, norm, findings, reason in judged:
            place = places[event.community]
            if place.protects(event):
                continue
            if event.platform in CAN_ACT:
                if reason:
                    doomed.append((event, reason))
                continue
            with self._lock:
                self.warnings.observe(event, norm, _acting(findings, place), place.inspector.rules)
            if reason:
                candidates.append(Candidate(event, norm, findings, place.inspector, place.id))
        if doomed and self.check_stored:
            by_community: dict[int, list[str]] = {}
            for e, _ in doomed:
                by_community.setdefault(places[e.community].id, []).append(e.key)
            with self.connect() as conn:
                stored = stored_keys(conn, by_community)
            doomed = [(e, w) for e, w in doomed if (places[e.community].id, e.key) not in stored]
        out = [
            ev.Action(
                kind="delete_message",
                platform=event.platform,
                community=event.community,
                group=event.group,
                member=event.member,
                message_id=event.message_id,
                reason=reason,
                detail={EARLY: True, "event": event.key},
            )
            for event, reason in doomed
        ]
        if candidates:
            try:
                with self._lock, self.connect() as conn:
                    warnings = self.warnings.decide(
                        conn, candidates, check_stored=self.check_stored
                    )
                sent_once = self.moderator.sent_once
                if sent_once is not None:  # the batch's twin stays back (moderation.sent_once)
                    sent_once.plan([a.key for a in warnings])
                out += warnings
            except Exception:  # the store or Redis away: the batch warns, a little later
                log.exception("deciding early warnings failed")
        return out

    def warm(self, slugs: set[str]) -> None:
        """Read the specs and run every detector once, so the first updates after a start
        are not the ones that pay for loading them."""
        places = self._places_of(slugs)
        sample = [
            ev.MessagePosted(
                platform="telegram",
                community=slug,
                group="warm",
                member="warm",
                occurred_at=datetime.now(UTC),
                message_id="1",
                text="加 薇 信 abc123 了解 https://t.me/joinchat/x 赚钱",
            )
            for slug in places
        ]
        if sample:
            self._doomed(sample, places)

    def _places_of(self, slugs: set[str]) -> dict[str, _Place]:
        now = self.clock()
        stale = {s for s in slugs if (p := self._places.get(s)) is None or p.until < now}
        if stale:
            with self.connect() as conn:
                ids = dict(conn.execute(_COMMUNITIES, {"slugs": sorted(stale)}).all())
                inspectors = self.moderator.inspectors(conn, set(ids.values())) if ids else {}
                for slug in stale - ids.keys():
                    self._places.pop(slug, None)
                for slug, cid in ids.items():
                    self._places[slug] = _place(conn, cid, inspectors[cid], now + self.spec_ttl)
        return {s: self._places[s] for s in slugs if s in self._places}

    def _judge(
        self, posted: list[ev.MessagePosted], places: dict[str, _Place]
    ) -> list[tuple[ev.MessagePosted, Normalized, list[Finding], str]]:
        """Each message's findings from content alone, and why it must go ('' when it need
        not), as if the sender were in good standing: the batch, which knows, may only flag
        a classifier score that is not very sure, and an early action never does more."""
        norms = [normalize(e.text[:MAX_CHARS]) for e in posted]
        # the classifier is asked only where its finding could act early: where the spec
        # lets it flag or allow, its score cannot make an early delete or warning
        scored = [
            i
            for i, e in enumerate(posted)
            if _classifier_acts(places[e.community].inspector, e.platform in CAN_ACT)
        ]
        scores = [0.0] * len(posted)
        if scored:
            models = [places[posted[i].community].inspector.model for i in scored]
            found = scores_by_model(models, [norms[i] for i in scored])
            for i, score in zip(scored, found, strict=True):
                scores[i] = score
        judged: list[tuple[ev.MessagePosted, Normalized, list[Finding], str]] = []
        for event, norm, score in zip(posted, norms, scores, strict=True):
            inspector = places[event.community].inspector
            rules = inspector.rules
            findings = inspector.content(norm, float(score), newcomer=False)
            findings += mass_mentions(event, rules)
            findings += marked_kinds(event, rules)
            acting = [f for f in findings if rule_action(rules, f, good_standing=True) in _DELETES]
            reason = ""
            if acting:
                main = max(acting, key=lambda f: (f.severity, f.score))
                reason = f"{main.rule}: {main.detector}"
            judged.append((event, norm, findings, reason))
        return judged

    def _doomed(
        self, posted: list[ev.MessagePosted], places: dict[str, _Place]
    ) -> list[tuple[ev.MessagePosted, str]]:
        return [(e, why) for e, _, _, why in self._judge(posted, places) if why]


def _place(conn: Connection, cid: int, inspector: Inspector, until: float) -> _Place:
    spec = inspector.spec
    named = sorted({int(n) for n in spec.escalation.protected if n.isdigit()})
    rows = conn.execute(_GUARDED, {"community": cid, "named": named})
    guarded = frozenset((str(platform), str(user)) for platform, user in rows)
    return _Place(until=until, id=cid, inspector=inspector, guarded=guarded)


def _classifier_acts(inspector: Inspector, deletes: bool) -> bool:
    """Whether a classifier score could make an early action: a delete where the platform
    deletes; where it only warns, any sanction (one the batch would add must be seen)."""
    clf = inspector.rules.classifier
    if clf.threshold_act > 1.0:
        return False
    return clf.action in _DELETES if deletes else clf.action not in ("allow", "flag")


def _acting(findings: list[Finding], place: _Place) -> list[Finding]:
    """The findings that act on a member not in good standing (the harsher reading)."""
    rules = place.inspector.rules
    return [f for f in findings if rule_action(rules, f) not in ("allow", "flag")]
