"""Training the spam model from labelled messages (scikit-learn, needed only here).

The features are the same hashed n-grams the runtime scores with, so a model trained here
scores identically in numpy. Everything tuned is tuned on a validation part of the
training data (every fifth message by hash), never on the data evaluated later:

- the regularization strength, by the F1 of the classifier alone;
- the decision point per script (Chinese/Japanese text, other text), by the F1 of what
  the verdict really is: the classifier's score *or* a sure finding of the rule detectors
  (a contact offer, an invitation, a banned word). Messages the rules already catch then
  do not pull the classifier's threshold down, and the rest get the point that suits them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from qunzhu.moderation.classifier import SPAM_SCORE, SpamModel, has_cjk
from qunzhu.moderation.decide import CONTENT_RULES
from qunzhu.moderation.features import FeatureConfig, hash_features
from qunzhu.moderation.findings import ACT_SCORE
from qunzhu.moderation.inspect import MAX_CHARS, Inspector
from qunzhu.moderation.labelled import Example
from qunzhu.moderation.neardup import cluster_key, clusters
from qunzhu.moderation.normalize import Normalized, normalize

STRENGTHS = (20.0, 50.0, 100.0, 300.0)
THRESHOLDS = tuple(round(0.25 + 0.05 * k, 2) for k in range(11))  # 0.25 .. 0.75


class TrainingError(ValueError):
    """Training cannot run: too little data, one class only, or scikit-learn missing."""


def bucket_of(text: str, parts: int = 5) -> int:
    """A stable part (0 .. parts-1) for a text: identical texts always fall together."""
    digest = hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=4).digest()
    return int.from_bytes(digest, "big") % parts


def _matrix(texts: Sequence[str], config: FeatureConfig) -> Any:
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

    hashed = hash_features([normalize(t).compact for t in texts], config)
    weights = 1.0 / np.sqrt(np.maximum(hashed.counts, 1))
    return csr_matrix(
        (weights[hashed.docs], (hashed.docs, hashed.buckets)),
        shape=(len(texts), config.dim),
        dtype=np.float64,
    )


def _fit(matrix: Any, labels: Any, weights: Any, strength: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    # a fixed seed: liblinear shuffles, and the shipped model must come out the same again
    model = LogisticRegression(C=strength, solver="liblinear", max_iter=300, random_state=0)
    model.fit(matrix, labels, sample_weight=weights)
    return model


def _f1(labels: Any, predicted: Any, weights: Any = None) -> float:
    """F1, each example counting at its weight (all 1 when ``weights`` is None)."""
    w = np.ones(len(labels)) if weights is None else np.asarray(weights, dtype=np.float64)
    tp = float(np.sum(w[labels & predicted]))
    fp = float(np.sum(w[~labels & predicted]))
    fn = float(np.sum(w[labels & ~predicted]))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def _best_threshold(labels: Any, scores: Any, caught: Any, weights: Any = None) -> float:
    """The decision point with the best F1 of the verdict (score over the point, or caught
    by a rule) on validation data, each example at its training weight (light background
    chat does not outvote the labelled messages); 0.5 when it cannot tell."""
    if len(labels) < 20 or labels.all() or not labels.any():
        return SPAM_SCORE
    return max(
        THRESHOLDS,
        key=lambda t: (_f1(labels, (scores >= t) | caught, weights), -abs(t - SPAM_SCORE)),
    )


def _caught_by_rules(norms: Sequence[Normalized], model: SpamModel) -> Any:
    """Which messages the rule detectors alone call spam, under the default rules."""
    inspector = Inspector(model=model)
    return np.array(
        [
            any(
                f.rule in CONTENT_RULES and f.score >= ACT_SCORE
                for f in inspector.rule_findings(norm, newcomer=False)
            )
            for norm in norms
        ],
        dtype=bool,
    )


def train(
    examples: Sequence[Example],
    *,
    config: FeatureConfig | None = None,
    about: dict[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
    strengths: Sequence[float] = STRENGTHS,
) -> SpamModel:
    """A model fitted on ``examples``; raises TrainingError when that cannot be done."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise TrainingError(
            "training needs scikit-learn: pip install 'scikit-learn>=1.4,<2'"
        ) from None
    config = config or FeatureConfig()
    labels = np.array([e.spam for e in examples], dtype=bool)
    if len(examples) < 20 or labels.all() or not labels.any():
        raise TrainingError(
            f"need at least 20 messages of both kinds; got {len(examples)} "
            f"({int(labels.sum())} spam)"
        )
    texts = [e.text for e in examples]
    matrix = _matrix(texts, config)
    weights = np.array([e.weight for e in examples], dtype=np.float64)
    # each class counts as much in total as the other: spam is rarer in most groups
    share = labels.mean()
    weights *= np.where(labels, 0.5 / share, 0.5 / (1 - share))
    # validation by near-duplicate cluster: variants of one ad never straddle the two parts
    keys = cluster_key(texts, clusters(texts))
    held = np.array([bucket_of(k) == 0 for k in keys], dtype=bool)
    best, best_f1 = strengths[0], -1.0
    thresholds = {"cjk": SPAM_SCORE, "other": SPAM_SCORE}
    calibration = (1.0, 0.0)
    if held.any() and (~held).any() and len(set(labels[~held])) == 2:
        tried: list[tuple[float, float, Any]] = []
        for strength in strengths:
            fitted = _fit(matrix[~held], labels[~held], weights[~held], strength)
            scores = fitted.predict_proba(matrix[held])[:, 1]
            f1 = _f1(labels[held], scores >= SPAM_SCORE)
            tried.append((strength, f1, fitted))
            if log is not None:
                log(f"C={strength}: validation F1 {f1:.4f}")
        # the best on validation; between equals the stronger regularization (listed first)
        best, best_f1, fitted = max(tried, key=lambda t: t[1])
        y = labels[held]
        raw = fitted.decision_function(matrix[held])
        own = np.array([e.weight for e, h in zip(examples, held, strict=True) if h])
        calibration = _platt(raw, y, own)
        calibrated = _sigmoid(calibration[0] * raw + calibration[1])
        # judged as at run time: the first MAX_CHARS, normalized; the script of the compact view
        norms = [normalize(t[:MAX_CHARS]) for t, h in zip(texts, held, strict=True) if h]
        caught = _caught_by_rules(norms, _model_of(fitted, config, {}))
        cjk = np.array([has_cjk(n.compact) for n in norms], dtype=bool)
        thresholds = {
            "cjk": _best_threshold(y[cjk], calibrated[cjk], caught[cjk], own[cjk]),
            "other": _best_threshold(y[~cjk], calibrated[~cjk], caught[~cjk], own[~cjk]),
        }
        if log is not None:
            log(
                f"calibration (Platt, on validation): a={calibration[0]:.3f} b={calibration[1]:.3f}"
            )
            log(f"decision points on validation data: {thresholds}")
    fitted = _fit(matrix, labels, weights, best)
    info = dict(about or {})
    info.update(
        {
            "messages": len(examples),
            "spam": int(labels.sum()),
            "C": best,
            "validation_f1": round(best_f1, 4),
            "thresholds": thresholds,
            "calibration": {"a": round(calibration[0], 4), "b": round(calibration[1], 4)},
        }
    )
    return _model_of(fitted, config, info, calibration)


def _sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))


def _platt(raw: Any, labels: Any, weights: Any) -> tuple[float, float]:
    """(a, b) so that sigmoid(a * raw + b) is the probability of spam on validation data,
    each example at its own weight and the classes at their real share (training balanced
    them, which pushes raw scores towards spam)."""
    from sklearn.linear_model import LogisticRegression

    if labels.all() or not labels.any():
        return 1.0, 0.0
    platt = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    platt.fit(raw.reshape(-1, 1), labels, sample_weight=weights)
    return float(platt.coef_[0][0]), float(platt.intercept_[0])


def _model_of(
    fitted: Any,
    config: FeatureConfig,
    about: dict[str, Any],
    calibration: tuple[float, float] = (1.0, 0.0),
) -> SpamModel:
    """The numpy model; a calibration a * logit + b is folded into the weights and the bias
    (the model is linear), so scoring costs nothing more and returns a probability."""
    a, b = calibration
    return SpamModel(
        weights=(a * fitted.coef_[0]).astype(np.float32),
        bias=float(a * fitted.intercept_[0] + b),
        config=config,
        about=about,
    )
