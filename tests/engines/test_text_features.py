"""The shortcuts of qunzhu.engines.features against the general path they stand for, on
random texts: the ASCII normal form against the regex's, and the question of a line read
whole against the prose the general path takes out of it."""

from __future__ import annotations

import random

import pytest

from qunzhu.engines.features import (
    _BRACKETED,
    _PUNCT,
    _QUESTION_START,
    _QUESTION_START_LOWER,
    _URL,
    _asks,
    features_normal_words,
    normalize,
)

PIECES = [
    "ann: ", "bob, ", "@cat ", "how do i", "anyone know", "what", "is there a way", "mount",
    "the disk", "doesn't work", "i get an error", "help", "?", "??", " ?", "!", "吗", "怎么",
    "不知道它在想什么", "\"quoted?\"", "`code`", "```\nfenced?\n```", "http://x.org/a?b",
    "www.example.com", "[偷笑]", "[ab]", "sudo apt-get install", "/etc/fstab", "foo_bar",
    "a\x1cb", "  ", "\t", "ok", "thanks", "+1", "wörds", "1 2 3", "How do I", "Anyone KNOW",
    "HELP me", "Is There A Way", "I Get An Error", "Dave:",
]  # fmt: skip


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) + rng.choice(["", " "]) for _ in range(rng.randint(0, 6)))


@pytest.mark.parametrize("seed", range(5))
def test_the_ascii_normal_form_is_the_regexs(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(2000):
        text = "".join(chr(rng.randrange(128)) for _ in range(rng.randint(0, 30)))
        low = text.lower()
        low = _BRACKETED.sub(" ", low) if "[" in low else low
        assert normalize(text) == _PUNCT.sub(" ", low).strip()


@pytest.mark.parametrize("seed", range(5))
def test_a_line_read_whole_asks_what_its_prose_asks(seed: int) -> None:
    rng = random.Random(seed)
    asked = 0
    for _ in range(3000):
        text = _text(rng)
        for kind in ("text", "link"):
            features, whole, words = features_normal_words(text, kind)
            assert whole == normalize(text)
            assert words is None or words == whole.split()
            url = ("://" in text or "www." in text.lower()) and bool(_URL.search(text))
            general = not features.filler and _asks(text, features.tokens, url)
            assert features.question == general, text
            asked += general
    assert asked > 500  # the sample asks often, and often not


@pytest.mark.parametrize("seed", range(3))
def test_an_ascii_opening_starts_a_question_as_the_case_blind_pattern_says(seed: int) -> None:
    rng = random.Random(seed)
    starts = 0
    for _ in range(3000):
        opening = normalize(_text(rng))
        if opening.isascii():
            blind = _QUESTION_START.match(opening) is not None
            assert (_QUESTION_START_LOWER.match(opening) is not None) == blind, opening
            starts += blind
    assert starts > 100
