"""What a moderation action found, in words: the kind of problem (from the rule and the
detector that found it, through the catalogs) and the message with the evidence marked.

The review queue and the member page's sanctions show an action this way instead of its
codes and the raw findings. The message is cut into plain and marked pieces at the
findings' spans (positions in the original text); the template escapes each piece and wraps
the marked ones in ``<mark>``, so nothing of the message is ever rendered as HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qunzhu.auth.permissions import mask_text
from qunzhu.http.i18n import catalog
from qunzhu.store.models import Message, ModerationAction

MAX_TEXT = 600


@dataclass(frozen=True, slots=True)
class Problem:
    rule_key: str  # catalog key naming the rule's kind of problem (problem.<rule>)
    detector_key: str | None  # catalog key saying what was found (detector.<detector>)
    evidence: str  # the matched text, masked as the viewer's role requires
    score: float


@dataclass(frozen=True, slots=True)
class Described:
    problems: tuple[Problem, ...]
    pieces: tuple[tuple[str, bool], ...]  # the message as (text, marked) pieces

    @property
    def marked(self) -> bool:
        return any(m for _, m in self.pieces)


def _key(prefix: str, code: str | None, fallback: str | None) -> str | None:
    if code and f"{prefix}.{code}" in catalog("en"):
        return f"{prefix}.{code}"
    return fallback


def kind_key(rule: str) -> str:
    """The catalog key of a rule's kind of problem in a short list (Today's queue)."""
    if rule == "classifier":
        return "problem.classifier_short"
    return _key("problem", rule, None) or "problem.other"


def _findings(evidence: Any, rule: str, detector: str, score: float) -> list[dict[str, Any]]:
    found = evidence.get("findings") if isinstance(evidence, dict) else None
    rows = [f for f in found or [] if isinstance(f, dict)]
    if rows:
        return rows
    # older rows and hand-made ones: one finding from the action's own columns
    matched = ""
    if isinstance(evidence, dict):  # e.g. {"matched": "加微信"} or {"phone": "138…"}
        values = [v for k, v in evidence.items() if k != "text" and isinstance(v, str) and v]
        matched = str(evidence.get("matched") or evidence.get("evidence") or next(iter(values), ""))
    elif evidence is not None:
        matched = str(evidence)
    return [{"rule": rule, "detector": detector, "score": score, "evidence": matched}]


def _spans(text: str, findings: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """Where the findings sit in ``text``: their spans when they point at their evidence,
    else the first place the evidence occurs; the classifier's whole-message verdict marks
    nothing."""
    spans: list[tuple[int, int]] = []
    for f in findings:
        if f.get("detector") == "classifier":
            continue
        piece = str(f.get("evidence") or "")
        span = f.get("span")
        if (
            isinstance(span, list | tuple)
            and len(span) == 2
            and all(isinstance(x, int) for x in span)
            and 0 <= span[0] < span[1] <= len(text)
            and (not piece or text[span[0] : span[1]] == piece)
        ):
            spans.append((int(span[0]), int(span[1])))
        elif piece and piece in text and piece != text:
            at = text.index(piece)
            spans.append((at, at + len(piece)))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def pieces_of(
    text: str, spans: list[tuple[int, int]], unmasked: bool
) -> tuple[tuple[str, bool], ...]:
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in spans:
        if start > at:
            out.append((text[at:start], False))
        out.append((text[start:end], True))
        at = end
    if at < len(text):
        out.append((text[at:], False))
    if not unmasked:  # each piece masked alone, so a mark still covers what it matched
        out = [(mask_text(s), m) for s, m in out]
    return tuple(out)


def describe(
    rule: str,
    detector: str,
    score: float,
    evidence: Any,
    message_text: str | None,
    *,
    unmasked: bool,
) -> Described:
    """The action's problems in words and its message (the stored text, else the text kept
    in the evidence) with what each finding matched marked."""
    findings = _findings(evidence, rule, detector, score)
    text = message_text or ""
    if not text and isinstance(evidence, dict):
        text = str(evidence.get("text") or "")
    text = text[:MAX_TEXT]
    problems = []
    seen: set[tuple[str, str | None, str]] = set()
    for f in findings:
        rule_key = _key("problem", str(f.get("rule") or rule), "problem.other")
        assert rule_key is not None
        # the classifier's sentence (problem.classifier) already names the model: a
        # "what" after it would read "... so a person decides: spam model"
        detector = str(f.get("detector") or "")
        detector_key = None if detector == "classifier" else _key("detector", detector, None)
        matched = str(f.get("evidence") or "")
        if f.get("detector") == "classifier" or matched == text:
            matched = ""  # the whole message: it is shown right above
        shown = (matched if unmasked else mask_text(matched))[:120]
        if (rule_key, detector_key, shown) in seen:
            continue
        seen.add((rule_key, detector_key, shown))
        problems.append(
            Problem(rule_key, detector_key, shown, round(float(f.get("score") or 0), 2))
        )
    return Described(tuple(problems), pieces_of(text, _spans(text, findings), unmasked))


@dataclass(frozen=True, slots=True)
class Sanction:
    action: ModerationAction
    group: str
    found: Described  # the rule's kind of problem and the evidence, in words


def moderation_history(
    session: Session, community_id: int, member_id: int, groups: dict[int, str], unmasked: bool
) -> list[Sanction]:
    """The member's moderation actions, newest first, each with what it found."""
    rows = session.execute(
        select(ModerationAction, Message.text)
        .outerjoin(Message, Message.id == ModerationAction.message_id)
        .where(
            ModerationAction.community_id == community_id, ModerationAction.member_id == member_id
        )
        .order_by(ModerationAction.created_at.desc())
        .limit(50)
    ).tuples()
    return [
        Sanction(
            action=a,
            group=groups.get(a.group_id or 0, ""),
            found=describe(a.rule, a.detector, a.score, a.evidence, text, unmasked=unmasked),
        )
        for a, text in rows
    ]
