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
