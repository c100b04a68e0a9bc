"""The learned reply-link model: which earlier message a message answers, for chats whose
platform gives no reply link (IRC, QQ and WhatsApp text exports, WeChat messages without a
quote).

Each candidate pair (a message, an earlier message of another member in the window) is
described by features anyone can see in any chat — the time gap, who names whom, shared
content words, whether the candidate asked something, who spoke last, whether the two
have been talking — and a logistic regression turns them into the probability that the
message answers that candidate. The best candidate is taken when its probability reaches
the model's threshold; the link stays marked *inferred* with that probability.

The weights live in ``engines/data/reply_model.json`` (numbers only, no text from the
training chats). ``qunzhu intelligence train-replies DIR --out PATH`` rebuilds it from
annotated IRC sessions (see :mod:`qunzhu.engines.replytrain` and docs/intelligence.md).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

MODEL_PATH = Path(__file__).with_name("data") / "reply_model.json"

# Names of the features, in the order of the weight vector. Every one is defined for any
# chat: nothing refers to a channel, a language or a topic.
FEATURES: tuple[str, ...] = (
    "addressed",  # the message names the candidate's author
    "addressed_back",  # the candidate named the message's author
    "names_another",  # the message names someone, not the candidate's author
    "cand_names_another",  # the candidate named someone other than this author
    "log_gap",  # log(1 + minutes between them)
    "log_position",  # log(1 + other members' messages in between)
    "previous",  # the candidate is the message just before (by another member)
    "author_latest",  # the candidate is its author's latest message
    "cand_question",  # the candidate asks something
    "cand_asker",  # the candidate's author asked something in the last minutes
    "own_question",  # this message asks something and names nobody
    "shared",  # Jaccard overlap of content words
    "shared_any",  # at least one content word in common
    "talked",  # the two named each other in the last minutes
    "last_addressed",  # this author's previous message named the candidate's author
    "adjacent",  # log(1 + times the two spoke back to back lately)
    "author_new",  # this author has not spoken in the window
    "cand_first",  # the candidate is its author's first message in the window
    "short",  # the message is short (thanks, yes, a one-line answer)
    "log_busy",  # log(1 + candidates in the window): how busy the group is
)


@dataclass(frozen=True, slots=True)
class ReplyModel:
    weights: tuple[float, ...]
    bias: float
    threshold: float  # probability the best candidate needs for a link
    window_minutes: float
    max_candidates: int
    trained_on: dict[str, Any]  # where the weights came from and how they scored

    def log_odds(self, feats: tuple[float, ...]) -> float:
        return self.bias + sum(w * x for w, x in zip(self.weights, feats, strict=True))

    def probability(self, feats: tuple[float, ...]) -> float:
        z = self.log_odds(feats)
        if z < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))

    def explain(self, feats: tuple[float, ...]) -> dict[str, float]:
        """Each feature's share of the log-odds (weight × value), the biggest first."""
        parts = {n: w * x for n, w, x in zip(FEATURES, self.weights, feats, strict=True) if x}
        return dict(sorted(parts.items(), key=lambda kv: -abs(kv[1])))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "logistic regression over candidate pairs",
            "features": list(FEATURES),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "threshold": round(self.threshold, 4),
            "window_minutes": self.window_minutes,
            "max_candidates": self.max_candidates,
            "trained_on": self.trained_on,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReplyModel:
        names = tuple(data.get("features", ()))
        if names != FEATURES:
            raise ValueError(
                f"reply model features {list(names)} do not match this version's "
                f"{list(FEATURES)}: retrain it with `qunzhu intelligence train-replies`"
            )
        weights = tuple(float(w) for w in data["weights"])
        if len(weights) != len(FEATURES):
            raise ValueError("reply model: one weight per feature expected")
        threshold = float(data["threshold"])
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"reply model threshold {threshold} is not a probability")
        return cls(
            weights=weights,
            bias=float(data["bias"]),
            threshold=threshold,
            window_minutes=float(data["window_minutes"]),
            max_candidates=int(data["max_candidates"]),
            trained_on=dict(data.get("trained_on", {})),
        )

    @classmethod
    def read(cls, path: Path) -> ReplyModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"reply model {path}: cannot read it ({exc})") from exc
        return cls.from_json(data)


_IN_USE: ContextVar[ReplyModel | None] = ContextVar("reply_model_in_use", default=None)


@cache
def _shipped() -> ReplyModel:
    return ReplyModel.read(MODEL_PATH)


def default_model() -> ReplyModel:
    """The model shipped with the package, unless :func:`model_in_use` names another."""
    return _IN_USE.get() or _shipped()


@contextmanager
def model_in_use(model: ReplyModel) -> Iterator[None]:
    """Score with ``model`` instead of the shipped one inside the block: the benchmark's
    time split measures value with a model fitted on the earlier sessions only."""
    token = _IN_USE.set(model)
    try:
        yield
    finally:
        _IN_USE.reset(token)
