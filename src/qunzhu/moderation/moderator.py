"""The pipeline's moderation stage: decide on each new message inside the batch transaction.

``RuleModerator`` is a :class:`qunzhu.pipeline.Moderator`. For a chunk of resolved items it
reads each community's spec and each sender's standing (tier, protection, join time,
unexpired points, value: see :func:`in_good_standing`), judges the messages in time order
(a member's second breach in the same chunk sees the first one's points), and returns:

- ``flagged``: keys of the messages that broke a rule or wait for review;
- ``actions``: what the adapters carry out (live mode), or nothing (audit mode);
- ``after_store``: writes one ``moderation_actions`` row per decision, with rule, detector,
  evidence, score and points, once the messages have their ids.

Audit mode (imports of history) decides the same way, keeps its own points ledger
(``mode = 'audit'``) and acts on nothing; ``tally`` counts what would have been done.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, bindparam, select

from qunzhu import events as ev
from qunzhu.moderation.behaviour import Behaviour, behaviour_for
from qunzhu.moderation.classifier import ModelError, SpamModel, load_model
from qunzhu.moderation.decide import Decision, Standing
from qunzhu.moderation.findings import safe_text
from qunzhu.moderation.inspect import MAX_CHARS, Inspector, default_spec
from qunzhu.moderation.normalize import Normalized, normalize
from qunzhu.moderation.notices import CAN_ACT, actions_for
from qunzhu.moderation.sent_once import SentOnce
from qunzhu.settings import Settings
from qunzhu.spec.loader import load_spec
from qunzhu.spec.problems import SpecError
from qunzhu.spec.schema import CommunitySpec
from qunzhu.stages import ModerationOutcome
from qunzhu.store.base import table_of
from qunzhu.store.batch import Resolved, Written
from qunzhu.store.bulk import insert_ignoring_conflicts
from qunzhu.store.intelligence import MemberValue
from qunzhu.store.models import (
    Member,
    Membership,
    Message,
    ModerationAction,
    TierChange,
)
from qunzhu.store.resolve import community_specs

_log = logging.getLogger(__name__)
Mode = Literal["live", "audit"]
COUNTING = ("applied", "alerted", "approved", "audited")
"""Statuses whose points count on the ladder (undone and pending ones do not)."""


@dataclass
class _Ledger:
    """Unexpired points per member: (expires_at, points) pairs, added to as we go."""

    entries: dict[int, list[tuple[datetime, float]]] = field(default_factory=dict)

    def total(self, member_id: int, at: datetime) -> float:
        return sum(p for until, p in self.entries.get(member_id, []) if until > at)

    def add(self, member_id: int, until: datetime, points: float) -> None:
        self.entries.setdefault(member_id, []).append((until, points))


class RuleModerator:
    def __init__(
        self,
        *,
        mode: Mode = "live",
        model: SpamModel | None = None,
        language: str = "zh-CN",
        behaviour: Behaviour | None = None,
        sent_once: SentOnce | None = None,
    ) -> None:
        self.mode: Mode = mode
        # warnings sent at receipt (moderation.early_warn): the batch's twin is not handed on
        self.sent_once = sent_once
        self.model = model or load_model()
        self.language = language
        self.behaviour = behaviour or Behaviour()
        self.tally: Counter[tuple[str, str]] = Counter()
        self._inspectors: dict[int, tuple[str | None, Inspector]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> RuleModerator:
        """The live moderator: the model of ``QUNZHU_MODERATION_MODEL`` (else the shipped
        one), flooding and duplicate windows shared through ``QUNZHU_REDIS_URL`` when set."""
        path = settings.moderation_model
        try:
            model = load_model(Path(path) if path else None)
        except ModelError as exc:
            raise ModelError(f"QUNZHU_MODERATION_MODEL: {exc}") from None
        return cls(
            model=model,
            language=settings.language,
            behaviour=behaviour_for(settings.redis_url),
            sent_once=SentOnce.of(settings),
        )

    def inspector(self, conn: Connection, community_id: int) -> Inspector:
        return self.inspectors(conn, [community_id])[community_id]

    def inspectors(self, conn: Connection, community_ids: Iterable[int]) -> dict[int, Inspector]:
        """One Inspector per community, rebuilt only when its stored spec text changed (the
        spec is read once per transaction, so an edit is seen by the next batch)."""
        wanted = set(community_ids)
        rows = community_specs(conn, wanted)
        out: dict[int, Inspector] = {}
        for community_id in wanted:
            row = rows.get(community_id)
            if row is None:
                raise LookupError(f"community id {community_id} does not exist")
            cached = self._inspectors.get(community_id)
            if cached is not None and cached[0] == row.spec_yaml:
                out[community_id] = cached[1]
                continue
            spec = _spec_of(row.slug, row.spec_yaml)
            made = Inspector(spec, self._model_for(spec))
            self._inspectors[community_id] = (row.spec_yaml, made)
            out[community_id] = made
        return out

    def _model_for(self, spec: CommunitySpec) -> SpamModel:
        """The community's own model when its spec names one (a layer trained from its
        reviews), else the process's. A file that cannot be read must not stop moderation:
        the process's model judges, and the problem is logged."""
        path = spec.rules.classifier.model
        if not path:
            return self.model
        try:
            return _community_model(path)
        except ModelError as exc:
            _log.warning("rules.classifier.model of %s: %s; the default judges", spec.name, exc)
            return self.model

    def __call__(self, conn: Connection, items: Sequence[Resolved]) -> ModerationOutcome:
        messages = [r for r in items if isinstance(r.event, ev.MessagePosted)]
        messages = _not_stored(conn, messages)
        if not messages:
            return ModerationOutcome()
        messages.sort(key=lambda r: r.event.occurred_at)
        standing = _standing(conn, messages, self.mode)
        events = [r.event for r in messages if isinstance(r.event, ev.MessagePosted)]
        norms = [normalize(e.text[:MAX_CHARS]) for e in events]
        outcome = ModerationOutcome()
        rows: list[dict[str, Any]] = []
        inspectors = self.inspectors(conn, {r.community_id for r in messages})
        models = [inspectors[r.community_id].model for r in messages]
        scores = scores_by_model(models, norms)
        self.behaviour.prepare(
            [
                (event, norm.compact, inspectors[r.community_id].rules)
                for r, event, norm in zip(messages, events, norms, strict=True)
            ]
        )
        signs = _screen(inspectors, [r.community_id for r in messages], norms)
        for r, event, norm, score, sign in zip(messages, events, norms, scores, signs, strict=True):
            inspector = inspectors[r.community_id]
            spec = inspector.spec
            member = standing.of(r, event, spec)
            judged = inspector.judge(event, norm, float(score), member, self.behaviour, signs=sign)
            decision = judged.decision
            if decision.action == "allow":
                continue
            outcome.flagged.add(event.key)
            expires = event.occurred_at + timedelta(days=spec.escalation.points_expire_days)
            if decision.points:
                standing.ledger.add(r.member_id, expires, decision.points)
            rows.append(self._row(r, event, decision, expires))
            if self.mode == "audit":
                self.tally[(decision.main.rule if decision.main else "", decision.action)] += 1
            else:
                outcome.actions.extend(actions_for(decision, event, spec, self.language))
        twins: dict[str, str] = {}
        if self.sent_once is not None and outcome.actions:
            twins = _early_warnings_done(outcome, rows, self.sent_once)
        outcome.after_store = _writer(rows, twins, self.sent_once)
        return outcome

    def _row(
        self, r: Resolved, event: ev.MessagePosted, decision: Decision, expires: datetime
    ) -> dict[str, Any]:
        main = decision.main
        if self.mode == "audit":
            status = "audited"
        elif decision.action == "flag":
            status = "pending_review"
        else:
            status = "applied" if event.platform in CAN_ACT else "alerted"
        return {
            "community_id": r.community_id,
            "group_id": r.group_id,
            "member_id": r.member_id,
            "message_id": None,
            "key": event.key,
            "action": decision.action,
            "rule": main.rule if main else "",
            "detector": main.detector if main else "",
            "evidence": {
                "text": safe_text(event.text, 2000),
                "findings": [f.as_dict() for f in decision.findings],
                "sanction": decision.sanction,
                "duration_minutes": decision.duration_minutes,
                "delete": decision.delete,
                "total_points": decision.total_points,
                "platform": event.platform,
                "community": event.community,
                "group": event.group,
                "member": event.member,
                "message_id": event.message_id,
            },
            "score": float(main.score if main else decision.score),
            "points": decision.points,
            "status": status,
            "mode": self.mode,
            "expires_at": expires if decision.points else None,
            "created_at": event.occurred_at,
            "outcome": None,
            "carried_out_at": None,
        }

    def report(self) -> list[dict[str, Any]]:
        """Audit mode: what would have been done, per rule and action."""
        return [
            {"rule": rule, "action": action, "count": count}
            for (rule, action), count in sorted(self.tally.items(), key=lambda kv: -kv[1])
        ]


def _early_warnings_done(
    outcome: ModerationOutcome, rows: list[dict[str, Any]], sent_once: SentOnce
) -> dict[str, str]:
    """Leave out the warnings whose early twin is on its way or went out (moderation.
    early_warn); their message keys → their warning keys, whose outcome the writer puts on
    the decisions (the executor reports the twin's by the message's key too, once stored)."""
    taken = sent_once.taken(outcome.actions)
    if not taken:
        return {}
    twins = {str(a.detail["event"]): a.key for a in outcome.actions if a.key in taken}
    outcome.actions = [a for a in outcome.actions if a.key not in taken]
    return twins


def scores_by_model(models: Sequence[SpamModel], norms: Sequence[Normalized]) -> list[float]:
    """Each message scored by its own model, every model once over all of its messages."""
    out = [0.0] * len(norms)
    groups: dict[int, list[int]] = {}
    for i, model in enumerate(models):
        groups.setdefault(id(model), []).append(i)
    for places in groups.values():
        found = models[places[0]].scores_of([norms[i] for i in places])
        for i, score in zip(places, found.tolist(), strict=True):
            out[i] = float(score)
    return out


def _community_model(path: str) -> SpamModel:
    """Read again when the file changes (a layer retrained in place)."""
    try:
        changed = Path(path).stat().st_mtime_ns
    except OSError as exc:
        raise ModelError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return _read_model(path, changed)


@lru_cache(maxsize=32)
def _read_model(path: str, changed: int) -> SpamModel:
    return load_model(Path(path))


def _screen(
    inspectors: dict[int, Inspector], communities: list[int], norms: list[Normalized]
) -> list[bool]:
    """Inspector.screen per community (each has its own word list), back in batch order."""
    out = [True] * len(norms)
    for community_id, inspector in inspectors.items():
        places = [i for i, c in enumerate(communities) if c == community_id]
        for i, sign in zip(places, inspector.screen([norms[i] for i in places]), strict=True):
            out[i] = sign
    return out


def _spec_of(slug: str, text: str | None) -> CommunitySpec:
    if not text:
        return default_spec(slug)
    try:
        return load_spec(text)
    except SpecError:
        # a broken stored spec must not stop moderation: the defaults are the safe rules
        return default_spec(slug)


def _not_stored(conn: Connection, messages: list[Resolved]) -> list[Resolved]:
    """Messages whose key is not in the store yet (a re-run decides nothing twice)."""
    if not messages:
        return []
    by_community: dict[int, list[str]] = {}
    for r in messages:
        by_community.setdefault(r.community_id, []).append(r.event.key)
    stored = stored_keys(conn, by_community)
    return [r for r in messages if (r.community_id, r.event.key) not in stored]


def stored_keys(conn: Connection, by_community: dict[int, list[str]]) -> set[tuple[int, str]]:
    """(community id, key) of the given message keys already stored. Looked up per
    community: the unique index is (community_id, key), and a lookup by key alone would
    walk the whole index on SQLite."""
    stored: set[tuple[int, str]] = set()
    for community_id, keys in by_community.items():
        for start in range(0, len(keys), 500):
            found = conn.scalars(
                _STORED_KEYS, {"community": community_id, "keys": keys[start : start + 500]}
            )
            stored.update((community_id, key) for key in found)
    return stored


def named_protected(spec: CommunitySpec, event: ev.MessagePosted, member_id: int | None) -> bool:
    """The spec's ``escalation.protected`` names the sender: by platform id, member id or
    display name."""
    names = {event.member, event.member_name}
    if member_id is not None:
        names.add(str(member_id))
    return bool(set(spec.escalation.protected) & names)


@dataclass
class _Standings:
    ledger: _Ledger
    tiers: dict[int, str]
    protected: set[int]
    joined: dict[tuple[int, int], datetime]
    first_seen: dict[int, datetime]
    values: dict[int, float] = field(default_factory=dict)

    def of(self, r: Resolved, event: ev.MessagePosted, spec: CommunitySpec) -> Standing:
        protected = r.member_id in self.protected or named_protected(spec, event, r.member_id)
        joined = self.joined.get((r.group_id, r.member_id), self.first_seen.get(r.member_id))
        points = self.ledger.total(r.member_id, event.occurred_at)
        tier = self.tiers.get(r.member_id)
        return Standing(
            tier=tier,
            protected=protected,
            joined_at=joined,
            points=points,
            good_standing=in_good_standing(
                spec, event.occurred_at, joined, points, self.values.get(r.member_id, 0.0), tier
            ),
        )


def in_good_standing(
    spec: CommunitySpec,
    at: datetime,
    joined_at: datetime | None,
    points: float,
    value: float,
    tier: str | None,
) -> bool:
    """No unexpired points, and one sign of a real member: value earned in the community,
    ``classifier.good_standing_days`` since joining, or a tier the spec trusts (slack < 1)."""
    if points > 0:
        return False
    days = spec.rules.classifier.good_standing_days
    tenured = joined_at is not None and (at - joined_at).total_seconds() >= days * 86_400
    trusted = tier is not None and spec.escalation.tier_slack.get(tier, 1.0) < 1.0
    return tenured or value > 0 or trusted


# Built once: every live batch runs them, and building a statement and its cache key cost
# several times the query itself.
_messages = table_of(Message)
_STORED_KEYS = select(_messages.c.key).where(
    _messages.c.community_id == bindparam("community"),
    _messages.c.key.in_(bindparam("keys", expanding=True)),
)
_actions = table_of(ModerationAction)
_LEDGER = select(_actions.c.member_id, _actions.c.expires_at, _actions.c.points).where(
    _actions.c.member_id.in_(bindparam("ids", expanding=True)),
    _actions.c.mode == bindparam("mode"),
    _actions.c.status.in_(COUNTING),
    _actions.c.points > 0,
    _actions.c.expires_at > bindparam("earliest"),
)
_latest_tier = (
    select(TierChange.tier)
    .where(TierChange.member_id == Member.id)
    .order_by(TierChange.changed_at.desc(), TierChange.id.desc())
    .limit(1)
    .scalar_subquery()
)
# the member, its latest tier and its memberships in one read (was three)
_MEMBERS = (
    select(
        Member.id,
        Member.protected,
        Member.first_seen_at,
        _latest_tier,
        Membership.group_id,
        Membership.joined_at,
        MemberValue.value,
    )
    .select_from(Member)
    .outerjoin(Membership, Membership.member_id == Member.id)
    .outerjoin(MemberValue, MemberValue.member_id == Member.id)
    .where(Member.id.in_(bindparam("ids", expanding=True)))
)


def _standing(conn: Connection, messages: list[Resolved], mode: Mode) -> _Standings:
    member_ids = sorted({r.member_id for r in messages})
    earliest = min(r.event.occurred_at for r in messages)
    ledger = _Ledger()
    tiers: dict[int, str] = {}
    protected: set[int] = set()
    joined: dict[tuple[int, int], datetime] = {}
    first_seen: dict[int, datetime] = {}
    values: dict[int, float] = {}
    for start in range(0, len(member_ids), 500):
        ids = member_ids[start : start + 500]
        params = {"ids": ids, "mode": mode, "earliest": earliest}
        for member_id, until, points in conn.execute(_LEDGER, params):
            ledger.add(member_id, until, points)
        for member_id, is_protected, first, tier, group_id, at, value in conn.execute(
            _MEMBERS, {"ids": ids}
        ):
            if value is not None:
                values[member_id] = float(value)
            if is_protected:
                protected.add(member_id)
            if first is not None:
                first_seen[member_id] = first
            if tier is not None:
                tiers[member_id] = tier
            if group_id is not None and at is not None:
                joined[(group_id, member_id)] = at
    return _Standings(ledger, tiers, protected, joined, first_seen, values)


def _writer(rows: list[dict[str, Any]], twins: dict[str, str], sent_once: SentOnce | None) -> Any:
    def write(conn: Connection, written: Written) -> None:
        done = sent_once.outcomes(list(twins.values())) if twins and sent_once else {}
        now = datetime.now(UTC)
        fresh = []
        for row in rows:
            if row["key"] not in written.message_ids:
                continue
            row = dict(row, message_id=written.message_ids[row["key"]])
            early = done.get(twins.get(row["key"], ""))
            if early is not None:  # the warning went at receipt: what came of it
                row["outcome"] = early
                row["carried_out_at"] = now if early == "sent" else None
            fresh.append(row)
        insert_ignoring_conflicts(conn, table_of(ModerationAction), fresh)

    return write
