"""Precision, recall, F1 and false-positive rate of the ``spam`` verdict on labelled text,
each with its 95% bootstrap confidence interval (:mod:`qunzhu.moderation.confidence`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from qunzhu.moderation.confidence import intervals
from qunzhu.moderation.inspect import MAX_CHARS, Inspector
from qunzhu.moderation.labelled import Example
from qunzhu.moderation.normalize import normalize

BATCH = 2000


@dataclass(frozen=True, slots=True)
class Scores:
    tp: int
    fp: int
    fn: int
    tn: int
    ci95: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    @property
    def fpr(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "fpr": round(self.fpr, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "ci95": {name: list(bounds) for name, bounds in self.ci95.items()},
        }


def verdicts(
    inspector: Inspector,
    texts: Sequence[str],
    progress: Callable[[int], None] | None = None,
) -> list[bool]:
    """The ``spam`` verdict for each text, judged alone by the inspector's rules."""
    out: list[bool] = []
    for start in range(0, len(texts), BATCH):
        norms = [normalize(t[:MAX_CHARS]) for t in texts[start : start + BATCH]]
        signs = inspector.screen(norms)
        for norm, score, sign in zip(norms, inspector.scores(norms), signs, strict=True):
            # the verdict of the decision a member without history would get: it depends
            # on the findings alone (decide.is_spam), and on no finding's evidence
            out.append(inspector.spam_verdict(norm, score, signs=sign))
        if progress is not None:
            progress(len(norms))
    return out


def score_verdicts(
    labels: Sequence[bool], predicted: Sequence[bool], *, groups: Sequence[Any] | None = None
) -> Scores:
    """The counts and figures, with intervals (``groups``: resample whole groups, e.g.
    near-duplicate clusters or sessions, whose messages are not independent)."""
    tp = sum(1 for y, p in zip(labels, predicted, strict=True) if y and p)
    fp = sum(1 for y, p in zip(labels, predicted, strict=True) if not y and p)
    fn = sum(1 for y, p in zip(labels, predicted, strict=True) if y and not p)
    ci = intervals(labels, predicted, groups=groups)
    return Scores(tp, fp, fn, len(labels) - tp - fp - fn, ci)


def evaluate(
    inspector: Inspector,
    examples: Sequence[Example],
    progress: Callable[[int], None] | None = None,
) -> Scores:
    predicted = verdicts(inspector, [e.text for e in examples], progress)
    return score_verdicts([e.spam for e in examples], predicted)
