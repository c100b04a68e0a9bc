"""One group's messages in time order as arrays: what batched reply linking
(:mod:`qunzhu.engines.replyfeatures`) reads.

The :class:`~qunzhu.engines.replylink.Linker` keeps the last messages of a group and looks
at them one message at a time. Which messages it holds before message ``k`` of a stream
depends only on ``k`` (it keeps up to ``4 × MAX_CANDIDATES``, then drops back to
``2 × MAX_CANDIDATES``), and everything it remembers (who named whom, who asked last, whose
names a member used last) is a "latest before ``k``" of something. So the whole stream can
be described at once and each message's view recovered from arrays, with no loop over
messages in Python beyond reading each text once.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import compress, repeat
from operator import contains, is_, not_
from typing import cast

import numpy as np
from numpy.typing import NDArray

from qunzhu.engines.features import normalize
from qunzhu.engines.replylink import (
    _AT,
    _TOKEN,
    _WORD,
    MAX_CANDIDATES,
    NAME_ANYWHERE,
    SHORT_TOKENS,
    STOP,
)

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
Bools = NDArray[np.bool_]

DEPTH = 4 * MAX_CANDIDATES  # the most earlier messages the linker holds
TAIL = 2 * MAX_CANDIDATES  # what it keeps when it drops the oldest, and the names' look-back
NO_NAME = -1  # a member without a display name
PAD = -2  # fills the rows of the names matrix; equals no name code
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
# every run of one or two of [a-z0-9] (too short for _WORD) and the stop words: what an ASCII
# normal form's runs lose to become its content words
_SHORT_OR_STOP = STOP | set(_ALNUM) | {a + b for a in _ALNUM for b in _ALNUM}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_US = timedelta(microseconds=1)
_NONE = np.zeros(0, np.int64)

Entry = tuple[int, int, datetime, str, bool]
"""A message as the stream takes it: (id, member id, time, text, is a question)."""


def held(k: I64) -> I64:
    """How many earlier messages the linker holds when message ``k`` of a stream arrives."""
    return np.where(k <= DEPTH, k, TAIL + (k - DEPTH - 1) % (DEPTH - TAIL + 1))


@dataclass
class Lexicon:
    """Codes shared by the streams of one batch: members and lower-cased names."""

    names: dict[int, str]  # member id -> display name
    name_codes: dict[str, int] = field(default_factory=dict)
    member_codes: dict[int, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)  # lower-cased name -> member id
    lower: dict[int, str] = field(default_factory=dict)  # member id -> lower-cased name
    # text -> its normal form, where the batch's text features computed it already
    normal: dict[str, str] = field(default_factory=dict)
    # text -> its normal form's words (``str.split``), where they are known already
    words: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # as the linker builds it: of two members with one name, the later one in the dict
        self.ids = {n.lower(): i for i, n in self.names.items() if n}
        self.lower = {i: n.lower() for i, n in self.names.items()}
        for n in self.lower.values():
            if n:
                self.name_codes.setdefault(n, len(self.name_codes))

    def member(self, member_id: int) -> int:
        return self.member_codes.setdefault(member_id, len(self.member_codes))

    def name_of(self, member_id: int) -> int:
        n = self.lower.get(member_id, "")
        return self.name_codes[n] if n else NO_NAME


@dataclass
class Stream:
    """A group's messages in time order, its context first."""

    ids: I64
    members: I64  # member codes (Lexicon.member)
    at_us: I64  # microseconds since 1970
    question: Bools
    short: Bools  # few tokens: thanks, yes, a one-line answer
    author: I64  # name code of each message's author (NO_NAME if none)
    names: I64  # (n, width): name codes each message addresses, PAD after the last
    named: I64  # number of names each message addresses
    naming: tuple[I64, I64]  # (message, pair key) each time a message names a member
    word_msg: I64  # (message, word code) of every content word of every message
    word_code: I64
    words: I64  # content words per message
    prev_same: I64 = field(init=False)  # the author's previous message (-1: none)
    next_same: I64 = field(init=False)  # the author's next message (len: none)
    prev_earlier: I64 = field(init=False)  # the author's latest message strictly before
    asked_through: I64 = field(init=False)  # the author's latest question up to here (-1)

    def __post_init__(self) -> None:
        n = len(self.ids)
        order = np.argsort(self.members, kind="stable")
        same = self.members[order[1:]] == self.members[order[:-1]]
        self.prev_same = np.full(n, -1, np.int64)
        self.prev_same[order[1:]] = np.where(same, order[:-1], -1)
        self.next_same = np.full(n, n, np.int64)
        self.next_same[order[:-1]] = np.where(same, order[1:], n)
        # within a member, runs of one time: the message before the run is the latest
        # one strictly earlier
        t = self.at_us[order]
        starts = np.ones(n, np.bool_)
        starts[1:] = ~same | (t[1:] != t[:-1])
        first_of_run = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
        before = first_of_run - 1
        ok = before >= 0
        ok[ok] &= self.members[order[before[ok]]] == self.members[order[ok]]
        self.prev_earlier = np.full(n, -1, np.int64)
        self.prev_earlier[order] = np.where(ok, order[np.maximum(before, 0)], -1)
        # the latest question in member order, kept where it is the same member's
        first = np.ones(n, np.bool_)
        first[1:] = ~same
        member_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        asked = np.maximum.accumulate(np.where(self.question[order], np.arange(n), -1))
        self.asked_through = np.full(n, -1, np.int64)
        self.asked_through[order] = np.where(asked >= member_start, order[np.maximum(asked, 0)], -1)

    def __len__(self) -> int:
        return len(self.ids)


def micros(at: datetime) -> int:
    return (at - (_EPOCH if at.tzinfo is not None else _EPOCH_NAIVE)) // _US


def _micros_all(times: Sequence[datetime]) -> list[int]:
    """:func:`micros` of each time, once per distinct time: chat logs stamp to the minute,
    and most lines share theirs with a neighbour (21,100 times over the 108,708 #ubuntu
    lines)."""
    seen: dict[datetime, int] = {}
    out: list[int] = []
    for at in times:
        us = seen.get(at)
        if us is None:
            us = seen[at] = micros(at)
        out.append(us)
    return out


def pair_key(a: I64, b: I64) -> I64:
    """One key for the members a and b whichever named whom (codes below 2**31)."""
    return np.minimum(a, b) * (1 << 31) + np.maximum(a, b)


def build_stream(entries: Sequence[Entry], lex: Lexicon) -> Stream:
    """The arrays of one group's messages (``entries`` in time order). Reads each text
    once: the names it addresses (as the linker does, recent speakers' names included:
    :func:`~qunzhu.engines.replylink.addressed`), its content words
    (:func:`~qunzhu.engines.replylink.content_words`), its length."""
    n = len(entries)
    # the entries' columns, each read once
    msg_ids, authors, times, texts, asks = zip(*entries, strict=True) if entries else ((),) * 5
    member_codes = lex.member_codes  # Lexicon.member inline: one call fewer a message
    members = [member_codes.setdefault(a, len(member_codes)) for a in authors]
    member_arr = np.array(members, np.int64)
    names, named, naming = _addressing(texts, authors, member_arr, lex)
    word_msg, word_code, words, tokens = _words(texts, lex)
    names_of = {m: lex.name_of(m) for m in set(authors)}
    return Stream(
        ids=np.array(msg_ids, np.int64),
        members=member_arr,
        at_us=np.array(_micros_all(times), np.int64),
        question=np.array(asks, np.bool_),
        short=tokens <= SHORT_TOKENS,
        author=np.fromiter(map(names_of.__getitem__, authors), np.int64, n),
        names=names,
        named=named,
        naming=naming,
        word_msg=word_msg,
        word_code=word_code,
        words=words,
    )


def _addressing(
    texts: Sequence[str], authors: Sequence[int], members: I64, lex: Lexicon
) -> tuple[I64, I64, tuple[I64, I64]]:
    """The names matrix, the number of names and the (message, pair key) namings of a
    stream: :func:`~qunzhu.engines.replylink.addressed` of every text, a column at a time
    (a pass of C calls over all texts for each way a text names someone: first word, @name,
    a recent speaker's name anywhere), then the (message, name) hits made unique at once,
    so no set or row is built for each message."""
    n = len(texts)
    ids, name_codes = lex.ids, lex.name_codes
    lows = list(map(str.lower, texts))
    hit_k: list[int] = []
    hit_name: list[str] = []
    # recent speakers' names count anywhere in a text from four letters on; the names of the
    # last TAIL messages' authors, kept as a sliding count rather than a set for each message
    longs = [x if len(x) >= NAME_ANYWHERE else "" for x in map(lex.lower.get, authors, repeat(""))]
    came = ["", *longs[:-1]]
    gone = [""] * (TAIL + 1) + longs[: max(n - 1 - TAIL, 0)]
    recent: dict[str, int] = {}
    for k, (low, new, old) in enumerate(zip(lows, came, gone, strict=False)):
        if new:
            recent[new] = recent.get(new, 0) + 1
        if old:
            if recent[old] == 1:
                del recent[old]
            else:
                recent[old] -= 1
        for f in filter(low.__contains__, recent):
            hit_k.append(k)
            hit_name.append(f)
    # the first word (nothing but spaces: none), if it is a known name
    firsts = map(str.split, lows, repeat(None), repeat(1))
    heads = [f[0].rstrip(":,，") if f else "" for f in firsts]
    is_name = list(map(ids.__contains__, heads))
    hit_k.extend(compress(range(n), is_name))
    hit_name.extend(compress(heads, is_name))
    for k in compress(range(n), map(contains, lows, repeat("@"))):
        for m in _AT.findall(lows[k]):
            if (f := m[1:].rstrip(":,，")) in ids:
                hit_k.append(k)
                hit_name.append(f)
    if not hit_k:
        return np.full((n, 1), PAD, np.int64), np.zeros(n, np.int64), (_NONE, _NONE)
    # each (message, name) once, by message
    span = len(name_codes) + 1
    code = np.fromiter(map(name_codes.__getitem__, hit_name), np.int64, len(hit_name))
    # the hits run in message order within each way (three runs): a stable sort merges them
    hits = np.array(hit_k, np.int64) * span + code
    order = np.argsort(hits, kind="stable")
    keys = hits[order]
    once = np.concatenate(([True], keys[1:] != keys[:-1]))
    keys, first = keys[once], order[once]
    k_of, code = keys // span, keys % span
    named = np.bincount(k_of, minlength=n).astype(np.int64)
    starts = np.cumsum(named) - named
    names = np.full((n, max(int(named.max()), 1)), PAD, np.int64)
    names[k_of, np.arange(len(keys)) - starts[k_of]] = code
    # the members named, other than the author: their codes in the order they are named
    other = np.fromiter(map(ids.__getitem__, hit_name), np.int64, len(hit_name))[first]
    own = np.array(authors, np.int64)[k_of]
    by = k_of[other != own]
    member_codes = lex.member_codes
    others = [member_codes.setdefault(o, len(member_codes)) for o in other[other != own].tolist()]
    return names, named, (by, pair_key(members[by], np.array(others, np.int64)))


def _words(texts: Sequence[str], lex: Lexicon) -> tuple[I64, I64, I64, I64]:
    """(message, word code) of every content word, the content words per message and the
    tokens per message (:func:`~qunzhu.engines.replylink.content_words`, ``_TOKEN``), a
    column at a time. An ASCII normal form is runs of [a-z0-9] between single spaces:
    _WORD's words are its runs of three characters or more, without a regex pass; the
    stop words and runs too short (:data:`_SHORT_OR_STOP`) are dropped by code, once per
    distinct word. Of a non-ASCII one _WORD's words are three characters or more, or two
    CJK ones: none is a short ASCII run, so the same filter drops just the stop words."""
    n = len(texts)
    normal, known = lex.normal, lex.words
    maybe = list(map(normal.get, texts))
    for k in compress(range(n), map(is_, maybe, repeat(None))):
        maybe[k] = normalize(texts[k])
    norms = cast(list[str], maybe)  # every one filled in
    ascii_norm = list(map(str.isascii, norms))
    given = list(map(known.get, texts))
    # the words where the caller did not split the normal form, and every non-ASCII one's
    unknown = compress(range(n), map(is_, given, repeat(None)))
    for k in sorted(set(unknown).union(compress(range(n), map(not_, ascii_norm)))):
        given[k] = norms[k].split() if ascii_norm[k] else _WORD.findall(norms[k])
    parts = cast(list[list[str]], given)  # every one filled in
    said = np.fromiter(map(len, parts), np.int64, n)
    # an ASCII text with no "_" (a word character the normal form drops) and no "[" (emoji
    # codes it removes) whose normal form is ASCII has one \w+ run for each of its runs
    tokens = said.copy()
    plain = np.fromiter(map(str.isascii, texts), np.bool_, n)
    plain &= np.array(ascii_norm, np.bool_)
    plain &= ~np.fromiter(map(contains, texts, repeat("_")), np.bool_, n)
    plain &= ~np.fromiter(map(contains, texts, repeat("[")), np.bool_, n)
    count = _TOKEN.findall
    for k in np.flatnonzero(~plain).tolist():
        tokens[k] = len(count(texts[k]))
    # every word once a message: by its code among the stream's words, with numpy rather
    # than a set for each message. A word's code is the place it first comes in the
    # stream's words, given in one pass (codes are only compared, within a stream)
    total = int(said.sum())
    codes: dict[str, int] = {}
    every = map(codes.setdefault, itertools.chain.from_iterable(parts), itertools.count())
    word_code = np.fromiter(every, np.int64, total)
    stop = np.zeros(total + 1, np.bool_)
    stop[np.array([c for w, c in codes.items() if w in _SHORT_OR_STOP], np.int64)] = True
    word_msg = np.repeat(np.arange(n, dtype=np.int64), said)
    keep = ~stop[word_code]
    span = total + 1
    # the keys run in message order already: a stable sort (a merge of runs) is several
    # times faster here than np.unique's
    keys = np.sort(word_msg[keep] * span + word_code[keep], kind="stable")
    keys = np.concatenate((keys[:1], keys[1:][keys[1:] != keys[:-1]]))
    word_msg, word_code = keys // span, keys % span
    return word_msg, word_code, np.bincount(word_msg, minlength=n).astype(np.int64), tokens
