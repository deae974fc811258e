"""LSH band buckets as sorted on-disk arrays: immutable segments, merged size-tiered.

A segment is two .npy files opened with mmap (RAM holds no copy, the OS page
cache holds what lookups touch):
  `<name>.keys.npy`  uint32: the low 32 bits of each band key, grouped by band
                     (band 0's keys sorted, then band 1's, ...; the manifest
                     record holds the band offsets)
  `<name>.docs.npy`  uint32 doc numbers, aligned with the keys
8 bytes an entry, 40 x 8 = 320 bytes an article, of which a lookup binary-searches
only the keys (160 bytes an article) and reads docs at hits. Within one band the
32-bit keys of 10M articles collide with a needle with probability ~0.2%; the
caller drops those false hits by comparing the full 64-bit keys of the (few)
candidate docs, so candidates are exactly those of full 64-bit buckets.

Each commit writes one segment; then, size-tiered, whenever the newest TIER
segments are of one tier (a tier is a factor TIER in size) they are merged into
one, so there are at most (TIER - 1) segments a tier, O(log n) in all, and an
entry is rewritten about log_TIER(n / batch) times. Merges go band by band, so a
merge holds one band's entries in RAM (1/40th of the segment).

Lookups: one compiled pass per segment over all needles of a batch (sorted per
band, so each binary search starts where the previous one ended).

This module only writes files; which segments are live is the manifest, kept by
the caller inside its own atomic commit (lsh_index stores it in SQLite). A file
not in the manifest is the leftover of a killed writer and is removed on open.
"""

from __future__ import annotations

import math
import os
import uuid
from pathlib import Path

import numpy as np
from numba import njit

from pipelines.atomic import fsync_dir

TIER = 4
# A segment stops growing at 2^28 entries (2 GB): 10M articles x 40 bands is then
# 2 such segments plus the smaller tiers; a band-by-band merge holds 1/40th of it.
MAX_SEGMENT = 1 << 28
MAX_SEGMENTS = 32  # a lookup costs one pass a segment


class SegmentError(Exception):
    """A segment file is missing, truncated or not what the manifest says."""


def low32(keys: np.ndarray) -> np.ndarray:
    return (np.ascontiguousarray(keys, np.int64).view(np.uint64) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


@njit(cache=True, nogil=True)
def _search(seg_keys, offsets, packed):
    """For each needle (band, row): start of its run in the band's slice and its length.

    packed (bands, n) uint64: needle << 32 | row, each band's sorted: a
    galloping search from where the previous needle ended, so a batch walks each
    band's keys once, forward, instead of n independent binary searches."""
    bands, n = packed.shape
    start = np.zeros((bands, n), np.int64)
    count = np.zeros((bands, n), np.int64)
    for b in range(bands):
        lo, end = offsets[b], offsets[b + 1]
        for j in range(n):
            i = packed[b, j] & np.uint64(0xFFFFFFFF)
            x = np.uint32(packed[b, j] >> np.uint64(32))
            step = 1
            hi = lo
            while hi < end and seg_keys[hi] < x:  # gallop: keys[lo .. hi) < x
                lo = hi + 1
                hi = lo + step
                step <<= 1
            hi = min(hi, end)
            left, right = lo, hi
            while left < right:  # lower bound in [lo, hi]
                m = (left + right) >> 1
                if seg_keys[m] < x:
                    left = m + 1
                else:
                    right = m
            lo = left
            r = left
            while r < end and seg_keys[r] == x:
                r += 1
            start[b, i] = left
            count[b, i] = r - left
    return start, count


@njit(cache=True, nogil=True)
def _merge2(ka, da, kb, db):
    """Merge two key-sorted (keys, docs) runs; a's entries first among equal keys."""
    n = ka.shape[0] + kb.shape[0]
    keys = np.empty(n, np.uint32)
    docs = np.empty(n, np.uint32)
    i = j = 0
    for o in range(n):
        if j >= kb.shape[0] or (i < ka.shape[0] and ka[i] <= kb[j]):
            keys[o], docs[o] = ka[i], da[i]
            i += 1
        else:
            keys[o], docs[o] = kb[j], db[j]
            j += 1
    return keys, docs


def _pack(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    return (hi.astype(np.uint64) << np.uint64(32)) | lo.astype(np.uint64)


def _sorted_pairs(keys: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keys, docs) sorted by key (then doc): one sort of packed uint64s, no argsort + gathers."""
    v = np.sort(_pack(keys, docs))
    return (v >> np.uint64(32)).astype(np.uint32), (v & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def _tier(count: int) -> int:
    return int(math.log(max(count, 1), TIER) + 1e-9)


class BandSegments:
    def __init__(self, directory: Path, manifest: list[dict], bands: int):
        self.dir, self.bands = directory, bands
        self.manifest = list(manifest)  # [{"name", "count", "offsets"}], oldest first
        self._arrays = [self._load(m) for m in self.manifest]
        live = {m["name"] for m in self.manifest}
        for p in directory.glob("seg-*.npy"):  # leftovers of a writer killed before its commit
            if p.name.split(".")[0] not in live:
                p.unlink(missing_ok=True)

    def _load(self, m: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        try:
            keys = np.load(self.dir / f"{m['name']}.keys.npy", mmap_mode="r")
            docs = np.load(self.dir / f"{m['name']}.docs.npy", mmap_mode="r")
        except (OSError, ValueError) as e:
            raise SegmentError(f"segment {m['name']} in {self.dir}: {e}") from e
        offsets = np.asarray(m.get("offsets", []), np.int64)
        if (
            keys.shape != (m["count"],)
            or docs.shape != (m["count"],)
            or keys.dtype != np.uint32
            or offsets.shape != (self.bands + 1,)
            or offsets[-1] != m["count"]
        ):
            raise SegmentError(
                f"segment {m['name']} in {self.dir}: {keys.shape[0]} {keys.dtype} keys, manifest says {m['count']}"
            )
        return keys, docs, offsets

    def __len__(self) -> int:
        return sum(m["count"] for m in self.manifest)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (row, doc) pairs of (n, bands) int64 `keys` whose band's low 32 bits are stored."""
        needles = low32(keys).reshape(-1, self.bands).T  # (bands, n)
        n = needles.shape[1]
        packed = _pack(needles, np.arange(n, dtype=np.uint32)[None, :])
        packed.sort(axis=1)
        rows, ds = [], []
        for seg_keys, seg_docs, offsets in self._arrays:
            start, count = _search(seg_keys, offsets, packed)
            flat = count.ravel()
            hit = np.nonzero(flat)[0]
            if hit.size == 0:
                continue
            reps = flat[hit]
            pos = np.repeat(start.ravel()[hit] - np.cumsum(reps) + reps, reps) + np.arange(reps.sum())
            rows.append(np.repeat(hit % n, reps))
            ds.append(np.asarray(seg_docs[pos]))
        if not rows:
            return np.empty(0, np.int64), np.empty(0, np.uint32)
        return np.concatenate(rows), np.concatenate(ds)

    def write(self, keys: np.ndarray, docs: np.ndarray) -> dict:
        """A new segment from (n, bands) int64 keys and n doc numbers (fsynced); returns its
        manifest record. Not live until the caller commits it."""
        k32 = low32(keys).reshape(-1, self.bands)
        docs = np.asarray(docs, np.uint32)

        def band(b: int) -> tuple[np.ndarray, np.ndarray]:
            return _sorted_pairs(k32[:, b], docs)

        return self._write_bands(band, [k32.shape[0]] * self.bands)

    def merge_plan(self) -> list[dict]:
        """The newest segments to merge now (empty: none): the newest TIER when they are of
        one tier (tier = floor(log_TIER(entries))) and the result stays under MAX_SEGMENT;
        and whatever their sizes once there are more than MAX_SEGMENTS (commits of very
        different sizes, e.g. 10k then 100 articles, would otherwise never be of one tier)."""
        m = self.manifest
        last = m[-TIER:]
        if (
            len(last) == TIER
            and sum(r["count"] for r in last) <= MAX_SEGMENT
            and len({_tier(r["count"]) for r in last}) == 1
        ):
            return last
        if len(m) > MAX_SEGMENTS:
            for k in (TIER, 2):
                if sum(r["count"] for r in m[-k:]) <= MAX_SEGMENT:
                    return m[-k:]
        return []

    def merge(self, records: list[dict]) -> dict:
        """One segment from `records` (oldest first), band by band."""
        arrays = [self._arrays[self.manifest.index(r)] for r in records]

        def band(b: int) -> tuple[np.ndarray, np.ndarray]:
            runs = [
                (np.asarray(a[0][a[2][b] : a[2][b + 1]]), np.asarray(a[1][a[2][b] : a[2][b + 1]]))
                for a in arrays
            ]
            while len(runs) > 1:  # pairwise linear merges of the sorted runs, no re-sort
                runs = [
                    _merge2(*runs[i], *runs[i + 1]) if i + 1 < len(runs) else runs[i]
                    for i in range(0, len(runs), 2)
                ]
            return runs[0]

        sizes = [sum(int(a[2][b + 1] - a[2][b]) for a in arrays) for b in range(self.bands)]
        return self._write_bands(band, sizes)

    def _write_bands(self, band, sizes: list[int]) -> dict:
        name = f"seg-{uuid.uuid4().hex[:12]}"
        total = sum(sizes)
        offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
        paths = [self.dir / f"{name}.{s}.npy" for s in ("keys", "docs")]
        outs = [np.lib.format.open_memmap(p, mode="w+", dtype=np.uint32, shape=(total,)) for p in paths]
        for b in range(self.bands):
            k, d = band(b)
            outs[0][offsets[b] : offsets[b + 1]] = k
            outs[1][offsets[b] : offsets[b + 1]] = d
        for out, p in zip(outs, paths):
            out.flush()
            del out
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        outs.clear()
        fsync_dir(self.dir)
        return {"name": name, "count": int(total), "offsets": offsets.tolist()}

    def replace(self, new_manifest: list[dict]) -> None:
        """Adopt the manifest the caller has just committed; delete the files it dropped."""
        dropped = {m["name"] for m in self.manifest} - {m["name"] for m in new_manifest}
        loaded = {m["name"]: a for m, a in zip(self.manifest, self._arrays)}
        self.manifest = list(new_manifest)
        self._arrays = [loaded[m["name"]] if m["name"] in loaded else self._load(m) for m in self.manifest]
        for name in dropped:
            for suffix in ("keys", "docs"):
                (self.dir / f"{name}.{suffix}.npy").unlink(missing_ok=True)

    def discard(self, record: dict) -> None:
        for suffix in ("keys", "docs"):
            (self.dir / f"{record['name']}.{suffix}.npy").unlink(missing_ok=True)
