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
    msg_ids, authors, times, _texts, asks = zip(*entries, strict=True) if entries else ((),) * 5
    member_codes = lex.member_codes  # Lexicon.member inline: one call fewer a message
    members = [member_codes.setdefault(a, len(member_codes)) for a in authors]
    # recent speakers' names count anywhere in a text from four letters on
    longs = [n if len(n) >= NAME_ANYWHERE else "" for n in (lex.lower.get(a, "") for a in authors)]
    rows: list[list[int]] = []
    naming_msg: list[int] = []
    naming_other: list[int] = []
    said: list[set[str]] = []
    tokens: list[int] = []
    count = _TOKEN.findall
    words_of = _WORD.findall
    normal, known_words = lex.normal, lex.words
    ids, name_codes = lex.ids, lex.name_codes
    none: list[int] = []  # the row of a message that names no one (most), shared
    # the names of the last TAIL messages' authors, kept as a sliding count rather than a
    # set built anew for every message
    recent: dict[str, int] = {}
    # addressed() and content_words() inline, as sets: one call and one frozenset fewer
    # each a message (a first recompute reads every message here once)
    for k, (_id, member, _at, text, _q) in enumerate(entries):
        if k and longs[k - 1]:
            recent[longs[k - 1]] = recent.get(longs[k - 1], 0) + 1
        if k > TAIL and longs[k - 1 - TAIL]:
            gone = longs[k - 1 - TAIL]
            if recent[gone] == 1:
                del recent[gone]
            else:
                recent[gone] -= 1
        low = text.lower()
        first = low.split(None, 1)  # nothing but spaces: no first word
        found = list(filter(low.__contains__, recent))
        if first and (head := first[0].rstrip(":,，")) in ids:
            found.append(head)
        if "@" in low:
            found.extend(f for m in _AT.findall(low) if (f := m[1:].rstrip(":,，")) in ids)
        if found:
            unique = set(found)
            rows.append([name_codes[f] for f in unique])
            for f in unique:
                other = ids.get(f)
                if other is not None and other != member:
                    naming_msg.append(k)
                    naming_other.append(lex.member(other))
        else:
            rows.append(none)
        norm = normal.get(text)
        if norm is None:
            norm = normalize(text)
        if norm.isascii():
            # an ASCII normal form is runs of [a-z0-9] between single spaces: _WORD's words
            # are its runs of three characters or more, without a regex pass
            parts = known_words.get(text)
            if parts is None:
                parts = norm.split()
            said_here = set(parts)
            said_here -= _SHORT_OR_STOP
            # and an ASCII text with no "_" (a word character the normal form drops) and no
            # "[" (emoji codes it removes) has one \w+ run for each of those runs
            plain = "_" not in text and "[" not in text and text.isascii()
            tokens.append(len(parts) if plain else len(count(text)))
        else:
            said_here = set(words_of(norm))
            said_here -= STOP
            tokens.append(len(count(text)))
        said.append(said_here)
    words = np.fromiter(map(len, said), np.int64, n)
    every = list(itertools.chain.from_iterable(said))
    distinct = set(every)  # words are compared within a stream
    codes = dict(zip(distinct, range(len(distinct)), strict=True))
    width = max((len(r) for r in rows), default=0) or 1
    names = np.full((n, width), PAD, np.int64)
    for k, r in enumerate(rows):
        if r:  # most lines name no one: no slice assignment for them
            names[k, : len(r)] = r
    member_arr = np.array(members, np.int64)
    names_of = {m: lex.name_of(m) for m in set(authors)}
    who = np.array(naming_msg, np.int64)
    return Stream(
        ids=np.array(msg_ids, np.int64),
        members=member_arr,
        at_us=np.array(_micros_all(times), np.int64),
        question=np.array(asks, np.bool_),
        short=np.array(tokens, np.int64) <= SHORT_TOKENS,
        author=np.fromiter(map(names_of.__getitem__, authors), np.int64, n),
        names=names,
        named=np.array([len(r) for r in rows], np.int64),
        naming=(who, pair_key(member_arr[who], np.array(naming_other, np.int64))),
        word_msg=np.repeat(np.arange(n, dtype=np.int64), words),
        word_code=np.fromiter(map(codes.__getitem__, every), np.int64, len(every)),
        words=words,
    )
