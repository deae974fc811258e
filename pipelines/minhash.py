"""MinHash signatures and LSH band keys, compiled (numba), datasketch-compatible.

The permutations are datasketch's "affine32" scheme (its default since 2.0):
h -> fmix32(h), then a*h + b mod 2^32 with a odd, (a, b) drawn from
numpy.random.RandomState(seed) exactly as datasketch draws them. The scheme is
pinned here, not taken from datasketch's default, so a datasketch upgrade cannot
change signatures under a stored index. `MinHash(num_perm, seed, scheme="affine32",
hashfunc=lambda x: x).update_batch(shingles)` gives the same values
(tests/test_dedup.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from pipelines.shingles import SHINGLE_HASH

SCHEME = "affine32"


@dataclass(frozen=True, slots=True)
class MinhashConfig:
    """Everything that makes two signatures comparable; stored with the index."""

    ngram: int = 3  # words per shingle
    bands: int = 16
    rows: int = 4  # hashes per band; num_perm = bands * rows
    seed: int = 1
    scheme: str = SCHEME
    shingle_hash: str = SHINGLE_HASH

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows

    def __str__(self) -> str:
        return f"{self.ngram}ng_{self.bands}bs_{self.rows}hs_s{self.seed}_{self.scheme}"

    def as_dict(self) -> dict[str, object]:
        return {
            "ngram": self.ngram,
            "bands": self.bands,
            "rows": self.rows,
            "seed": self.seed,
            "scheme": self.scheme,
            "shingle_hash": self.shingle_hash,
        }

    def permutations(self) -> tuple[np.ndarray, np.ndarray]:
        """(a, b) as datasketch.MinHash(num_perm, seed, scheme='affine32') draws them."""
        gen = np.random.RandomState(self.seed)
        a = gen.randint(0, 1 << 31, self.num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        b = gen.randint(0, 1 << 32, self.num_perm, dtype=np.uint64).astype(np.uint32)
        return a, b


@njit(cache=True, nogil=True)
def _signatures(hashes, offsets, a, b):
    k = a.shape[0]
    out = np.full((offsets.shape[0] - 1, k), np.uint32(0xFFFFFFFF), np.uint32)
    for d in range(offsets.shape[0] - 1):
        sig = out[d]
        for i in range(offsets[d], offsets[d + 1]):
            # MurmurHash3 fmix32, as datasketch applies before the permutations.
            # numba widens uint32 arithmetic to 64 bits: cast back after each step.
            h = np.uint32(hashes[i])
            h = np.uint32(h ^ (h >> np.uint32(16)))
            h = np.uint32(h * np.uint32(0x85EBCA6B))
            h = np.uint32(h ^ (h >> np.uint32(13)))
            h = np.uint32(h * np.uint32(0xC2B2AE35))
            h = np.uint32(h ^ (h >> np.uint32(16)))
            for p in range(k):  # branch-free so LLVM vectorizes it
                sig[p] = min(sig[p], np.uint32(a[p] * h + b[p]))
    return out


@njit(cache=True, nogil=True)
def _band_keys(sigs, bands, rows):
    out = np.empty((sigs.shape[0], bands), np.uint64)
    for d in range(sigs.shape[0]):
        for band in range(bands):
            s = np.uint64(band + 1) * np.uint64(0x9E3779B97F4A7C15)
            for r in range(rows):
                s ^= np.uint64(sigs[d, band * rows + r])
                s ^= s >> np.uint64(33)
                s *= np.uint64(0xFF51AFD7ED558CCD)
                s ^= s >> np.uint64(33)
            out[d, band] = s
    return out


class MinHasher:
    """Signatures and band keys for many documents at once."""

    def __init__(self, config: MinhashConfig):
        self.config = config
        self._a, self._b = config.permutations()

    def signatures(self, shingle_sets: list[np.ndarray]) -> np.ndarray:
        """(n_docs, num_perm) uint32; an empty set gives all 0xFFFFFFFF (never indexed).
        A shingle sequence gives its set's signature (a repeat cannot change a minimum)."""
        offsets = np.zeros(len(shingle_sets) + 1, np.int64)
        np.cumsum([s.size for s in shingle_sets], out=offsets[1:])
        flat = np.concatenate(shingle_sets) if shingle_sets else np.empty(0, np.uint32)
        return _signatures(flat.astype(np.uint32, copy=False), offsets, self._a, self._b)

    def band_keys(self, signatures: np.ndarray) -> np.ndarray:
        """(n_docs, bands) int64: one bucket key per band, band number mixed in."""
        c = self.config
        if signatures.shape[1] != c.num_perm:
            raise ValueError(f"signature has {signatures.shape[1]} values, config {c} needs {c.num_perm}")
        return _band_keys(np.ascontiguousarray(signatures), c.bands, c.rows).view(np.int64)
