"""LSH band buckets as sorted on-disk arrays: immutable segments, merged size-tiered.

A segment is one file of uint32s opened with mmap (RAM holds no copy, the OS page
cache holds what lookups touch), `<name>.seg`:
  keys    the low 32 bits of each key, grouped by column (column 0's keys sorted,
          then column 1's, ...; the manifest record holds the column offsets)
  docs    uint32 doc numbers, aligned with the keys
  fences  for each column of at least FENCE_MIN keys, 2^bits + 1 offsets: where
          the keys whose top `bits` bits are h start (bits in the manifest record)
A column is one LSH band, or one exact-lookup key (lsh_index keeps a hash of
article_id, canonical_url and content_hash as three more columns). 8 bytes an
entry (+ 1/8 byte of fences), of which a lookup searches only the keys and reads
docs at hits. Within one column the 32-bit keys of 10M articles collide with a
needle with probability ~0.2%; the caller drops those false hits (full 64-bit
band keys, or the text itself), so what it returns is exact.

Each commit writes one segment; then, size-tiered, whenever the newest TIER
segments are of one tier (a tier is a factor TIER in size) they are merged into
one, so there are at most (TIER - 1) segments a tier, O(log n) in all, and an
entry is rewritten about log_TIER(n / batch) times. Merges go column by column,
so a merge holds one column's entries in RAM (1/43rd of the segment).

Lookups: one compiled pass per segment over all needles of a batch, sorted per
column. In a column that fits the CPU caches, each search gallops on from where
the previous needle's ended; in a bigger one that walk misses the cache at every
step, so the fence gives the ~FENCE_BUCKET keys to search directly, and the
searches go in groups whose first loads are issued together, so their cache
misses overlap (measured on 2.5M-6M-key columns: 2-3x faster than galloping).
Files are written with pwrite (no mmap page faults, no msync) and fsynced once.

This module only writes files; which segments are live is the manifest, kept by
the caller inside its own atomic commit (lsh_index stores it in SQLite). A file
not in the manifest is the leftover of a killed writer and is removed on open.
"""

from __future__ import annotations

import math
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from pipelines.atomic import fsync_dir

TIER = 4
# A segment stops growing at 2^28 entries (1 GB of keys): 10M articles x 43 columns
# is then 3-4 such segments plus the smaller tiers; a column-by-column merge holds 1/43rd.
MAX_SEGMENT = 1 << 28
MAX_SEGMENTS = 32  # a lookup costs one pass a segment
FENCE_MIN = 1 << 20  # keys in a column (4 MB) from which galloping misses the cache
FENCE_BUCKET = 32  # keys a fence entry spans, about: 128 bytes, two cache lines
_GROUP = 8  # fenced searches whose first loads go out together
SUFFIX = ".seg"


class SegmentError(Exception):
    """A segment file is missing, truncated or not what the manifest says."""


def low32(keys: np.ndarray) -> np.ndarray:
    return (np.ascontiguousarray(keys, np.int64).view(np.uint64) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


@njit(cache=True, nogil=True)
def _gallop(keys, lo, end, x):
    """Lower bound of x in keys[lo:end], galloping forward from lo."""
    step = 1
    hi = lo
    while hi < end and keys[hi] < x:  # keys[lo .. hi) < x
        lo = hi + 1
        hi = lo + step
        step <<= 1
    return _lower_bound(keys, lo, min(hi, end), x)


@njit(cache=True, nogil=True)
def _lower_bound(keys, left, right, x):
    while left < right:
        m = (left + right) >> 1
        if keys[m] < x:
            left = m + 1
        else:
            right = m
    return left


@njit(cache=True, nogil=True)
def _search(keys, docs, offsets, fences, fence_at, bits, first, packed):
    """(rows, docs, sink): every stored entry whose key equals a needle, with the
    needle's row (sink: what the early loads read, returned so none is optimized away).

    packed (k, n) uint64: needle << 32 | row, each row of it sorted, for columns
    first .. first + k - 1. Hits are rare, so they are gathered compactly here."""
    cols, n = packed.shape
    hit_row = np.empty(cols * n, np.int64)  # untouched pages cost nothing: only hits write
    hit_lo = np.empty(cols * n, np.int64)
    hit_hi = np.empty(cols * n, np.int64)
    lows = np.empty(_GROUP, np.int64)
    highs = np.empty(_GROUP, np.int64)
    h = 0
    sink = np.uint32(0)
    for i in range(cols):
        c = first + i
        base, end = offsets[c], offsets[c + 1]
        shift = np.uint64(32 - bits[c])
        lo = base
        for j0 in range(0, n, _GROUP):
            g_end = min(_GROUP, n - j0)
            if bits[c]:  # fenced: each needle's bucket, and one load in it, for all the group first
                for g in range(g_end):
                    bucket = fence_at[c] + np.int64(np.uint64(packed[i, j0 + g] >> np.uint64(32)) >> shift)
                    lows[g] = base + fences[bucket]
                    highs[g] = base + fences[bucket + 1]
                    if lows[g] < highs[g]:
                        sink ^= keys[(lows[g] + highs[g]) >> 1]
            for g in range(g_end):
                p = packed[i, j0 + g]
                x = np.uint32(p >> np.uint64(32))
                if bits[c]:
                    left, stop = _lower_bound(keys, lows[g], highs[g], x), highs[g]
                else:
                    left, stop = _gallop(keys, lo, end, x), end
                    lo = left
                r = left
                while r < stop and keys[r] == x:
                    r += 1
                if r > left:
                    hit_row[h] = p & np.uint64(0xFFFFFFFF)
                    hit_lo[h] = left
                    hit_hi[h] = r
                    h += 1
    total = 0
    for k in range(h):
        total += hit_hi[k] - hit_lo[k]
    rows = np.empty(total, np.int64)
    out = np.empty(total, np.uint32)
    o = 0
    for k in range(h):
        for q in range(hit_lo[k], hit_hi[k]):
            rows[o] = hit_row[k]
            out[o] = docs[q]
            o += 1
    return rows, out, sink


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


def fence_bits(size: int) -> int:
    """Top key bits a column's fence has: buckets of ~FENCE_BUCKET keys; 0 (no fence) under FENCE_MIN."""
    return 0 if size < FENCE_MIN else min(24, int(math.log2(size / FENCE_BUCKET)))


def _fence(keys: np.ndarray, bits: int) -> np.ndarray:
    """Where the sorted `keys` whose top `bits` bits are h start, h = 0 .. 2^bits (the end)."""
    counts = np.bincount(keys >> np.uint32(32 - bits), minlength=1 << bits)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.uint32)


@dataclass(slots=True)
class _Segment:
    keys: np.ndarray  # mmap'd, like docs and fences
    docs: np.ndarray
    offsets: np.ndarray  # column c is [offsets[c], offsets[c + 1])
    fences: np.ndarray
    fence_at: np.ndarray  # column c's fence starts at fences[fence_at[c]]
    bits: np.ndarray  # 0: column c has no fence

    def column(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.offsets[c], self.offsets[c + 1]
        return np.asarray(self.keys[lo:hi]), np.asarray(self.docs[lo:hi])


def _layout(sizes: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column offsets, fence bits and fence starts of a segment with these column sizes."""
    offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    bits = np.array([fence_bits(s) for s in sizes], np.int64)
    lengths = np.where(bits > 0, (1 << bits) + 1, 0)
    fence_at = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return offsets, bits, fence_at


class BandSegments:
    def __init__(self, directory: Path, manifest: list[dict], bands: int):
        self.dir, self.bands = directory, bands
        self.manifest = list(manifest)  # [{"name", "count", "offsets"}], oldest first
        self._arrays = [self._load(m) for m in self.manifest]
        live = {m["name"] for m in self.manifest}
        for p in directory.glob("seg-*"):  # leftovers of a writer killed before its commit
            if p.name.split(".")[0] not in live:  # (and seg-*.npy of the format before)
                p.unlink(missing_ok=True)

    def _path(self, name: str) -> Path:
        return self.dir / f"{name}{SUFFIX}"

    def _load(self, m: dict) -> _Segment:
        offsets, bits, fence_at = _layout(list(np.diff(m.get("offsets", [0]))))
        count = int(offsets[-1])
        if offsets.shape != (self.bands + 1,) or count != m["count"] or m.get("offsets") != offsets.tolist():
            raise SegmentError(
                f"segment {m['name']} in {self.dir}: manifest record is not of {self.bands} columns"
            )
        path, size = self._path(m["name"]), 4 * (2 * count + int(fence_at[-1]))
        try:
            if path.stat().st_size != size:
                raise SegmentError(f"segment {path}: {path.stat().st_size} bytes, the manifest says {size}")
            arr = np.memmap(path, np.uint32, mode="r")
        except OSError as e:
            raise SegmentError(f"segment {m['name']} in {self.dir}: {e}") from e
        return _Segment(arr[:count], arr[count : 2 * count], offsets, arr[2 * count :], fence_at, bits)

    def __len__(self) -> int:
        return sum(m["count"] for m in self.manifest)

    def lookup(self, keys: np.ndarray, first: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """All (row, doc) pairs of (n, k) `keys` (int64 or uint32) whose low 32 bits are
        stored in their column: column first + j for keys[:, j]."""
        keys = np.asarray(keys)
        k = keys.shape[1]
        if not 0 <= first <= first + k <= self.bands:
            raise ValueError(f"columns {first}..{first + k - 1}, the segments have {self.bands}")
        needles = low32(keys).reshape(-1, k).T  # (k, n)
        n = needles.shape[1]
        packed = _pack(needles, np.arange(n, dtype=np.uint32)[None, :])
        packed.sort(axis=1)
        found = [
            _search(s.keys, s.docs, s.offsets, s.fences, s.fence_at, s.bits, first, packed)
            for s in self._arrays
        ]
        if not found:
            return np.empty(0, np.int64), np.empty(0, np.uint32)
        return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])

    def write(self, columns: list[tuple[np.ndarray, np.ndarray]], sync: bool = True) -> dict:
        """A new segment from one (keys, docs) pair per column, any order, any lengths
        (keys: int64 or uint32, their low 32 bits are kept); returns its manifest record.
        Not live until the caller commits it, after it is fsynced: here, or (sync=False)
        by the caller's own call of sync(record), e.g. while it does other work."""
        if len(columns) != self.bands:
            raise ValueError(f"{len(columns)} columns, the segments have {self.bands}")
        cols = [(low32(k), np.asarray(d, np.uint32)) for k, d in columns]
        for k, d in cols:
            if k.shape != d.shape:
                raise ValueError(f"{k.shape[0]} keys for {d.shape[0]} docs")

        def band(b: int) -> tuple[np.ndarray, np.ndarray]:
            return _sorted_pairs(*cols[b])

        return self._write_bands(band, [k.size for k, _ in cols], sync)

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
        """One segment from `records` (oldest first), column by column."""
        segs = [self._arrays[self.manifest.index(r)] for r in records]

        def band(b: int) -> tuple[np.ndarray, np.ndarray]:
            runs = [s.column(b) for s in segs]
            while len(runs) > 1:  # pairwise linear merges of the sorted runs, no re-sort
                runs = [
                    _merge2(*runs[i], *runs[i + 1]) if i + 1 < len(runs) else runs[i]
                    for i in range(0, len(runs), 2)
                ]
            return runs[0]

        sizes = [sum(int(s.offsets[b + 1] - s.offsets[b]) for s in segs) for b in range(self.bands)]
        return self._write_bands(band, sizes, sync=True)

    def _write_bands(self, band, sizes: list[int], sync: bool) -> dict:
        """Column by column into a new file: keys, docs and fence, each at its offset."""
        name = f"seg-{uuid.uuid4().hex[:12]}"
        offsets, bits, fence_at = _layout(sizes)
        total = int(offsets[-1])
        path = self._path(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            for b in range(self.bands):
                k, d = band(b)
                if k.size != sizes[b] or d.size != sizes[b]:
                    raise SegmentError(f"column {b}: {k.size} keys, {d.size} docs, expected {sizes[b]}")
                _pwrite_all(fd, k, 4 * int(offsets[b]))
                _pwrite_all(fd, d, 4 * (total + int(offsets[b])))
                if bits[b]:
                    _pwrite_all(fd, _fence(k, int(bits[b])), 4 * (2 * total + int(fence_at[b])))
            if sync:
                os.fsync(fd)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        finally:
            os.close(fd)
        if sync:
            fsync_dir(self.dir)
        return {"name": name, "count": total, "offsets": offsets.tolist()}

    def sync(self, record: dict) -> None:
        """fsync a segment written with sync=False, and its directory entry."""
        fd = os.open(self._path(record["name"]), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(self.dir)

    def replace(self, new_manifest: list[dict], remove=None) -> None:
        """Adopt the manifest the caller has just committed; delete the files it dropped,
        here or by `remove(paths)` (e.g. later, on another thread: freeing a big file's
        pages takes a while; a file left by a crash first is removed on open)."""
        dropped = {m["name"] for m in self.manifest} - {m["name"] for m in new_manifest}
        loaded = {m["name"]: a for m, a in zip(self.manifest, self._arrays)}
        self.manifest = list(new_manifest)
        self._arrays = [loaded[m["name"]] if m["name"] in loaded else self._load(m) for m in self.manifest]
        (remove or unlink_all)([self._path(name) for name in sorted(dropped)])

    def discard(self, record: dict) -> None:
        self._path(record["name"]).unlink(missing_ok=True)


def unlink_all(paths: list[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


def _pwrite_all(fd: int, data: np.ndarray, offset: int) -> None:
    """All of the contiguous array `data` at `offset`: pwrite may write less."""
    view = memoryview(np.ascontiguousarray(data).reshape(-1)).cast("B")
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n
