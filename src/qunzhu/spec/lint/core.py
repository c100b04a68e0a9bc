"""The machinery of the positioning lint: findings, the check registry, and the run.

A check is a small function decorated with ``@check(code, severity, ...)``; it receives a
Context and yields Hits (path plus English and Chinese text). Codes are stable: scripts
and documentation refer to them, so a code is never reused for another meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NamedTuple

from qunzhu.spec.schema import CommunitySpec

Severity = Literal["error", "warning", "info"]
SEVERITY_RANK: dict[Severity, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Finding:
    """One thing the lint has to say about a spec."""

    code: str
    severity: Severity
    path: str
    message_en: str
    message_zh: str
    line: int | None = None

    def message(self, lang: str = "en") -> str:
        return self.message_zh if lang.lower().startswith("zh") else self.message_en

    def as_dict(self, lang: str = "en") -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "message": self.message(lang),
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


class Hit(NamedTuple):
    """What a check reports: where, and what in both languages."""

    path: str
    en: str
    zh: str


@dataclass
class Context:
    """The spec under lint, the date it is judged on, and the ids it defines; ``names_member``
    (given where the community's members are at hand) says whether a staff entry names one."""

    spec: CommunitySpec
    today: date
    names_member: Callable[[str], bool] | None = None
    tier_ids: set[str] = field(init=False)
    plan_ids: set[str] = field(init=False)
    question_ids: set[str] = field(init=False)
    segment_ids: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.tier_ids = {tier.id for tier in self.spec.tiers}
        self.plan_ids = {plan.id for plan in self.spec.monetization.plans}
        self.question_ids = {q.id for q in self.spec.threshold.questions}
        self.segment_ids = {segment.id for segment in self.spec.segments}


CheckFunction = Callable[[Context], Iterator[Hit]]


@dataclass(frozen=True)
class Check:
    code: str
    severity: Severity
    title_en: str
    title_zh: str
    run: CheckFunction


CHECKS: list[Check] = []


def check(
    code: str, severity: Severity, title_en: str, title_zh: str
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under a stable code; the titles feed the docs table."""

    def register(function: CheckFunction) -> CheckFunction:
        if any(existing.code == code for existing in CHECKS):
            raise ValueError(f"lint code {code} registered twice")
        CHECKS.append(Check(code, severity, title_en, title_zh, function))
        return function

    return register


def lint(
    spec: CommunitySpec,
    *,
    today: date | None = None,
    names_member: Callable[[str], bool] | None = None,
) -> list[Finding]:
    """Run every check; findings come errors first, then in file order."""
    context = Context(spec, today or date.today(), names_member)
    findings: list[Finding] = []
    for registered in CHECKS:
        for hit in registered.run(context):
            where = spec.location(hit.path)
            findings.append(
                Finding(
                    code=registered.code,
                    severity=registered.severity,
                    path=hit.path,
                    message_en=hit.en,
                    message_zh=hit.zh,
                    line=where[0] if where else None,
                )
            )
    findings.sort(key=lambda f: (SEVERITY_RANK[f.severity], f.line or 0, f.code))
    return findings
