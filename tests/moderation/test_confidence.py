"""Bootstrap intervals: they hold the measured figure, are the same for the same data, and
resampling whole groups of dependent messages gives wider intervals than messages alone."""

from __future__ import annotations

import random

import pytest

from qunzhu.moderation.confidence import intervals
from qunzhu.moderation.evaluate import score_verdicts


def _sample(n: int, error: float, seed: int = 1) -> tuple[list[bool], list[bool]]:
    rng = random.Random(seed)
    labels = [rng.random() < 0.5 for _ in range(n)]
    return labels, [y if rng.random() > error else not y for y in labels]


def test_the_interval_holds_the_measured_figure_and_is_reproducible() -> None:
    labels, predicted = _sample(2000, 0.05)
    scores = score_verdicts(labels, predicted)
    for name in ("precision", "recall", "f1", "fpr"):
        low, high = scores.ci95[name]
        assert low <= getattr(scores, name) <= high
        assert high - low < 0.05
    assert intervals(labels, predicted) == intervals(labels, predicted)


def test_a_perfect_verdict_has_a_point_interval() -> None:
    labels = [True, False] * 50
    assert intervals(labels, labels)["f1"] == (1.0, 1.0)
    assert intervals(labels, labels)["fpr"] == (0.0, 0.0)


def test_groups_of_copies_widen_the_interval() -> None:
    labels, predicted = _sample(200, 0.1)
    copies = 10  # each message ten times: ten times the messages, no more information
    by_message = intervals(labels * copies, predicted * copies)
    by_group = intervals(labels * copies, predicted * copies, groups=list(range(200)) * copies)
    width = lambda ci: ci["f1"][1] - ci["f1"][0]  # noqa: E731
    assert width(by_group) > 2 * width(by_message)


def test_labels_and_predictions_of_different_lengths_are_an_error() -> None:
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        intervals([True, False, True], [True, False])
