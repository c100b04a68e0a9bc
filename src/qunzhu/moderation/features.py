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
"""

from __future__ import annotations

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

    @property
    def dim(self) -> int:
        return 1 << self.dim_bits


@dataclass(frozen=True, slots=True)
class Hashed:
    """Feature occurrences of a batch: bucket and message of each, and counts per message
    (with ``binary``: each bucket once per message, sorted by message then bucket)."""

    buckets: Index
    docs: Index
    counts: npt.NDArray[np.int64]


def _codepoints(texts: Sequence[str]) -> tuple[U64, U64, npt.NDArray[np.uint32]]:
    """(code points with every digit as 0, message of each, the code points as written)."""
    joined = "".join(f" {t} " for t in texts)
    raw = np.frombuffer(joined.encode("utf-32-le", "replace"), dtype=np.uint32)
    lengths = np.fromiter((len(t) + 2 for t in texts), dtype=np.int64, count=len(texts))
    docs = np.repeat(np.arange(len(texts), dtype=np.uint64), lengths)
    points = raw.copy()
    points[(points >= _DIGITS[0]) & (points <= _DIGITS[1])] = _DIGITS[0]
    return points.astype(np.uint64), docs, raw


_MIN_NUMBER = 3
_LONGEST_BAND = 15


def _number_keys(raw: npt.NDArray[np.uint32], docs: U64, bits: int) -> U64:
    """One feature per number of three digits or more: its first two digits and its length
    (up to 15). Every digit hashes as 0 elsewhere, so that prices and phone numbers
    generalize; but where a number starts tells its kind: a premium-rate line (09…, 087…),
    a five-digit short code, a mobile number, a year or a version are different things."""
    digit = (raw >= _DIGITS[0]) & (raw <= _DIGITS[1])
    edges = np.diff(digit.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    lengths = np.flatnonzero(edges == -1) - starts
    long = lengths >= _MIN_NUMBER
    starts, lengths = starts[long], lengths[long]
    if not len(starts):
        return np.zeros(0, dtype=np.uint64)
    first = raw[starts].astype(np.uint64) - np.uint64(_DIGITS[0])
    second = raw[starts + 1].astype(np.uint64) - np.uint64(_DIGITS[0])
    band = np.minimum(lengths, _LONGEST_BAND).astype(np.uint64)
    value = (first * np.uint64(10) + second) * np.uint64(16) + band + np.uint64(1)
    return _keys(value, 96, bits, docs[starts])


def _keys(hashes: U64, tag: int, bits: int, docs: U64) -> U64:
    """Message and bucket in one number: message << bits | bucket."""
    with np.errstate(over="ignore"):
        mixed = (hashes + np.uint64(tag) * _MIX) * _MIX
    return (docs << np.uint64(bits)) | (mixed >> np.uint64(64 - bits))


def hash_features(texts: Sequence[str], config: FeatureConfig) -> Hashed:
    """Every feature occurrence of every text (texts already normalized)."""
    if not texts:
        empty = np.zeros(0, dtype=np.int64)
        return Hashed(empty, empty, empty)
    bits = config.dim_bits
    points, docs, raw = _codepoints(texts)
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
            keys.append(_shape_keys(texts, bits))
        if config.numbers:
            keys.append(_number_keys(raw, docs, bits))
    joined: U64 = np.concatenate(keys)
    every: Index = joined
    if config.binary and len(joined):
        every = _distinct(joined, len(texts) << bits <= 1 << 32)
    mask = every.dtype.type((1 << bits) - 1)
    found = every >> every.dtype.type(bits)
    return Hashed(every & mask, found, np.bincount(found, minlength=len(texts)))


_LENGTH_EDGES = np.array([3, 6, 11, 21, 41, 81])


def _shape_keys(texts: Sequence[str], bits: int) -> U64:
    """One feature per message for its length (characters without spaces, in six bands): a
    two-character reply carries too little to be called spam on its n-grams alone."""
    lengths = np.fromiter((len(t) - t.count(" ") for t in texts), dtype=np.int64, count=len(texts))
    bands = np.searchsorted(_LENGTH_EDGES, lengths, side="right").astype(np.uint64)
    docs = np.arange(len(texts), dtype=np.uint64)
    return _keys(bands + np.uint64(1), 99, bits, docs)


def _distinct(keys: U64, narrow: bool) -> Index:
    """Each (message, bucket) once: one sort of the keys, cheaper than np.unique. Sorted in
    32 bits when the batch allows it: that sorts more than twice as fast."""
    ordered: Index = np.sort(keys.astype(np.uint32)) if narrow else np.sort(keys)
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def _word_hashes(points: U64, docs: U64) -> tuple[U64, U64]:
    """Hash of every run of non-space characters, by prefix sums of c[j] * B^-j."""
    inverse = np.uint64(pow(int(_BASE), -1, 1 << 64))
    size = len(points)
    powers = np.full(size, _BASE, dtype=np.uint64)
    powers[0] = 1
    powers = np.cumprod(powers, dtype=np.uint64)
    inverses = np.full(size, inverse, dtype=np.uint64)
    inverses[0] = 1
    inverses = np.cumprod(inverses, dtype=np.uint64)
    prefix = np.cumsum(points * inverses, dtype=np.uint64)
    is_word = points != _SPACE
    edges = np.diff(is_word.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1  # inclusive
    before = np.where(starts > 0, prefix[np.maximum(starts - 1, 0)], np.uint64(0))
    hashes = (prefix[ends] - before) * powers[ends]
    return hashes, docs[starts]
