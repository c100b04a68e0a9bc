"""Near-duplicate clusters of messages: SimHash over character shingles of the normalized text.

A random split by text leaves the same ad with another phone number, other spacing or a few
emoji on both sides, and the test half then rewards memorising. Here every text becomes a
64-bit SimHash of its character 3-grams (the ``compact`` view of
:mod:`qunzhu.moderation.normalize`, each run of digits as one ``0``, so numbers, spacing, look-alike
letters and inserted separators do not tell variants apart); two texts whose SimHashes differ
in at most ``max_distance`` bits are near-duplicates, and clusters are the connected groups
(union-find). Candidates are found by banding: with ``max_distance + 1`` bands, two hashes that
close agree exactly on at least one band (pigeonhole), so no pair within the distance is
missed and no all-pairs comparison is needed.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from qunzhu.moderation.normalize import normalize

SHINGLE = 3
MAX_DISTANCE = 5
_BITS = np.uint64(1) << np.arange(64, dtype=np.uint64)


_DIGIT_RUN = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def canonical(text: str) -> str:
    """The view clustering compares: normalized, compact, no spaces, every run of digits
    as one 0 (an ad with another phone number, price or id is the same ad)."""
    return _DIGIT_RUN.sub("0", _SPACE.sub("", normalize(text).compact))


def _shingle_hash(shingle: str) -> int:
    digest = hashlib.blake2b(shingle.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def simhash(canon: str) -> int:
    """64-bit SimHash of the text's character shingles (each distinct shingle once)."""
    if len(canon) < SHINGLE:
        shingles = {canon} if canon else set()
    else:
        shingles = {canon[i : i + SHINGLE] for i in range(len(canon) - SHINGLE + 1)}
    if not shingles:
        return 0
    hashes = np.fromiter((_shingle_hash(s) for s in shingles), dtype=np.uint64)
    ones = ((hashes[:, None] & _BITS) != 0).sum(axis=0)
    bits = ones * 2 > len(hashes)
    return int(np.sum(_BITS[bits], dtype=np.uint64))


def _distance(a: int, b: int) -> int:
    return (a ^ b).bit_count()


class _Union:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def clusters(texts: Sequence[str], max_distance: int = MAX_DISTANCE) -> npt.NDArray[np.int64]:
    """A cluster id per text (the index of its cluster's first text); exact duplicates of
    the canonical view and SimHash neighbours within ``max_distance`` bits share one."""
    canons = [canonical(t) for t in texts]
    union = _Union(len(texts))
    first: dict[str, int] = {}
    for i, canon in enumerate(canons):
        union.join(first.setdefault(canon, i), i)
    hashes = [simhash(c) for c in canons]
    bands = max_distance + 1
    width = 64 // bands
    for band in range(bands):
        shift = band * width
        size = 64 - shift if band == bands - 1 else width
        mask = (1 << size) - 1
        buckets: dict[int, list[int]] = defaultdict(list)
        for i, value in enumerate(hashes):
            if canons[i]:
                buckets[(value >> shift) & mask].append(i)
        for members in buckets.values():
            for k, i in enumerate(members):
                for j in members[k + 1 :]:
                    if _distance(hashes[i], hashes[j]) <= max_distance:
                        union.join(i, j)
    return np.array([union.find(i) for i in range(len(texts))], dtype=np.int64)


def cluster_key(texts: Sequence[str], ids: npt.NDArray[np.int64]) -> list[str]:
    """A stable name for each text's cluster (the smallest of its texts in canonical form):
    a split by a hash of it keeps every cluster on one side, whatever the order of rows."""
    smallest: dict[int, str] = {}
    for text, c in zip(texts, ids.tolist(), strict=True):
        canon = canonical(text)
        if c not in smallest or canon < smallest[c]:
            smallest[c] = canon
    return [smallest[c] for c in ids.tolist()]
