"""The shortcuts of qunzhu.engines.features against the general path they stand for, on
random texts: the ASCII normal form against the regex's, and the question of a line read
whole against the prose the general path takes out of it."""

from __future__ import annotations

import random
import re

import pytest

from qunzhu.engines.features import (
    _BRACKETED,
    _HELP,
    _HELP_BY_RUN,
    _PUNCT,
    _QUESTION_START,
    _QUESTION_START_LOWER,
    _URL,
    _ascii_runs,
    _asks,
    _helps,
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


# a phrase of each branch of _HELP (and its variants), and what may come before or after
HELP_PHRASES = [
    "anyone knows", "any one tried", "anybody uses", "any body here", "anyone got",
    "is there a way", "is there any way", "how do i", "how can we", "how should you",
    "any idea", "any ideas", "any help", "any clue", "any suggestions", "please help",
    "help me", "need help", "need some help", "can someone", "can anybody",
    "i have a problem", "i have some issues", "i'm stuck", "im trying to figure",
    "doesn't work", "doesnt work", "does not work", "won't work", "wont work",
    "i get an error", "i got this message", "i am getting the warning",
    "i'm getting a error", "im getting error", "i keep getting that warning",
    "asking how", "wondering whether", "wonder if", "i don't know how", "i dont know which",
    "i do not know why", "looking for help", "looking for a way", "looking for advice",
]  # fmt: skip
EDGES = ["", " ", "_", "x", "9", "-", ":", "'", "s", "ing", "?", ". ", "\t"]


@pytest.mark.parametrize("seed", range(5))
def test_the_branches_a_lines_runs_name_match_as_the_whole_help_pattern(seed: int) -> None:
    """_helps, the branches of _HELP the runs of a line name, each searched alone, against
    the whole alternation's search."""
    whole_pattern = re.compile(_HELP.pattern)  # case-sensitive: of lower-cased lines
    rng = random.Random(seed)
    matched = 0
    samples = ["", rng.choice(HELP_PHRASES), *HELP_PHRASES, *_HELP_BY_RUN]
    for _ in range(4000):
        parts = [rng.choice(HELP_PHRASES + PIECES) for _ in range(rng.randint(1, 3))]
        samples.append("".join(p + rng.choice(EDGES) for p in parts))
    for text in samples:
        low = text.lower()
        if not low.isascii():
            continue
        whole = whole_pattern.search(low) is not None
        assert _helps(low, _ascii_runs(low)) == whole, low
        matched += whole
    assert matched > 1000
