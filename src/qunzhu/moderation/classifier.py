"""The ad and spam classifier: hashed n-grams and words into a logistic model, in numpy.

A model is one ``.npz`` file: a weight per hash bucket (float16), the bias, the feature
settings and a short JSON note on what it was trained on. The one shipped in
``qunzhu/moderation/data/spam-model.npz`` is loaded on first use; ``qunzhu moderation
train`` writes another from an operator's own labelled data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qunzhu.moderation.features import FeatureConfig, hash_features
from qunzhu.moderation.normalize import Normalized

SHIPPED = "spam-model.npz"
SPAM_SCORE = 0.5
"""The default decision point; a trained model keeps its own per script in ``about``."""
CHUNK_CHARS = 12_288
"""Scoring hashes a batch in pieces of about this many characters (see ``scores``)."""
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3040-\u30ff]")
_LATIN = re.compile(r"[a-z]")
SCRIPTS = ("cjk", "latin", "other")
"""Each has its own decision point: Chinese/Japanese text; text with Latin letters (English
chat, SMS); the rest (numbers, symbols). Files from before ``latin`` use ``other`` for it."""


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def script_of(compact_text: str) -> str:
    """Which decision point a text (in the compact view) is judged at: one of SCRIPTS."""
    if _CJK.search(compact_text) is not None:
        return "cjk"
    return "latin" if _LATIN.search(compact_text) is not None else "other"


class ModelError(ValueError):
    """A model file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class SpamModel:
    weights: npt.NDArray[np.float32]
    bias: float
    config: FeatureConfig = field(default_factory=FeatureConfig)
    about: dict[str, Any] = field(default_factory=dict)

    def scores(
        self, compact_texts: Sequence[str], views: Sequence[str] | None = None
    ) -> npt.NDArray[np.float64]:
        """Probability of spam for each text (already in the normalized compact view).
        ``views``: the same messages in the ``text`` view (``Normalized.text``), where the
        model's currency features look (:func:`scores_of` passes both)."""
        if not compact_texts:
            return np.zeros(0)
        # pieces of a few thousand characters: their arrays stay in the CPU cache, which
        # makes scoring a large batch about twice as fast as hashing it in one go. Where
        # the pieces end is found in numpy (a piece ends at the first message that takes it
        # past each multiple of CHUNK_CHARS): a Python loop over the messages cost a twelfth
        # of the scoring. A message's score does not depend on its piece.
        count = len(compact_texts)
        if count == 1:  # one message (live checks): none of the piece-finding below
            return self._scores(compact_texts, views)
        sizes = np.cumsum(np.fromiter(map(len, compact_texts), np.int64, count) + 2)
        marks = np.arange(CHUNK_CHARS, int(sizes[-1]), CHUNK_CHARS)
        ends = np.unique(np.append(np.searchsorted(sizes, marks) + 1, count)).tolist()
        out: list[npt.NDArray[np.float64]] = []
        start = 0
        for end in ends:
            part = None if views is None else views[start:end]
            out.append(self._scores(compact_texts[start:end], part))
            start = end
        return out[0] if len(out) == 1 else np.concatenate(out)

    def scores_of(self, norms: Sequence[Normalized]) -> npt.NDArray[np.float64]:
        """Probability of spam for each normalized message."""
        return self.scores([n.compact for n in norms], [n.text for n in norms])

    def _scores(
        self, compact_texts: Sequence[str], views: Sequence[str] | None
    ) -> npt.NDArray[np.float64]:
        # no order needed: the features are only summed per message
        hashed = hash_features(compact_texts, self.config, views, ordered=False)
        sums = np.bincount(
            hashed.docs, weights=self.weights[hashed.buckets], minlength=len(compact_texts)
        )
        scale = 1.0 / np.sqrt(np.maximum(hashed.counts, 1))
        logits = np.clip(sums * scale + self.bias, -30.0, 30.0)
        return 1.0 / (1.0 + np.exp(-logits))

    @cached_property
    def thresholds(self) -> tuple[float, float, float]:
        """(CJK text, Latin text, other text): where this model calls a message spam,
        chosen per script (SCRIPTS) on validation data when it was trained."""
        chosen = dict(self.about.get("thresholds") or {})
        chosen.setdefault("latin", chosen.get("other", SPAM_SCORE))
        cjk, latin, other = (
            float(v) if isinstance(v, int | float) else SPAM_SCORE
            for v in (chosen.get(name, SPAM_SCORE) for name in SCRIPTS)
        )
        return cjk, latin, other

    def spam_threshold(self, text: str) -> float:
        return self.thresholds[SCRIPTS.index(script_of(text))]

    def score(self, compact_text: str) -> float:
        return float(self.scores([compact_text])[0])

    def save(self, path: Path) -> None:
        note = {"config": _config_dict(self.config), "about": self.about}
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                weights=self.weights.astype(np.float16),
                bias=np.array([self.bias], dtype=np.float64),
                note=np.frombuffer(json.dumps(note).encode("utf-8"), dtype=np.uint8),
            )


def _config_dict(config: FeatureConfig) -> dict[str, Any]:
    return {
        "dim_bits": config.dim_bits,
        "ngram_min": config.ngram_min,
        "ngram_max": config.ngram_max,
        "words": config.words,
        "binary": config.binary,
        "shape": config.shape,
        "numbers": config.numbers,
        "signs": config.signs,
    }


def load_model(path: Path | None = None) -> SpamModel:
    """The model at ``path``, or the shipped one (cached) when ``path`` is None."""
    if path is None:
        return shipped_model()
    return _read(path, str(path))


@lru_cache(maxsize=1)
def shipped_model() -> SpamModel:
    resource = resources.files("qunzhu.moderation").joinpath("data", SHIPPED)
    with resources.as_file(resource) as path:
        return _read(path, f"shipped model {SHIPPED}")


def _read(path: Path, name: str) -> SpamModel:
    try:
        with np.load(path, allow_pickle=False) as data:
            weights = data["weights"].astype(np.float32)
            bias = float(data["bias"][0])
            note = json.loads(bytes(data["note"]).decode("utf-8"))
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"{name}: not a qunzhu spam model ({exc})") from None
    # files from before binary features counted every occurrence, and had no length feature
    # (nor, before issue 16, number features)
    # (nor, before its second model, the offer signs)
    settings = {
        "binary": False,
        "shape": False,
        "numbers": False,
        "signs": False,
        **note.get("config", {}),
    }
    try:
        config = FeatureConfig(**settings)
    except TypeError as exc:
        raise ModelError(f"{name}: unknown feature settings ({exc})") from None
    if weights.shape != (config.dim,):
        raise ModelError(f"{name}: {weights.shape[0]} weights, the settings need {config.dim}")
    return SpamModel(weights=weights, bias=bias, config=config, about=note.get("about", {}))
