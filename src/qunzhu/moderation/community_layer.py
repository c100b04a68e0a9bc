"""A community's own layer on top of a spam model, learnt from its review queue.

Every approve (it was spam) and undo (it was not) of a flagged message is a labelled example
of what this community calls spam (:func:`qunzhu.moderation.review.feedback`). A few dozen
reviews are far too few to train a model, but enough to correct one: the layer keeps the
base model's weights and learns only a shift of the weights of the features those messages
have, and of the bias, with a penalty that pulls every shift back to zero. So the base model
still judges what the reviews never saw, and what the operator undid (a welcome line, links
to the articles the group shares) stops being flagged.

Fitted with L-BFGS (scipy) over the features that occur in the reviewed messages only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qunzhu.moderation.classifier import SpamModel
from qunzhu.moderation.features import hash_features
from qunzhu.moderation.labelled import Example
from qunzhu.moderation.normalize import normalize

MIN_REVIEWS = 5
STRENGTH = 1.0
"""The pull of every weight shift back to zero (L2); larger keeps closer to the base."""


class LayerError(ValueError):
    """The layer cannot be trained: too few reviews."""


def train_layer(
    base: SpamModel,
    examples: Sequence[Example],
    *,
    strength: float = STRENGTH,
    about: dict[str, Any] | None = None,
) -> SpamModel:
    """The base model with its weights shifted to fit ``examples`` (the community's reviews)."""
    from scipy.optimize import minimize  # type: ignore[import-untyped]
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

    if len(examples) < MIN_REVIEWS:
        raise LayerError(
            f"need at least {MIN_REVIEWS} reviewed messages (approved or undone); "
            f"got {len(examples)}"
        )
    config = base.config
    norms = [normalize(e.text) for e in examples]
    hashed = hash_features([n.compact for n in norms], config, [n.text for n in norms])
    scale = 1.0 / np.sqrt(np.maximum(hashed.counts, 1))
    columns, local = np.unique(hashed.buckets, return_inverse=True)
    matrix = csr_matrix(
        (scale[hashed.docs], (hashed.docs, local)),
        shape=(len(examples), len(columns)),
        dtype=np.float64,
    )
    before = matrix @ base.weights[columns].astype(np.float64) + base.bias
    sign = np.where([e.spam for e in examples], 1.0, -1.0)
    weight = np.array([e.weight for e in examples], dtype=np.float64)

    def loss(shift: Any) -> tuple[float, Any]:
        margin = sign * (before + matrix @ shift[:-1] + shift[-1])
        # log(1 + exp(-margin)), and its derivative -1 / (1 + exp(margin)), stably
        value = float(np.sum(weight * np.logaddexp(0.0, -margin)))
        slope = -weight * sign * np.exp(-np.logaddexp(0.0, margin))
        grad = np.empty_like(shift)
        grad[:-1] = matrix.T @ slope + strength * shift[:-1]
        grad[-1] = float(np.sum(slope)) + strength * shift[-1]
        return value + 0.5 * strength * float(shift @ shift), grad

    fitted = minimize(loss, np.zeros(len(columns) + 1), jac=True, method="L-BFGS-B")
    shift = fitted.x
    weights = base.weights.copy()
    weights[columns] += shift[:-1].astype(np.float32)
    info = dict(base.about)
    info["community_layer"] = {
        **(about or {}),
        "reviews": len(examples),
        "spam": int(sum(e.spam for e in examples)),
        "strength": strength,
        "features": len(columns),
    }
    return SpamModel(weights=weights, bias=base.bias + float(shift[-1]), config=config, about=info)


def review_examples(pairs: Sequence[tuple[int, str]]) -> list[Example]:
    """(label, text) pairs from :func:`qunzhu.moderation.review.feedback` as examples."""
    return [Example(text, label == 1) for label, text in pairs]
