"""95% confidence intervals of precision, recall, F1 and false-positive rate, by bootstrap.

A figure measured on a few thousand messages moves by a point or more with the sample: the
intervals say how far. Each resample draws as many messages as were measured, with
replacement (a fixed seed, so the same data gives the same interval), and the interval is
the 2.5th to 97.5th percentile of the figure over the resamples.

``groups`` resamples whole groups instead of messages (e.g. near-duplicate clusters or
chat sessions): messages of one group are not independent, and resampling them one by one
would make the interval too narrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

RESAMPLES = 1000
METRICS = ("precision", "recall", "f1", "fpr")


def _figures(tp: Any, fp: Any, fn: Any, tn: Any) -> dict[str, npt.NDArray[np.float64]]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "precision": np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0),
            "recall": np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0.0),
            "f1": np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0),
            "fpr": np.where(fp + tn > 0, fp / np.maximum(fp + tn, 1), 0.0),
        }


def intervals(
    labels: Sequence[bool],
    predicted: Sequence[bool],
    *,
    groups: Sequence[Any] | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """(low, high) of each figure in :data:`METRICS`, rounded to four places."""
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    if len(y) != len(p):
        raise ValueError(f"{len(y)} labels but {len(p)} predictions")
    if len(y) == 0:
        return {m: (0.0, 0.0) for m in METRICS}
    # the four cells of the confusion matrix per unit (message, or group of messages)
    cells = np.stack([y & p, ~y & p, y & ~p, ~y & ~p], axis=1).astype(np.int64)
    if groups is not None:
        _, unit = np.unique(np.asarray([str(g) for g in groups]), return_inverse=True)
        per_unit = np.zeros((int(unit.max()) + 1, 4), dtype=np.int64)
        np.add.at(per_unit, unit, cells)
        cells = per_unit
    rng = np.random.default_rng(seed)
    if groups is None:
        # messages alone are exchangeable within their cell: a resample's four counts are
        # one multinomial draw (the same distribution as drawing n messages, far cheaper)
        n = int(cells.sum())
        totals = rng.multinomial(n, cells.sum(axis=0) / n, size=resamples)
    else:
        units = len(cells)
        draws = rng.integers(0, units, size=(resamples, units))
        offsets = (np.arange(resamples)[:, None] * units + draws).ravel()
        counts = np.bincount(offsets, minlength=resamples * units).reshape(resamples, units)
        totals = counts @ cells
    figures = _figures(*(totals[:, k].astype(np.float64) for k in range(4)))
    out: dict[str, tuple[float, float]] = {}
    for metric in METRICS:
        low, high = np.percentile(figures[metric], [2.5, 97.5])
        out[metric] = (round(float(low), 4), round(float(high), 4))
    return out
