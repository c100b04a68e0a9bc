"""The searches of qunzhu.engines.replyfeatures that read the stream's order instead of
searching, against the straightforward loops they replace, on random streams."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from qunzhu.engines.replyfeatures import (
    adjacent,
    latest_before,
    latest_question_before,
    shared_words,
)
from qunzhu.engines.replystream import DEPTH, TAIL, Lexicon, Stream, build_stream

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _stream(rng: random.Random, n: int, members: int) -> Stream:
    entries = [
        (i + 1, rng.randrange(members), T0 + timedelta(seconds=i), "", rng.random() < 0.3)
        for i in range(n)
    ]
    return build_stream(entries, Lexicon({}))


def _pairs(rng: random.Random, s: Stream, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(message, earlier message) pairs, the message's in order as candidates come."""
    k, j = [], []
    for message in sorted(rng.randrange(len(s)) for _ in range(count if len(s) else 0)):
        if message:
            k.append(message)
            j.append(rng.randrange(max(0, message - 60), message))
    return np.array(k, np.int64), np.array(j, np.int64)


SIZES = [(0, 1), (1, 1), (2, 1), (2, 2), (5, 2), (60, 3), (300, 4), (300, 40)]


@pytest.mark.parametrize(("n", "members"), SIZES)
@pytest.mark.parametrize("seed", range(3))
def test_latest_question_before_is_the_loop_and_the_search(n: int, members: int, seed: int) -> None:
    rng = random.Random(seed)
    s = _stream(rng, n, members)
    k, j = _pairs(rng, s, 200)
    got = latest_question_before(s, j, k).tolist()
    members_ = s.members.tolist()
    expected = [
        max((i for i in range(b) if s.question[i] and members_[i] == members_[a]), default=-1)
        for a, b in zip(j.tolist(), k.tolist(), strict=True)
    ]
    assert got == expected
    searched = latest_before(s.members[s.question], np.flatnonzero(s.question), s.members[j], k)
    assert got == searched.tolist()


@pytest.mark.parametrize(("n", "members"), SIZES)
@pytest.mark.parametrize("seed", range(3))
def test_adjacent_counts_the_pairs_of_the_window(n: int, members: int, seed: int) -> None:
    rng = random.Random(seed)
    s = _stream(rng, n, members)
    k, j = _pairs(rng, s, 200)
    m = s.members.tolist()
    # a pair of members is one key whichever spoke first (a pair of one member too)
    expected = [
        sum({m[i], m[i + 1]} == {m[a], m[b]} for i in range(max(a - TAIL, 0), a - 1))
        for a, b in zip(k.tolist(), j.tolist(), strict=True)
    ]
    assert adjacent(s, k, j).tolist() == expected


@pytest.mark.parametrize(("n", "members"), SIZES)
@pytest.mark.parametrize("seed", range(3))
def test_shared_words_counts_the_words_both_said(n: int, members: int, seed: int) -> None:
    rng = random.Random(seed)
    vocabulary = ["grub", "boot", "disk", "mount", "kernel", "wifi", "sound"]
    entries = [
        (i + 1, rng.randrange(members), T0 + timedelta(seconds=i),
         " ".join(rng.sample(vocabulary, rng.randint(0, 4))), False)
        for i in range(n)
    ]  # fmt: skip
    s = build_stream(entries, Lexicon({}))
    k, j = _pairs(rng, s, 200)
    said = [set(text.split()) for _, _, _, text, _ in entries]
    # lags beyond what the linker holds (none of its candidates) share nothing
    expected = [
        len(said[a] & said[b]) if a - b <= DEPTH else 0
        for a, b in zip(k.tolist(), j.tolist(), strict=True)
    ]
    assert shared_words(s, k, k - j).tolist() == expected
