"""LSH band buckets as sorted on-disk arrays: immutable segments, merged LSM-style.

A segment is two .npy files, `<name>.keys.npy` (int64 band keys, sorted) and
`<name>.docs.npy` (uint32 doc numbers, aligned), opened with mmap: RAM holds no
copy, the OS page cache holds what lookups touch. Each commit writes one new
segment; after it, the newest two are merged while the newer is at least half
the size of the older (a binary counter), so there are O(log n) segments and
each entry is rewritten O(log n) times (up to MAX_SEGMENT entries a segment).
Lookups are vectorized searchsorted.

This module only writes files; which segments are live is the manifest, kept by
the caller inside its own atomic commit (lsh_index stores it in SQLite). A file
not in the manifest is the leftover of a killed writer and is removed on open.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np

from pipelines.atomic import fsync_dir

# Merges stop at 16M entries (192 MB a segment): a merge holds its inputs and
# output in RAM, so this bounds compaction RAM; 10M articles x 40 bands is then
# ~25 segments, still a handful of vectorized searches per lookup.
MAX_SEGMENT = 1 << 24


class SegmentError(Exception):
    """A segment file is missing, truncated or not what the manifest says."""


class BandSegments:
    def __init__(self, directory: Path, manifest: list[dict]):
        self.dir = directory
        self.manifest = list(manifest)  # [{"name": str, "count": int}], oldest first
        self._arrays = [self._load(m) for m in self.manifest]
        live = {m["name"] for m in self.manifest}
        for p in directory.glob("seg-*.npy"):  # leftovers of a writer killed before its commit
            if p.name.split(".")[0] not in live:
                p.unlink(missing_ok=True)

    def _load(self, m: dict) -> tuple[np.ndarray, np.ndarray]:
        try:
            keys = np.load(self.dir / f"{m['name']}.keys.npy", mmap_mode="r")
            docs = np.load(self.dir / f"{m['name']}.docs.npy", mmap_mode="r")
        except (OSError, ValueError) as e:
            raise SegmentError(f"segment {m['name']} in {self.dir}: {e}") from e
        if keys.shape != (m["count"],) or docs.shape != (m["count"],) or keys.dtype != np.int64:
            raise SegmentError(
                f"segment {m['name']} in {self.dir}: {keys.shape[0]} keys, manifest says {m['count']}"
            )
        return keys, docs

    def __len__(self) -> int:
        return sum(m["count"] for m in self.manifest)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (position in `keys`, doc) pairs whose band key is stored."""
        qs, ds = [], []
        order = np.argsort(keys)  # sorted needles: searchsorted walks the segment in order, 10x faster
        sorted_keys = keys[order]
        for seg_keys, seg_docs in self._arrays:
            lo = np.searchsorted(seg_keys, sorted_keys, "left")
            hi = np.searchsorted(seg_keys, sorted_keys, "right")
            n = hi - lo
            hit = np.nonzero(n)[0]
            if hit.size == 0:
                continue
            reps = n[hit]
            q = np.repeat(hit, reps)
            # positions lo[h], lo[h]+1, ... for each hit h
            pos = np.repeat(lo[hit] - np.cumsum(reps) + reps, reps) + np.arange(reps.sum())
            qs.append(order[q])
            ds.append(np.asarray(seg_docs[pos]))
        if not qs:
            return np.empty(0, np.int64), np.empty(0, np.uint32)
        return np.concatenate(qs), np.concatenate(ds)

    def write(self, keys: np.ndarray, docs: np.ndarray, presorted: bool = False) -> dict:
        """Write a new sorted segment (fsynced); returns its manifest record. Not live until the caller commits it."""
        if not presorted:
            order = np.argsort(keys, kind="stable")
            keys, docs = keys[order], docs[order]
        name = f"seg-{uuid.uuid4().hex[:12]}"
        for suffix, arr in (
            ("keys", keys.astype(np.int64, copy=False)),
            ("docs", docs.astype(np.uint32, copy=False)),
        ):
            path = self.dir / f"{name}.{suffix}.npy"
            with open(path, "wb") as fh:
                np.save(fh, arr)
                fh.flush()
                os.fsync(fh.fileno())
        fsync_dir(self.dir)
        return {"name": name, "count": int(keys.shape[0])}

    def merge_plan(self) -> list[dict]:
        """The newest segments to merge now (empty: none): the newest absorbs older ones
        while together they are at least half the size of the next older (a binary counter)."""
        m = self.manifest
        if len(m) < 2:
            return []
        total, i = m[-1]["count"], len(m) - 2
        while i >= 0 and total * 2 >= m[i]["count"] and total + m[i]["count"] <= MAX_SEGMENT:
            total += m[i]["count"]
            i -= 1
        return m[i + 1 :] if i < len(m) - 2 else []

    def merge(self, records: list[dict]) -> dict:
        """One segment from `records` (oldest first), merged in linear passes, not re-sorted."""
        arrays = [self._arrays[self.manifest.index(r)] for r in records]
        keys, docs = np.asarray(arrays[0][0]), np.asarray(arrays[0][1])
        for k, d in arrays[1:]:
            keys, docs = _merge_sorted(keys, docs, np.asarray(k), np.asarray(d))
        return self.write(keys, docs, presorted=True)

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


def _merge_sorted(
    ka: np.ndarray, da: np.ndarray, kb: np.ndarray, db: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Merge sorted (ka, da) with sorted (kb, db); b's entries go after a's equal keys."""
    pos_b = np.searchsorted(ka, kb, "right") + np.arange(kb.size)
    keys = np.empty(ka.size + kb.size, np.int64)
    docs = np.empty(keys.size, np.uint32)
    from_a = np.ones(keys.size, np.bool_)
    from_a[pos_b] = False
    keys[pos_b], docs[pos_b] = kb, db
    keys[from_a], docs[from_a] = ka, da
    return keys, docs
