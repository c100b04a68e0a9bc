"""From findings to a decision, by the rules and the escalation ladder in the spec.

A pure function: findings, the member's standing (tier, protection, unexpired points) and
the spec in; a :class:`Decision` out. One message is one breach: the finding whose rule
acts hardest decides, and its severity (times the tier's slack) adds the points. The
ladder then names the sanction for the member's new total; the harsher of that and the
rule's own action wins. Less sure findings (below ``ACT_SCORE``, or a classifier score
between ``threshold_flag`` and ``threshold_act``) only flag the message for review.

Sanctions follow the evidence: a classifier score is a probability, not evidence a member
can be shown. For a member in good standing (see :class:`Standing`) a classifier finding
alone acts only from ``classifier.threshold_act_good_standing``; below it the message is
flagged for review, from ``classifier.threshold_flag_good_standing``. Rule detectors with
evidence (a contact offer, an invitation, a QR code, a banned word) act as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from qunzhu.moderation.classifier import SPAM_SCORE
from qunzhu.moderation.findings import ACT_SCORE, Finding
from qunzhu.spec.base import ACTION_ORDER
from qunzhu.spec.rules import Escalation, EscalationStep, Rules

CONTENT_RULES = frozenset(
    {
        "ads",
        "classifier",
        "banned_words",
        "contact_solicitation",
        "group_invites",
        "qr_codes",
        "contact_cards",
    }
)
"""Rules about what a message says or carries: they make a message spam in ``check``."""


_MEMBER_PART = {
    "delete_warn": "warn",
    "warn": "warn",
    "mute": "mute",
    "remove": "remove",
    "blacklist": "blacklist",
}
_SANCTIONS = frozenset(_MEMBER_PART.values())
_DEFAULT_MUTE_MINUTES = 10
_DELETES = frozenset({"delete", "delete_warn", "remove", "blacklist"})


@dataclass(frozen=True, slots=True)
class Standing:
    """What moderation knows about the member when the message arrives."""

    tier: str | None = None
    protected: bool = False
    joined_at: datetime | None = None
    points: float = 0.0  # unexpired points before this message
    # no unexpired points, and value earned or ``classifier.good_standing_days`` of tenure
    # (worked out by the moderator, which knows the message's time and the member's value)
    good_standing: bool = False


@dataclass(slots=True)
class Decision:
    """Not frozen: one is made per message, and a frozen dataclass costs several times as
    much to build (every field set through ``object.__setattr__``). Treat it as read-only."""

    action: str  # allow | flag | delete | delete_warn | warn | mute | remove | blacklist
    findings: list[Finding] = field(default_factory=list)
    main: Finding | None = None
    delete: bool = False
    sanction: str | None = None  # warn | mute | remove | blacklist
    duration_minutes: int | None = None
    points: float = 0.0
    total_points: float = 0.0
    protected: bool = False
    score: float = 0.0  # classifier score

    @property
    def spam(self) -> bool:
        """Whether the content itself is an ad or spam (what ``eval`` measures)."""
        return is_spam(self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.action,
            "spam": self.spam,
            "score": round(self.score, 4),
            "rule": self.main.rule if self.main else None,
            "detector": self.main.detector if self.main else None,
            "delete": self.delete,
            "sanction": self.sanction,
            "duration_minutes": self.duration_minutes,
            "points": self.points,
            "total_points": self.total_points,
            "protected": self.protected,
            "findings": [f.as_dict() for f in self.findings],
        }


def is_spam(findings: Sequence[Finding]) -> bool:
    """Whether these findings call the content itself an ad or spam: what
    :attr:`Decision.spam` says of any decision made on them (:func:`decide` keeps every
    finding, in another order), without making one."""
    if not findings:
        return False  # most messages: no generator to start
    return any(
        f.rule in CONTENT_RULES
        and f.score >= (_spam_at(f) if f.rule == "classifier" else ACT_SCORE)
        for f in findings
    )


def _spam_at(finding: Finding) -> float:
    value = finding.detail.get("spam_threshold", SPAM_SCORE)
    return float(value) if isinstance(value, int | float) else SPAM_SCORE


def rule_action(rules: Rules, finding: Finding, *, good_standing: bool = False) -> str:
    """What the spec says to do about one finding (``good_standing``: of a member in good
    standing, whom a classifier score alone sanctions only when it is very sure)."""
    if finding.rule == "classifier":
        clf = rules.classifier
        act_at, flag_at = clf.threshold_act, clf.threshold_flag
        if good_standing:
            act_at = max(act_at, clf.threshold_act_good_standing)
            flag_at = max(flag_at, clf.threshold_flag_good_standing)
        if finding.score >= act_at:
            return clf.action
        return "flag" if finding.score >= flag_at else "allow"
    if finding.rule == "links":
        action = "delete_warn"
    else:
        action = str(getattr(getattr(rules, finding.rule, None), "action", "delete_warn"))
    if action != "allow" and finding.score < ACT_SCORE:
        return "flag"
    return action


_RANKS: dict[str, int] = {action: rank for rank, action in enumerate(ACTION_ORDER)}


def _rank(action: str) -> int:
    return _RANKS.get(action, 0)


def slack(escalation: Escalation, tier: str | None) -> float:
    return escalation.tier_slack.get(tier, 1.0) if tier else 1.0


def decide(
    findings: list[Finding],
    rules: Rules,
    escalation: Escalation,
    standing: Standing,
    *,
    score: float = 0.0,
) -> Decision:
    if not findings:
        return Decision("allow", score=score, total_points=standing.points)
    judged = _ranked(findings, rules, standing.good_standing)
    main, action = judged[0]
    ranked = [f for f, _ in judged]
    points_before = standing.points
    if action == "allow":
        return Decision("allow", ranked, main, score=score, total_points=points_before)
    if standing.protected:
        return Decision(
            "allow", ranked, main, protected=True, score=score, total_points=points_before
        )
    if action == "flag":
        return Decision("flag", ranked, main, score=score, total_points=points_before)
    acting = [(f, a) for f, a in judged if a not in ("allow", "flag")]
    # one message is one breach: the worst severity among the rules it broke counts
    severity = max(f.severity for f, _ in acting)
    points = round(severity * slack(escalation, standing.tier), 3)
    total = points_before + points
    step = escalation.step_for(total) if points > 0 else None
    actions = [a for _, a in acting]
    sanction, minutes = _sanction(actions, step, escalation)
    delete = not _DELETES.isdisjoint(actions) or sanction in ("remove", "blacklist")
    final = action if sanction is None else max((action, sanction), key=_rank)
    if delete and final == "warn":
        final = "delete_warn"  # the message goes too: say so in one word
    return Decision(
        final,
        ranked,
        main,
        delete=delete,
        sanction=sanction,
        duration_minutes=minutes,
        points=points,
        total_points=total,
        score=score,
    )


def _ranked(findings: list[Finding], rules: Rules, good: bool) -> list[tuple[Finding, str]]:
    """(finding, action) pairs, hardest first.

    The hardest action decides; between equals, a rule's evidence explains better than a
    classifier score. Sorted by key alone: the sort is stable (reverse too), so equal keys
    keep the findings' order. Each finding's action is worked out once."""
    if len(findings) == 1:  # most messages with a finding: nothing to rank
        return [(findings[0], rule_action(rules, findings[0], good_standing=good))]
    ranks = _RANKS
    keyed: list[tuple[tuple[int, bool, int, float], Finding, str]] = []
    for f in findings:
        action = rule_action(rules, f, good_standing=good)
        key = (ranks.get(action, 0), f.rule != "classifier", f.severity, f.score)
        keyed.append((key, f, action))
    keyed.sort(key=itemgetter(0), reverse=True)
    return [(f, action) for _, f, action in keyed]


def _sanction(
    actions: list[str], step: EscalationStep | None, escalation: Escalation
) -> tuple[str | None, int | None]:
    own = [part for a in actions if (part := _MEMBER_PART.get(a))]
    ladder = step.action if step is not None and step.action in _SANCTIONS else None
    if not own and ladder == "warn":
        ladder = None  # a silent delete stays silent until the ladder says more than warn
    choices = [*own, *([ladder] if ladder else [])]
    if not choices:
        return None, None
    sanction = max(choices, key=_rank)
    minutes = None
    if sanction == "mute":
        if ladder == "mute" and step is not None and step.duration_minutes:
            minutes = step.duration_minutes
        else:
            minutes = next(
                (
                    s.duration_minutes
                    for s in escalation.ladder
                    if s.action == "mute" and s.duration_minutes
                ),
                _DEFAULT_MUTE_MINUTES,
            )
    return sanction, minutes
