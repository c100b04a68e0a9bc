"""Hashed features for the spam classifier: character n-grams and words, in numpy.

No vocabulary ships: each feature is a 64-bit polynomial hash of its code points, mixed and
cut to ``dim`` buckets. The model file holds one weight per bucket, never a string from the
data it learnt from. Hashing is vectorized over a whole batch: all messages are laid end
to end, every n-gram that crosses from one message into the next is dropped.

The text hashed is the ``compact`` view of :mod:`qunzhu.moderation.normalize` with every
digit as ``0`` (phone numbers and prices generalize), wrapped in spaces so that n-grams see
where a message starts and ends.

With ``binary`` (the default since the second shipped model) a feature counts once per
message however often it occurs, and a message's features are scaled by one over the
square root of how many distinct ones it has (unit length): a spammer repeating "❤❤❤" or
a word ten times does not outweigh the rest of the message. Models written before it keep
their counting (``binary`` false in their file).

With ``shape`` each message also gets one feature for its length band, so the model can
learn that two characters ("Q:", "w8") say little, whatever their n-grams.

With ``numbers`` (since the model of issue 16) each number of three digits or more also
gets one feature for its first two digits and its length: "09099726481" (a premium-rate
line) and "01223585236" (a landline) hash alike as n-grams, not as numbers.

With ``signs`` (since the second model of issue 16) each number also gets coarser features
(its length alone; its first digit and length), and a message gets one feature per *sign*
of an SMS-style offer that the compact view cannot show or that n-grams see only piecewise
(:func:`sign_keys`): a currency amount ("£1000", "$5.00", "£2.50/min": the compact view drops
the symbol and the point), "txt/text/send/reply WORD to NNNNN" (a short code), "call" +
a long number starting with 0, a rate ("150p/msg", "1 pence per minute"), an amount in
words ("3pound", "500 quid"), prize and claim wording beside a number or an amount.
Each is a fixed integer id, never text from the data: what the model learns of them holds
for any amount, short code or number, not only the ones it saw.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
Index = npt.NDArray[np.unsignedinteger[Any]] | npt.NDArray[np.int64]
_BASE = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SPACE = 32
_DIGITS = (48, 57)


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    dim_bits: int = 19
    ngram_min: int = 1
    ngram_max: int = 3  # 1–3-grams generalize better than 1–4 on the grouped split
    words: bool = True
    binary: bool = True
    shape: bool = True
    numbers: bool = True
    signs: bool = True

    @property
    def dim(self) -> int:
        return 1 << self.dim_bits


@dataclass(frozen=True, slots=True)
class Hashed:
    """Feature occurrences of a batch: bucket and message of each, and counts per message
    (with ``binary``: each bucket once per message, sorted by message then bucket unless
    ``ordered`` was false)."""

    buckets: Index
    docs: Index
    counts: npt.NDArray[np.int64]


def _codepoints(texts: Sequence[str]) -> tuple[U64, U64, npt.NDArray[np.uint32], str]:
    """(code points with every digit as 0, message of each, the code points as written,
    the texts laid end to end as a string: one code point per character)."""
    joined = f" {'  '.join(texts)} " if texts else ""  # each text between two spaces
    raw = np.frombuffer(joined.encode("utf-32-le", "replace"), dtype=np.uint32)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 2
    docs = np.repeat(np.arange(len(texts), dtype=np.uint64), lengths)
    points = raw.copy()
    points[(points >= _DIGITS[0]) & (points <= _DIGITS[1])] = _DIGITS[0]
    return points.astype(np.uint64), docs, raw, joined


_MIN_NUMBER = 3
_LONGEST_BAND = 15


def _digit_runs(raw: npt.NDArray[np.uint32]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(start, length) of every run of digits."""
    digit = (raw >= _DIGITS[0]) & (raw <= _DIGITS[1])
    edges = np.diff(digit.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    return starts, np.flatnonzero(edges == -1) - starts


def _number_keys(raw: npt.NDArray[np.uint32], docs: U64, bits: int, coarse: bool = False) -> U64:
    """One feature per number of three digits or more: its first two digits and its length
    (up to 15). Every digit hashes as 0 elsewhere, so that prices and phone numbers
    generalize; but where a number starts tells its kind: a premium-rate line (09…, 087…),
    a five-digit short code, a mobile number, a year or a version are different things."""
    starts, lengths = _digit_runs(raw)
    long = lengths >= _MIN_NUMBER
    starts, lengths = starts[long], lengths[long]
    if not len(starts):
        return np.zeros(0, dtype=np.uint64)
    first = raw[starts].astype(np.uint64) - np.uint64(_DIGITS[0])
    second = raw[starts + 1].astype(np.uint64) - np.uint64(_DIGITS[0])
    band = np.minimum(lengths, _LONGEST_BAND).astype(np.uint64)
    value = (first * np.uint64(10) + second) * np.uint64(16) + band + np.uint64(1)
    keys = _keys(value, 96, bits, docs[starts])
    if not coarse:
        return keys
    # coarser: the length alone (a five-digit short code, an eleven-digit phone number
    # whatever its digits) and the first digit with the length (0 + eleven: a UK number)
    return np.concatenate(
        [
            keys,
            _keys(band + np.uint64(1), 94, bits, docs[starts]),
            _keys(first * np.uint64(16) + band + np.uint64(1), 93, bits, docs[starts]),
        ]
    )


def _keys(hashes: U64, tag: int, bits: int, docs: U64) -> U64:
    """Message and bucket in one number: message << bits | bucket."""
    with np.errstate(over="ignore"):
        mixed = (hashes + np.uint64(tag) * _MIX) * _MIX
    return (docs << np.uint64(bits)) | (mixed >> np.uint64(64 - bits))


def hash_features(
    texts: Sequence[str],
    config: FeatureConfig,
    views: Sequence[str] | None = None,
    *,
    ordered: bool = True,
) -> Hashed:
    """Every feature occurrence of every text (texts already normalized: the compact view).
    ``views``: the same messages in the ``text`` view of normalization, where currency
    signs are still there (with ``signs``; without it no currency feature is made).
    ``ordered=False`` (scoring, which only sums per message) leaves the features of a
    ``binary`` batch in no particular order: each (message, bucket) is still there once,
    found by a hash table instead of a sort, in less than half the time. Training keeps
    the order, so that the model it fits stays the same bit for bit."""
    if not texts:
        empty = np.zeros(0, dtype=np.int64)
        return Hashed(empty, empty, empty)
    bits = config.dim_bits
    points, docs, raw, joined_text = _codepoints(texts)
    keys: list[U64] = []
    grams = points
    with np.errstate(over="ignore"):
        for n in range(1, config.ngram_max + 1):
            if n > 1:
                grams = grams[:-1] * _BASE + points[n - 1 :]
            if n < config.ngram_min or len(grams) == 0:
                continue
            same_doc = docs[: len(grams)] == docs[n - 1 :]
            if n == 1:
                same_doc &= points != _SPACE  # a lone space says nothing
            keys.append(_keys(grams[same_doc], n, bits, docs[: len(grams)][same_doc]))
        if config.words:
            word_hashes, word_docs = _word_hashes(points, docs)
            keys.append(_keys(word_hashes, 97, bits, word_docs))
            pairs = word_docs[:-1] == word_docs[1:]  # two words in a row, same message
            pair_hashes = word_hashes[:-1][pairs] * _MIX + word_hashes[1:][pairs]
            keys.append(_keys(pair_hashes, 98, bits, word_docs[:-1][pairs]))
        if config.shape:
            keys.append(_shape_keys(points, docs, len(texts), bits))
        if config.numbers:
            keys.append(_number_keys(raw, docs, bits, coarse=config.signs))
        if config.signs:
            keys.append(sign_keys(joined_text, raw, docs, texts, views, bits))
    joined: U64 = np.concatenate(keys)
    every: Index = joined
    if config.binary and len(joined):
        narrow = len(texts) << bits <= 1 << 32
        # the table pays off on a batch; a message or a few sort faster than they build it
        loose = not ordered and len(joined) >= _TABLE_FROM
        every = _distinct_unordered(joined, narrow) if loose else _distinct(joined, narrow)
    mask = every.dtype.type((1 << bits) - 1)
    found = every >> every.dtype.type(bits)
    return Hashed(every & mask, found, np.bincount(found, minlength=len(texts)))


_CURRENCY = re.compile(r"([$£€¥₹￡￥＄])\s?(\d+)([.,]\d+)?|(\d+)([.,]\d+)?\s?([$£€¥₹￡￥＄])")
"""An amount with its currency sign before or after it (in the ``text`` view)."""
_SIGN_OF = {"$": 1, "＄": 1, "£": 2, "￡": 2, "€": 3, "¥": 4, "￥": 4, "₹": 5}
_ANY_SIGN = re.compile("[$£€¥₹￡￥＄]")
"""A bare character class: the engine finds the few messages with a sign at C speed."""
# The signs in the compact view (lower case, digits as written). Every one is tied to a
# number, so each regular expression either starts with a digit (the engine skips to the
# next digit at C speed) or runs only on the few pieces of text before a number or on the
# few messages with one: a scan of every message for words cost ten microseconds each.
_TXT_BEFORE = re.compile(
    r"(?<![a-z])(?:txt|text|sms|send|reply|msg)(?: [a-z0-9]+){0,3} (?:to|on) $"
)
"""Before a number of 4–6 digits: "txt WIN to 85023", "send STOP to 69855" (a short code)."""
_CALL_BEFORE = re.compile(r"(?<![a-z])(?:call|ring|dial|phone|tel)(?: [a-z]+){0,3} $")
"""Before a number of 10–12 digits starting with 0: "call 09061701461" (a premium line)."""
_BEFORE = 40
"""How far before a number those look (characters): three words and the keyword."""
_PRICED = re.compile(
    r"\d(?<![a-z\d]\d)\d*(?: ?(?P<rate>(?:p|pence|ppm|c|cents?)(?: ?(?:per|a|each))? ?"
    r"(?:min|mins|minute|msg|message|week|wk|txt|text|sms|call|day))"
    r"|(?P<money> ?(?:pounds?|quid|pence|gbp|usd|dollars?|euros?|eur|cents?)))(?![a-z\d])"
)
"""A rate ("150p msg", "1 pence per minute") or an amount in words ("3pound", "500 quid")."""
_WORDS = re.compile(
    r"(?<![a-z])(?:(?P<prize>won|win|winner|wins|prize|claim|award|awarded|guaranteed|reward"
    r"|bonus|cash|selected|free entry|entry|urgent)|(?P<stop>stop|unsubscribe|opt out|optout))"
    r"(?![a-z\d])"
)
"""Prize or stop wording: ordinary English alone ("I won", "stop it"), a sign only in a
message with a number of three digits or more, or an amount."""
_MAY_WORD = re.compile(
    "won|win|prize|claim|award|guaranteed|reward|bonus|cash|selected|entry|urgent|stop"
    "|unsubscribe|opt"
)
"""A part of every _WORDS word, each branch a plain word: the engine skips to the letters
they start with at C speed, and a message without any (Chinese text) needs no _WORDS scan."""
_TXT, _CALL, _RATE, _MONEY, _PRIZE, _STOP, _AMOUNT = 1, 2, 3, 4, 5, 6, 16


def sign_keys(
    joined: str,
    raw: npt.NDArray[np.uint32],
    docs: U64,
    texts: Sequence[str],
    views: Sequence[str] | None,
    bits: int,
) -> U64:
    """One feature per sign of an SMS-style offer in a message (see the module's notes).
    ``joined`` is the compact texts laid end to end, two spaces apart (no sign's pattern
    spans two spaces), ``raw`` its code points and ``docs`` the message of each."""
    out: list[int] = []
    found: list[int] = []
    starts, lengths = _digit_runs(raw)
    zero = raw[starts] == _DIGITS[0]
    # "… to 85023" / "… on 85023": the three characters before a short code, in numpy
    prior = [raw[np.maximum(starts - k, 0)] for k in (3, 2, 1)]
    to_or_on = (
        ((prior[0] == ord("t")) & (prior[1] == ord("o")))
        | ((prior[0] == ord("o")) & (prior[1] == ord("n")))
    ) & (prior[2] == _SPACE)
    short_code = (lengths >= 4) & (lengths <= 6) & to_or_on
    premium = (lengths >= 10) & (lengths <= 12) & zero & (prior[2] == _SPACE)
    for at, length in zip(
        starts[short_code | premium].tolist(), lengths[short_code | premium].tolist(), strict=True
    ):
        before = joined[max(at - _BEFORE, 0) : at]
        pattern = _TXT_BEFORE if length <= 6 else _CALL_BEFORE
        if pattern.search(before):
            out.append(_TXT if length <= 6 else _CALL)
            found.append(int(docs[at]))
    for match in _PRICED.finditer(joined):
        out.append(_RATE if match.group("rate") else _MONEY)
        found.append(int(docs[match.start()]))
    numbered = set(docs[starts[lengths >= _MIN_NUMBER]].tolist())
    if views is not None and len(views) == len(texts):
        joined_views = "\n".join(views)
        signs = [m.start() for m in _ANY_SIGN.finditer(joined_views)]
        ends = np.cumsum(np.fromiter(map(len, views), np.int64, len(views)) + 1)
        with_sign = np.unique(np.searchsorted(ends, signs, side="right")).tolist()
        amounts = ((doc, m) for doc in with_sign for m in _CURRENCY.finditer(views[doc]))
        for doc, match in amounts:
            sign = match.group(1) or match.group(6)
            digits = match.group(2) or match.group(4)
            cents = match.group(3) or match.group(5)
            # which sign, how many digits (1..5+), pence or not
            shape = _SIGN_OF.get(sign, 0) * 16 + min(len(digits), 5) * 2 + (1 if cents else 0)
            out.append(_AMOUNT + shape)
            found.append(doc)
            numbered.add(doc)
    for doc in sorted(numbered):
        if not _MAY_WORD.search(texts[doc]):
            continue
        kinds = {_PRIZE if m.group("prize") else _STOP for m in _WORDS.finditer(texts[doc])}
        out += kinds
        found += [doc] * len(kinds)
    if not out:
        return np.zeros(0, dtype=np.uint64)
    return _keys(np.array(out, dtype=np.uint64), 92, bits, np.array(found, dtype=np.uint64))


_LENGTH_EDGES = np.array([3, 6, 11, 21, 41, 81])


def _shape_keys(points: U64, docs: U64, count: int, bits: int) -> U64:
    """One feature per message for its length (characters without spaces, in six bands): a
    two-character reply carries too little to be called spam on its n-grams alone."""
    lengths = np.bincount(docs[points != _SPACE].astype(np.intp), minlength=count)
    bands = np.searchsorted(_LENGTH_EDGES, lengths, side="right").astype(np.uint64)
    return _keys(bands + np.uint64(1), 99, bits, np.arange(count, dtype=np.uint64))


def _distinct(keys: U64, narrow: bool) -> Index:
    """Each (message, bucket) once: one sort of the keys, cheaper than np.unique. Sorted in
    32 bits when the batch allows it: that sorts more than twice as fast."""
    ordered: Index = np.sort(keys.astype(np.uint32)) if narrow else np.sort(keys)
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


_MIX32 = np.uint32(0x9E3779B1)
_TABLE_FROM = 4096
"""Keys in a batch from which :func:`_distinct_unordered` beats a sort."""


def _distinct_unordered(keys: U64, narrow: bool) -> Index:
    """Each (message, bucket) once, in no particular order: every key is written to a slot
    of a table eight times its length (a hash of the key), and the one written last owns
    the slot. A key equal to its slot's owner is kept only where it is the owner; a key
    unlike its slot's owner (about 2%: every copy of that key lands on the same slot) is
    left to :func:`_distinct`. Several times cheaper than sorting every key."""
    values: Index = keys.astype(np.uint32) if narrow else keys
    size = len(values)
    bits = max((8 * size - 1).bit_length(), 4)
    with np.errstate(over="ignore"):
        if narrow and bits < 32:  # 32-bit keys hash in 32 bits: a third less to compute
            slot = ((values * _MIX32) >> np.uint32(32 - bits)).astype(np.intp)
        else:
            slot = ((keys * _MIX) >> np.uint64(64 - bits)).astype(np.intp)
    table = np.empty(1 << bits, dtype=np.int32)
    where = np.arange(size, dtype=np.int32)
    table[slot] = where
    owner = table[slot]
    other = values[owner] != values
    kept: Index = values[owner == where]
    if not other.any():
        return kept
    rest: Index = np.concatenate([kept, _distinct(keys[other], narrow)])
    return rest


_POWERS: list[tuple[U64, U64]] = []


def _power_tables(size: int) -> tuple[U64, U64]:
    """(B^j, B^-j) for j < size (mod 2^64), computed once and grown by doubling: every
    batch used to compute both again (two cumulative products per chunk scored)."""
    if not _POWERS or len(_POWERS[0][0]) < size:
        length = max(size, 2 * len(_POWERS[0][0]) if _POWERS else 1 << 15)
        inverse = np.uint64(pow(int(_BASE), -1, 1 << 64))
        powers = np.full(length, _BASE, dtype=np.uint64)
        powers[0] = 1
        inverses = np.full(length, inverse, dtype=np.uint64)
        inverses[0] = 1
        with np.errstate(over="ignore"):
            tables = (np.cumprod(powers, dtype=np.uint64), np.cumprod(inverses, dtype=np.uint64))
        _POWERS[:] = [tables]
    powers, inverses = _POWERS[0]
    return powers[:size], inverses[:size]


def _word_hashes(points: U64, docs: U64) -> tuple[U64, U64]:
    """Hash of every run of non-space characters, by prefix sums of c[j] * B^-j."""
    powers, inverses = _power_tables(len(points))
    prefix = np.cumsum(points * inverses, dtype=np.uint64)
    is_word = points != _SPACE
    edges = np.diff(is_word.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1  # inclusive
    before = np.where(starts > 0, prefix[np.maximum(starts - 1, 0)], np.uint64(0))
    hashes = (prefix[ends] - before) * powers[ends]
    return hashes, docs[starts]
