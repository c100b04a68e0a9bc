"""What a detector reports: which rule, how sure, and the evidence in the original text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qunzhu.moderation.normalize import Normalized, View

ACT_SCORE = 0.7
"""A rule-based finding this sure is acted on; below it the message is flagged for review."""


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # the rule in the spec (rules.<name>), e.g. "contact_solicitation"
    detector: str  # what found it, e.g. "phone_number"
    severity: int  # points a breach adds (from the spec)
    score: float  # how sure, 0..1
    evidence: str = ""  # the original text that matched
    span: tuple[int, int] = (0, 0)  # where, in the original text
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "detector": self.detector,
            "severity": self.severity,
            "score": round(self.score, 4),
            "evidence": safe_text(self.evidence),
            "span": list(self.span),
            **({"detail": self.detail} if self.detail else {}),
        }


def safe_text(text: str, limit: int = 500) -> str:
    """Text that any database and JSON encoder takes: lone surrogates replaced, cut short."""
    cut = text[:limit]
    if cut.isascii():  # nothing to replace (a flag, not a scan)
        return cut
    return cut.encode("utf-8", "replace").decode("utf-8")


def found(
    norm: Normalized,
    view: View,
    start: int,
    end: int,
    *,
    rule: str,
    detector: str,
    severity: int,
    score: float,
    **detail: Any,
) -> Finding:
    span = norm.span(view, start, end)
    return Finding(
        rule=rule,
        detector=detector,
        severity=severity,
        score=score,
        evidence=norm.original[span[0] : span[1]],
        span=span,
        detail=detail,
    )
