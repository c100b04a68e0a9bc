"""The arrays of a group's stream (qunzhu.engines.replystream) against the linker's own
definitions, one message at a time (qunzhu.engines.replylink)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qunzhu.engines.features import features_and_normal
from qunzhu.engines.replylink import _TOKEN, SHORT_TOKENS, content_words
from qunzhu.engines.replystream import Lexicon, build_stream

T0 = datetime(2024, 3, 1, tzinfo=UTC)
# ASCII lines take a path without regexes (an ASCII normal form's runs are the words):
# the lines where it must not, or where the runs and the regexes could part
TEXTS = [
    "how do I mount the usb drive on boot",
    "foo_bar baz_qux quux",  # "_" is a word character the normal form drops
    "[偷笑] ok then",  # an emoji code the normal form removes
    "x [ab] y z w v u t",
    "a\x1cb c\x1fd e",  # control characters Python splits on
    "Ünïcode wörds here, fine",
    "it's i'm don't can't won't",
    "ab abc abcd ABCDE 12 123 a1b2",
    "a.b.c d-e f_g h/i j:k",
    "the and or but to of in on",
    "   ",
    "",
    "哈哈哈 这个问题怎么解决",
    "sudo apt-get install -y foo; echo $HOME",
    "1 2 3 4 5 6",
    "1 2 3 4 5 6 7",
    "one,two,three,four,five,six,seven",
    "https://example.com/a_b?c=d [x]",
    "!!! ??? ...",
]


@pytest.mark.parametrize("given_normal", [True, False])
def test_words_and_short_lines_are_the_linkers(given_normal: bool) -> None:
    entries = [
        (i + 1, 100 + i % 3, T0 + timedelta(seconds=i), text, False) for i, text in enumerate(TEXTS)
    ]
    normal = {t: features_and_normal(t)[1] for t in TEXTS} if given_normal else {}
    s = build_stream(entries, Lexicon({100: "ann", 101: "bob", 102: "cat"}, normal=normal))
    # the words of each message, by their codes
    codes: list[set[int]] = [set() for _ in TEXTS]
    for k, code in zip(s.word_msg.tolist(), s.word_code.tolist(), strict=True):
        codes[k].add(code)
    words = [content_words(t) for t in TEXTS]
    for k, text in enumerate(TEXTS):
        assert s.words[k] == len(words[k]), text
        assert bool(s.short[k]) == (len(_TOKEN.findall(text)) <= SHORT_TOKENS), text
    # one code a word: two messages share codes where they share words
    for a in range(len(TEXTS)):
        for b in range(len(TEXTS)):
            assert len(codes[a] & codes[b]) == len(words[a] & words[b])


@pytest.mark.parametrize("texts", [[], ["ok", "", "the a"], ["ann: hi", "bob hi ann"]])
def test_streams_without_words_or_names(texts: list[str]) -> None:
    # the words and the names are made unique a stream at a time: a stream with none of
    # either (or with no messages) still has one row of each per message
    entries = [
        (i + 1, 100 + i % 2, T0 + timedelta(seconds=i), t, False) for i, t in enumerate(texts)
    ]
    s = build_stream(entries, Lexicon({100: "ann", 101: "bob"}))
    assert len(s) == len(texts) == len(s.words) == len(s.named) == s.names.shape[0]
    assert s.words.tolist() == [len(content_words(t)) for t in texts]
    assert s.named.tolist() == [int("ann" in t or "bob" in t) for t in texts]
