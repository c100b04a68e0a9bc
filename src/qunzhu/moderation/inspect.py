"""One community's detectors, ready to run: the spec's rules, its word list, the model.

``Inspector.check`` judges one text alone (``qunzhu moderation check``, ``eval``);
``Inspector.inspect`` judges a batch of messages with their senders' standing and the
behaviour windows (the pipeline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qunzhu.events import MessagePosted
from qunzhu.moderation.behaviour import Behaviour, is_newcomer, marked_kinds, mass_mentions
from qunzhu.moderation.classifier import SpamModel, load_model
from qunzhu.moderation.content import (
    WordList,
    has_contact,
    has_invite,
    has_words,
    scan_contacts,
    scan_invites,
    scan_links,
    scan_words,
    screen,
    words_for,
)
from qunzhu.moderation.decide import Decision, Standing, decide
from qunzhu.moderation.findings import Finding, safe_text
from qunzhu.moderation.normalize import Normalized, normalize
from qunzhu.moderation.ordinary import set_aside
from qunzhu.moderation.qr import scan_image
from qunzhu.spec.schema import CommunitySpec

MAX_CHARS = 50_000
"""Detection reads this much of a message; the rest of a giant message is not scanned."""


def default_spec(name: str = "community") -> CommunitySpec:
    return CommunitySpec(name=name, purpose="(no spec stored)")


@dataclass
class Judged:
    norm: Normalized
    decision: Decision
    skipped: str | None = None  # why an attachment was not decoded


class Inspector:
    def __init__(self, spec: CommunitySpec | None = None, model: SpamModel | None = None):
        self.spec = spec or default_spec()
        self.rules = self.spec.rules
        self.words: WordList = words_for(self.rules)
        self.model = model or load_model()
        # below this score the classifier adds no finding: worked out once, not per message
        self._quiet_below = min(self.rules.classifier.threshold_flag, *self.model.thresholds)
        # links allowed to everyone: scan_links finds nothing in an established member's text
        self._links_free = self.rules.links.allowed

    def rule_findings(
        self, norm: Normalized, *, newcomer: bool, signs: bool = True
    ) -> list[Finding]:
        """What the rule detectors find in the text (everything but the classifier).
        ``signs=False`` (from :meth:`screen`) skips the detectors that cannot find anything."""
        rules = self.rules
        out: list[Finding] = []
        if signs:
            out += scan_words(norm, rules, self.words)
            out += scan_invites(norm, rules)
            out += scan_contacts(norm, rules)
        out += scan_links(norm, rules, newcomer=newcomer)
        return out

    def screen(self, norms: Sequence[Normalized]) -> list[bool]:
        """The ``signs`` of each message of a batch, found in one pass."""
        return screen(norms, self.words)

    def content(
        self, norm: Normalized, score: float, *, newcomer: bool, signs: bool = True
    ) -> list[Finding]:
        if score < self._quiet_below and not signs and self._links_free and not newcomer:
            return []  # most messages: no detector can find anything (see rule_findings)
        rules = self.rules
        out = self.rule_findings(norm, newcomer=newcomer, signs=signs)
        reading = self._classifier_reading(norm, score)
        if reading is None:
            return out
        spam_at = self.model.spam_threshold(norm.compact)
        if reading >= min(rules.classifier.threshold_flag, spam_at):
            out.append(
                Finding(
                    rule="classifier",
                    detector="classifier",
                    severity=rules.classifier.severity,
                    score=reading,
                    evidence=safe_text(norm.original, 300),
                    detail={"spam_threshold": spam_at},
                )
            )
        return out

    def spam_verdict(self, norm: Normalized, score: float, *, signs: bool = True) -> bool:
        """``is_spam(self.content(norm, score, newcomer=False, signs=signs))``, without the
        findings' evidence (``eval`` wants the verdict alone). Every finding of the word,
        invitation and contact detectors is a content rule's, sure enough to call spam
        (ACT_SCORE); a link finding never is; the classifier's is where the score, after
        :meth:`_without_ordinary`, reaches the spam threshold."""
        if signs and (has_words(norm, self.words) or has_invite(norm) or has_contact(norm)):
            return True
        reading = self._classifier_reading(norm, score)
        return reading is not None and reading >= self.model.spam_threshold(norm.compact)

    def _classifier_reading(self, norm: Normalized, score: float) -> float | None:
        """The score :meth:`content` judges the classifier's finding by (that of the text
        beside its ordinary parts), or None where it is too low for any finding."""
        if score < self._quiet_below:
            return None
        score = self._without_ordinary(norm, score)
        return None if score < self._quiet_below else score

    def _without_ordinary(self, norm: Normalized, score: float) -> float:
        """The classifier's score of what the member wrote beside code, logs, links to
        well-known hosts and the names addressed (:mod:`qunzhu.moderation.ordinary`)."""
        rest = set_aside(norm.original, self.rules.links.allow_domains)
        if rest is None:
            return score
        if not rest:
            return 0.0
        return float(self.model.scores_of([normalize(rest)])[0])

    def scores(self, norms: Sequence[Normalized]) -> list[float]:
        scores: list[float] = self.model.scores_of(norms).tolist()
        return scores

    def check(self, text: str, standing: Standing | None = None) -> Decision:
        norm = normalize(text[:MAX_CHARS])
        score = self.scores([norm])[0]
        findings = self.content(norm, score, newcomer=False)
        return decide(
            findings, self.rules, self.spec.escalation, standing or Standing(), score=score
        )

    def inspect(
        self,
        events: Sequence[MessagePosted],
        standings: Sequence[Standing],
        behaviour: Behaviour,
    ) -> list[Judged]:
        """Findings and a decision per message, in order; ``standings`` are updated by the
        caller between messages of the same member (see :class:`RuleModerator`)."""
        norms = [normalize(e.text[:MAX_CHARS]) for e in events]
        scores = self.scores(norms)
        signs = self.screen(norms)
        behaviour.prepare([(e, n.compact, self.rules) for e, n in zip(events, norms, strict=True)])
        return [
            self.judge(event, norm, score, standing, behaviour, signs=sign)
            for event, norm, score, standing, sign in zip(
                events, norms, scores, standings, signs, strict=True
            )
        ]

    def judge(
        self,
        event: MessagePosted,
        norm: Normalized,
        score: float,
        standing: Standing,
        behaviour: Behaviour,
        *,
        signs: bool = True,
    ) -> Judged:
        rules = self.rules
        newcomer = is_newcomer(standing.joined_at, event.occurred_at, rules)
        findings = self.content(norm, score, newcomer=newcomer, signs=signs)
        findings += behaviour.observe(event, norm.compact, rules)
        findings += mass_mentions(event, rules)
        findings += marked_kinds(event, rules)
        skipped = None
        if event.kind == "image" and event.attachment:
            qr_findings, skipped = scan_image(event.attachment, rules)
            findings += qr_findings
        decision = decide(findings, rules, self.spec.escalation, standing, score=score)
        return Judged(norm, decision, skipped)
