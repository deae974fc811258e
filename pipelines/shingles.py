"""Text -> normalized words -> hashed word n-grams (shingles), the unit of dedup.

Normalization is what makes a wire copy look like its source: lower-cased,
punctuation, quote and dash styles dropped, any whitespace or line layout
ignored (see `_word_hashes` for what a word is). Numbers are kept: "3 dead"
and "30 dead" are different stories.

Hashes are 32-bit, stable across processes and machines (no Python `hash()`),
because they are stored in the index and recomputed from the dataset on rebuild.
Each word gets FNV-1a 64, each n-gram a mix of its words' hashes, finished with
the MurmurHash3 64-bit finalizer and cut to its top 32 bits.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SHINGLE_HASH = "fnv1a64w-fmix64-top32-v1"  # name of the scheme below; stored with the index


@njit(cache=True, nogil=True)
def _fmix64(h):
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@njit(cache=True, nogil=True)
def _word_hashes(buf, fold):
    """FNV-1a 64 of each word of case-folded UTF-8 `buf`, and True; with `fold`, `buf` is
    not case-folded yet: A-Z are folded here, and a non-ASCII character in a word (whose
    case only Python's str.lower() knows) gives (nothing, False) at once.

    A word is a run of ASCII letters, digits, '_' and non-ASCII characters, except
    the non-ASCII punctuation copies differ in: U+00A0-U+00BF (nbsp, guillemets),
    U+2000-U+207F (typographic spaces, dashes, curly quotes, ellipsis) and
    U+3000-U+303F (CJK spaces and punctuation). Done here rather than with a
    regex because `re.findall(r"\\w+")` alone costs 3x the whole shingling.
    """
    words = np.empty(buf.shape[0] // 2 + 1, np.uint64)
    nw = 0
    basis = np.uint64(0xCBF29CE484222325)
    h = basis
    inword = False
    i = 0
    size = buf.shape[0]
    while i < size:
        c = buf[i]
        step = 1
        sep = False
        if c < 128:
            sep = not ((c >= 97 and c <= 122) or (c >= 48 and c <= 57) or c == 95 or (c >= 65 and c <= 90))
            if fold and c >= 65 and c <= 90:
                c += 32
        elif c == 0xC2 and i + 1 < size and buf[i + 1] >= 0xA0:
            sep = True
            step = 2
        elif (c == 0xE2 and i + 1 < size and buf[i + 1] >= 0x80 and buf[i + 1] <= 0x81) or (
            c == 0xE3 and i + 1 < size and buf[i + 1] == 0x80
        ):
            sep = True
            step = 3
        elif fold:  # a non-ASCII letter: its case is str.lower()'s to fold
            return words[:0], False
        if sep:
            if inword:
                words[nw] = h
                nw += 1
                h = basis
                inword = False
            i += step
        else:
            h = (h ^ np.uint64(c)) * np.uint64(0x100000001B3)
            inword = True
            i += 1
    if inword:
        words[nw] = h
        nw += 1
    return words[:nw], True


@njit(cache=True, nogil=True)
def _shingle_hashes(buf, n, fold):
    """(shingles, True), or (nothing, False) when `fold` cannot fold `buf` (see _word_hashes)."""
    words, folded = _word_hashes(buf, fold)
    nw = words.shape[0]
    if nw == 0:
        return np.empty(0, np.uint32), folded
    # A text shorter than n words is one shingle: its whole word sequence.
    m = nw - n + 1 if nw >= n else 1
    k = min(n, nw)
    out = np.empty(m, np.uint32)
    for i in range(m):
        s = np.uint64(k)
        for j in range(k):
            s = _fmix64(s ^ words[i + j]) + np.uint64(j + 1)
        out[i] = np.uint32(_fmix64(s) >> np.uint64(32))
    return out, True


def shingle_sequence(text: str, n: int) -> np.ndarray:
    """uint32 hashes of the word n-grams of `text`, in text order (repeats kept)."""
    # Folded as text.lower() folds it. Without a non-ASCII letter that is only A-Z, done in
    # the kernel: str.lower() of a long text costs as much as the shingling.
    seq, folded = _shingle_hashes(np.frombuffer(text.encode("utf-8"), np.uint8), n, True)
    if folded:
        return seq
    # lower(), not casefold(): 10x faster, and they differ only on a few letters (ß, ς).
    return _shingle_hashes(np.frombuffer(text.lower().encode("utf-8"), np.uint8), n, False)[0]


def shingle_set(text: str, n: int) -> np.ndarray:
    """Sorted unique uint32 shingle hashes."""
    return unique_sorted(shingle_sequence(text, n))


def unique_sorted(seq: np.ndarray) -> np.ndarray:
    """np.unique, without its hash-table path that is 4x slower on a few hundred values."""
    s = np.sort(seq)
    if s.size < 2:
        return s
    keep = np.empty(s.size, np.bool_)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]
