"""Is a candidate pair really one story? Exact measures on shingles, after LSH.

LSH only proposes; these decide. Two measures:
- Jaccard of the shingle sets: the `similarity` column (how alike overall).
- word coverage: the share of a text's words that sit in at least one shingle
  the other text also has, taken for the better-covered side of the pair.

Why coverage decides and not Jaccard or set containment: a copy with 10% of
words edited loses ~27% of its 3-gram shingles (each edit breaks 3), but ~10% of
its words; a copy that dropped a paragraph has low Jaccard, yet the shorter side
is still covered almost whole. Two different articles sharing a teaser block or a
wire opening are never covered beyond the shared part: each keeps its own body.
bench/dedup_quality.py measures the gap (copies >= 0.77, hard negatives <= 0.72).

A batch verifies ~25 LSH candidates per article, nearly all far below the merge
threshold. `ShinglePool` first bounds each side's coverage from above with a bit
filter of the other text's shingles (a superset of its shingles: every real hit
is a filter hit, so the filter covers every word the text covers); a side the
bound puts below the threshold is below it, and only the rest is counted exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _coverage(seq, other_set, n, floor):
    m = seq.shape[0]
    if m == 0 or other_set.shape[0] == 0:
        return 0.0
    words = m + n - 1
    # Word j's status is final once shingle j is seen: past this many uncovered words
    # the share cannot reach `floor`, and the (lower) share so far is returned.
    may_miss = words - floor * words
    last_hit = -(1 << 30)  # index of the last shingle found in other_set
    covered = 0
    for j in range(words):
        if j < m:
            h = seq[j]
            i = np.searchsorted(other_set, h)
            if i < other_set.shape[0] and other_set[i] == h:
                last_hit = j
        # word j is inside shingles j-n+1 .. j; covered if the newest hit among them is close enough
        if j - last_hit < n:
            covered += 1
        elif j + 1 - covered > may_miss:
            return covered / words
    return covered / words


def coverage(seq: np.ndarray, other_set: np.ndarray, n: int, floor: float = 0.0) -> float:
    """Share of the words of `seq` (a shingle sequence) covered by shingles in `other_set` (sorted).

    `floor`: a share below it is only known to be below it (the count stops early);
    at or above it, the share is exact."""
    return _coverage(seq, other_set, n, floor)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard of two sorted unique uint32 sets."""
    if a.size == 0 or b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def pair_coverage(
    seq_a: np.ndarray, set_a: np.ndarray, seq_b: np.ndarray, set_b: np.ndarray, n: int, floor: float = 0.0
) -> float:
    """The better-covered side's share; exact when >= `floor` (see `coverage`). Most LSH
    candidates are far below the merge threshold: given as `floor`, they stop early."""
    return max(coverage(seq_a, set_b, n, floor), coverage(seq_b, set_a, n, floor))


# ---- many pairs at once ------------------------------------------------------
_FILTER_BITS = 16  # filter bits per shingle: ~6% false hits, so ~1% of candidates reach the exact count


@njit(cache=True, nogil=True)
def _filters(seqs, offsets):
    """Per document, a bit set of the top `lg` bits of its shingles (already mixed hashes),
    2^lg >= _FILTER_BITS per shingle: (bits, word offsets, lg)."""
    docs = offsets.shape[0] - 1
    word_offsets = np.zeros(docs + 1, np.int64)
    lgs = np.empty(docs, np.int64)
    for d in range(docs):
        lg = 6
        while lg < 32 and (1 << lg) < _FILTER_BITS * (offsets[d + 1] - offsets[d]):
            lg += 1
        lgs[d] = lg
        word_offsets[d + 1] = word_offsets[d] + (1 << (lg - 6))
    bits = np.zeros(word_offsets[docs], np.uint64)
    for d in range(docs):
        shift = np.uint32(32 - lgs[d])
        for i in range(offsets[d], offsets[d + 1]):
            b = seqs[i] >> shift
            bits[word_offsets[d] + (b >> 6)] |= np.uint64(1) << np.uint64(b & 63)
    return bits, word_offsets, lgs


@njit(cache=True, nogil=True)
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, nogil=True)
def _may_reach(seq, bits, lg, n, floor):
    """False only if `seq`'s coverage by the filtered text is surely below `floor`.

    Words in 64-word blocks, branch-free: a block's filter hits as a bit mask, a word
    covered if a hit is among its n shingles (this block's hits shifted, and the last
    n-1 of the previous block's). Uncovered words only grow with the scan, so once
    more than `floor` allows are seen, the true count, never smaller, is out as well."""
    if n > 64:  # a word's shingles would span more than two blocks: no bound, count exactly
        return True
    m = seq.shape[0]
    words = m + n - 1
    may_miss = words - floor * words  # as in _coverage
    shift = np.uint32(32 - lg)
    uncovered = 0
    prev = np.uint64(0)
    for start in range(0, words, 64):
        hits = np.uint64(0)
        for j in range(start, min(start + 64, m)):
            b = seq[j] >> shift
            hits |= ((bits[b >> 6] >> np.uint64(b & 63)) & np.uint64(1)) << np.uint64(j - start)
        covered = hits
        for s in range(1, n):
            covered |= (hits << np.uint64(s)) | (prev >> np.uint64(64 - s))
        tail = words - start
        if tail < 64:  # past the last word: not a word, not counted
            covered |= ~np.uint64(0) << np.uint64(tail)
        uncovered += 64 - _popcount(covered)
        if uncovered > may_miss:
            return False
        prev = hits
    return True


@njit(cache=True, nogil=True)
def _side(pool, doc, other, n, floor):
    """`coverage` of `doc` by `other`; 0.0 when the filter proves it below `floor`."""
    seqs, offsets, sets, set_sizes, bits, bit_offsets, lgs = pool
    seq = seqs[offsets[doc] : offsets[doc + 1]]
    if not _may_reach(seq, bits[bit_offsets[other] : bit_offsets[other + 1]], lgs[other], n, floor):
        return 0.0
    if set_sizes[other] < 0:  # sorted once, on the first exact count that needs it
        s = np.sort(seqs[offsets[other] : offsets[other + 1]])
        k = 0
        for i in range(s.shape[0]):
            if i == 0 or s[i] != s[i - 1]:
                sets[offsets[other] + k] = s[i]
                k += 1
        set_sizes[other] = k
    other_set = sets[offsets[other] : offsets[other] + set_sizes[other]]
    return _coverage(seq, other_set, n, floor)


@njit(cache=True, nogil=True)
def _pair_coverages(pool, doc, others, n, floor):
    out = np.empty(others.shape[0], np.float64)
    for k in range(others.shape[0]):
        out[k] = max(_side(pool, doc, others[k], n, floor), _side(pool, others[k], doc, n, floor))
    return out


class ShinglePool:
    """Shingle sequences of many documents, each with its bit filter (and its sorted set,
    made when first needed): what `pair_coverages` reads, built once for a batch."""

    def __init__(self, seqs: list[np.ndarray]):
        offsets = np.zeros(len(seqs) + 1, np.int64)
        np.cumsum([s.size for s in seqs], out=offsets[1:])
        flat = np.concatenate(seqs).astype(np.uint32, copy=False) if seqs else np.empty(0, np.uint32)
        sets = np.empty_like(flat)  # doc d's sorted set at offsets[d], set_sizes[d] long
        set_sizes = np.full(len(seqs), -1, np.int64)
        self._arrays = (flat, offsets, sets, set_sizes, *_filters(flat, offsets))

    def seq(self, doc: int) -> np.ndarray:
        """Document `doc`'s shingle sequence (a view)."""
        flat, offsets = self._arrays[:2]
        return flat[offsets[doc] : offsets[doc + 1]]

    def size(self, doc: int) -> int:
        offsets = self._arrays[1]
        return int(offsets[doc + 1] - offsets[doc])

    def pair_coverages(self, doc: int, others: np.ndarray, n: int, floor: float = 0.0) -> np.ndarray:
        """`pair_coverage` of document `doc` with each of `others` (pool positions), as exact
        at or above `floor`; below it, a lower bound (0.0 where the filter settled it)."""
        return _pair_coverages(self._arrays, doc, np.asarray(others, np.int64), n, floor)
