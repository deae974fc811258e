"""The persistent dedup index, embedded: files under state/, no server.

What it holds, per indexed article (latest revision only): its article_id,
canonical_url, content_hash, cluster_id and revision (SQLite), its LSH band
keys and its shingle sequence (what verification compares). Plus the MinHash
parameters it was built with and the run_ids it has committed.

  dedup_index.sqlite            docs rows, runs, meta: parameters, segment manifest,
                                committed ends of the two append-only files
  dedup_segments/seg-*.npy      band buckets (pipelines/band_segments.py): per band,
                                sorted 32-bit keys + uint32 doc numbers, 320 B/article
  dedup_segments/bands.i64      full 64-bit band keys, fixed stride by doc number
  dedup_segments/shingles.u32   shingle sequences, appended; docs.soff/slen locate them

Per article, what a query touches: the segment keys (40 x 4 = 160 bytes, binary
searched by every batch, so they want to be resident), the segment doc numbers
(40 x 4 = 160 bytes, read at hits only), and for the few candidate docs their
320-byte row of bands.i64 (to drop 32-bit key collisions, so candidates are
exactly the 64-bit buckets') and their SQLite row. SQLite's own RAM is its page
cache, a fixed budget (cache_mb), not a per-article cost.

Crash behaviour: add() appends shingles and band keys past the committed ends,
writes the new segment, fsyncs them, then one SQLite transaction (WAL,
synchronous=NORMAL) commits docs, run count, manifest and the new ends together.
A kill -9 before COMMIT leaves tails and an orphan segment, which open() cuts
off / deletes; after COMMIT the data is in the OS page cache and the WAL, so
nothing committed is lost. synchronous=NORMAL only skips the fsync of the WAL at
each commit: a power cut may lose the last commits (the WAL's checksummed frames
end at a commit boundary, so the index is still consistent, just older) and
reconcile() re-indexes them from the dataset; since the side files were fsynced
before COMMIT, no surviving commit can point at data the disk lost.
Docs get numbers that are never reused: bucket entries of a replaced revision
point at a number no doc has any more and drop out.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.band_segments import BandSegments, SegmentError
from pipelines.lock import hold, unhold
from pipelines.minhash import MinhashConfig

FORMAT = "newsmill-lsh-sqlite-2"
FILENAME = "dedup_index.sqlite"
SEGMENTS = "dedup_segments"


class DedupIndexError(Exception):
    """Base of the index errors (the name avoids shadowing the builtin IndexError)."""


class IndexCorrupt(DedupIndexError):
    """The index file is empty, truncated, foreign or damaged: rebuild it from the dataset."""


class IndexParamsMismatch(DedupIndexError):
    """The index was built with other MinHash parameters than the ones asked for."""


class IndexLocked(DedupIndexError):
    """Another process has the index open for writing."""


class IndexUnavailable(DedupIndexError):
    """The index server (Redis) cannot be reached: the run fails, a later run resumes."""


@dataclass(slots=True)
class IndexedDoc:
    article_id: str
    canonical_url: str
    content_hash: str
    cluster_id: str
    revision: int = 0


@dataclass(slots=True)
class Entry:
    """One article to (re)index: its identity, band keys (int64) and shingle sequence (uint32)."""

    doc: IndexedDoc
    band_keys: np.ndarray
    shingles: np.ndarray


_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE docs (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL UNIQUE, canonical_url TEXT NOT NULL,
    content_hash TEXT NOT NULL, cluster_id TEXT NOT NULL, revision INTEGER NOT NULL,
    soff INTEGER NOT NULL, slen INTEGER NOT NULL);
CREATE INDEX docs_url ON docs (canonical_url);
CREATE INDEX docs_hash ON docs (content_hash);
CREATE TABLE runs (run_id TEXT PRIMARY KEY, rows INTEGER NOT NULL) WITHOUT ROWID;
"""
SHINGLES = "shingles.u32"  # append-only: each doc's shingle sequence, at docs.soff (in uint32s)
BANDS = "bands.i64"  # append-only, fixed stride: doc id's full band keys at (id - 1) * bands


class LocalIndex:
    """The index in `state_dir/dedup_index.sqlite` (+ `dedup_segments/`); one writer at a time (a lock file)."""

    def __init__(self, path: Path, config: MinhashConfig, conn: sqlite3.Connection, lock_fd: int):
        self.path, self.config, self._conn, self._lock_fd = path, config, conn, lock_fd
        self._fds: list[int] = []
        seg_dir = path.with_name(SEGMENTS)
        seg_dir.mkdir(exist_ok=True)
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        self._shingles_end = int(meta["shingles_end"])  # committed length, in uint32s
        self._next_id = int(meta["next_id"])
        self._stride = config.bands * 8
        try:
            self._segments = BandSegments(seg_dir, json.loads(meta["segments"]), config.bands)
            # A killed writer may have appended past the committed ends: cut back to them.
            self._sh_fd = self._open_log(seg_dir / SHINGLES, self._shingles_end * 4)
            self._bk_fd = self._open_log(seg_dir / BANDS, (self._next_id - 1) * self._stride)
        except SegmentError as e:
            self._close_fds()
            raise IndexCorrupt(f"{path}: {e}; rebuild the index from the dataset") from e

    def _open_log(self, p: Path, committed: int) -> int:
        fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
        self._fds.append(fd)
        size = os.fstat(fd).st_size
        if size < committed:
            raise SegmentError(f"{p.name}: {size} bytes, the index has committed {committed}")
        if size > committed:
            os.ftruncate(fd, committed)
        return fd

    def _close_fds(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    @classmethod
    def open(cls, state_dir: Path, config: MinhashConfig, cache_mb: int = 64) -> LocalIndex:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / FILENAME
        lock_fd = os.open(state_dir / "dedup_index.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise IndexLocked(f"{path}: another process has the dedup index open") from None
        hold(lock_fd)
        conn = None
        try:
            conn = _connect(path, config, cache_mb)
            return cls(path, config, conn, lock_fd)
        except BaseException:
            if conn is not None:
                conn.close()
            unhold(lock_fd)
            os.close(lock_fd)
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None  # type: ignore[assignment]
            self._close_fds()
            unhold(self._lock_fd)
            os.close(self._lock_fd)

    # ---- reads -----------------------------------------------------------
    def by_url(self, urls: list[str]) -> dict[str, IndexedDoc]:
        return {d.canonical_url: d for d in self._docs_where("canonical_url", urls)}

    def by_hash(self, hashes: list[str]) -> dict[str, IndexedDoc]:
        out: dict[str, IndexedDoc] = {}
        for d in self._docs_where("content_hash", hashes):
            out.setdefault(d.content_hash, d)
        return out

    def docs(self, article_ids: list[str]) -> dict[str, IndexedDoc]:
        return {d.article_id: d for d in self._docs_where("article_id", article_ids)}

    def candidates(self, band_keys: np.ndarray) -> list[set[str]]:
        """For each row of (n, bands) int64 keys, the article_ids sharing at least one bucket.

        One batched pass: every band key of every row is looked up at once; hits on the
        32-bit segment keys are checked against the docs' full 64-bit keys."""
        band_keys = np.ascontiguousarray(band_keys, np.int64)
        n = band_keys.shape[0]
        out: list[set[str]] = [set() for _ in range(n)]
        rows, docs = self._segments.lookup(band_keys)
        if rows.size == 0:
            return out
        pairs = np.unique(rows * (1 << 32) + docs.astype(np.int64))
        rows, docs = pairs >> 32, pairs & 0xFFFFFFFF
        uniq, inv = np.unique(docs, return_inverse=True)
        full = self._band_rows(uniq)  # (len(uniq), bands)
        same = (full[inv] == band_keys[rows]).any(axis=1)  # a 32-bit collision matches no band
        rows, docs = rows[same], docs[same]
        names: dict[int, str] = {}
        with self._guard():
            for chunk in _chunks(np.unique(docs).tolist()):
                sql = f"SELECT id, article_id FROM docs WHERE id IN ({_marks(chunk)})"
                names.update(self._conn.execute(sql, chunk))
        for row, doc in zip(rows.tolist(), docs.tolist()):
            if doc in names:  # else: a replaced revision's old buckets
                out[row].add(names[doc])
        return out

    def shingles(self, article_ids: list[str]) -> dict[str, np.ndarray]:
        out = {}
        with self._guard():
            for chunk in _chunks(sorted(set(article_ids))):
                sql = f"SELECT article_id, soff, slen FROM docs WHERE article_id IN ({_marks(chunk)})"
                for aid, off, ln in self._conn.execute(sql, chunk):
                    out[aid] = self._read(self._sh_fd, off * 4, ln * 4, np.uint32)
        return out

    def runs(self) -> dict[str, int]:
        """run_id -> rows committed for it (a run commits once per batch)."""
        with self._guard():
            return dict(self._conn.execute("SELECT run_id, rows FROM runs"))

    def set_run_rows(self, run_id: str, rows: int) -> None:
        """After a reconcile: the run's row count is the dataset's."""
        with self._guard():
            self._conn.execute("INSERT OR REPLACE INTO runs VALUES (?, ?)", (run_id, rows))

    def count(self) -> int:
        with self._guard():
            return self._conn.execute("SELECT count(*) FROM docs").fetchone()[0]

    # ---- writes ----------------------------------------------------------
    def add(self, entries: list[Entry], run_id: str) -> None:
        """Index `entries` and count them for `run_id`, all in one SQLite commit (all or nothing).

        An entry whose article_id is already indexed replaces it (a revision); an
        entry given twice (a re-run of a reconcile) is simply replaced again.
        Order: shingles, band keys and the new segment are appended and fsynced
        first, then one SQLite transaction makes them live (their committed ends
        and the manifest are in it); a crash before COMMIT leaves only tails that
        open() cuts off."""
        seg = None
        latest = {e.doc.article_id: e for e in entries}  # last one wins
        entries = list(latest.values())
        first, sh_end = self._next_id, self._shingles_end
        with self._guard():
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                for chunk in _chunks(list(latest)):
                    c.execute(f"DELETE FROM docs WHERE article_id IN ({_marks(chunk)})", chunk)
                ids = np.arange(first, first + len(entries), dtype=np.int64)
                seqs = [np.asarray(e.shingles, np.uint32) for e in entries]
                lens = np.fromiter((s.size for s in seqs), np.int64, len(seqs))
                offs = sh_end + np.concatenate(([0], np.cumsum(lens)[:-1])) if seqs else lens
                keys = (
                    np.stack([e.band_keys for e in entries]).astype(np.int64)
                    if entries
                    else np.empty((0, self.config.bands), np.int64)
                )
                if keys.shape[1:] != (self.config.bands,):
                    raise ValueError(
                        f"band keys of shape {keys.shape}, the index has {self.config.bands} bands"
                    )
                if seqs:
                    _pwrite_all(self._sh_fd, np.concatenate(seqs), sh_end * 4)
                _pwrite_all(self._bk_fd, keys, (first - 1) * self._stride)
                # an empty text has no near-copies: no buckets
                live = np.nonzero(lens)[0]
                manifest = self._segments.manifest
                if live.size:
                    seg = self._segments.write(keys[live], ids[live])
                    manifest = manifest + [seg]
                os.fsync(self._sh_fd)
                os.fsync(self._bk_fd)
                c.executemany(
                    "INSERT INTO docs (id, article_id, canonical_url, content_hash, cluster_id, revision, soff, slen)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            i,
                            e.doc.article_id,
                            e.doc.canonical_url,
                            e.doc.content_hash,
                            e.doc.cluster_id,
                            e.doc.revision,
                            o,
                            ln,
                        )
                        for i, e, o, ln in zip(ids.tolist(), entries, offs.tolist(), lens.tolist())
                    ],
                )
                new_end = sh_end + int(lens.sum())
                c.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [
                        ("next_id", str(first + len(entries))),
                        ("shingles_end", str(new_end)),
                        ("segments", json.dumps(manifest)),
                    ],
                )
                c.execute(
                    "INSERT INTO runs VALUES (?, ?) ON CONFLICT (run_id) DO UPDATE SET rows = rows + excluded.rows",
                    (run_id, len(entries)),
                )
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                if seg is not None:
                    self._segments.discard(seg)
                os.ftruncate(self._sh_fd, sh_end * 4)
                os.ftruncate(self._bk_fd, (first - 1) * self._stride)
                raise
            self._next_id, self._shingles_end = first + len(entries), new_end
            self._segments.replace(manifest)
            self._compact()

    def _compact(self) -> None:
        while plan := self._segments.merge_plan():
            merged = self._segments.merge(plan)
            manifest = self._segments.manifest[: -len(plan)] + [merged]
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                c.execute("UPDATE meta SET value = ? WHERE key = 'segments'", (json.dumps(manifest),))
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                self._segments.discard(merged)
                raise
            self._segments.replace(manifest)

    # ---- internals -------------------------------------------------------
    def _band_rows(self, ids: np.ndarray) -> np.ndarray:
        """Full band keys of doc numbers `ids` (sorted), from the fixed-stride file."""
        out = np.empty((ids.size, self.config.bands), np.int64)
        for k, i in enumerate(ids.tolist()):
            out[k] = self._read(self._bk_fd, (i - 1) * self._stride, self._stride, np.int64)
        return out

    def _read(self, fd: int, offset: int, size: int, dtype) -> np.ndarray:
        buf = os.pread(fd, size, offset)
        if len(buf) != size:
            raise IndexCorrupt(
                f"{self.path}: side file cut short at {offset}; rebuild the index from the dataset"
            )
        return np.frombuffer(buf, dtype)

    def _docs_where(self, column: str, values: list[str]) -> list[IndexedDoc]:
        out = []
        with self._guard():
            for chunk in _chunks(sorted(set(values))):
                sql = (
                    f"SELECT article_id, canonical_url, content_hash, cluster_id, revision FROM docs"
                    f" WHERE {column} IN ({_marks(chunk)}) ORDER BY id"
                )
                out.extend(IndexedDoc(*row) for row in self._conn.execute(sql, chunk))
        return out

    def _guard(self) -> _Guard:
        if self._conn is None:
            raise DedupIndexError(f"{self.path}: index is closed")
        return _Guard(self.path)


def _pwrite_all(fd: int, data: np.ndarray, offset: int) -> None:
    if data.size == 0:
        return
    view = memoryview(np.ascontiguousarray(data).reshape(-1)).cast("B")
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


class _Guard:
    """Turns SQLite's damage reports into IndexCorrupt naming the file and the way out."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, et, ev, tb) -> bool:
        if (
            et is not None
            and issubclass(et, sqlite3.DatabaseError)
            and not issubclass(et, sqlite3.OperationalError)
        ):
            raise IndexCorrupt(
                f"{self.path}: damaged dedup index ({ev}); rebuild it from the dataset"
            ) from ev
        return False


def _connect(path: Path, config: MinhashConfig, cache_mb: int) -> sqlite3.Connection:
    exists = path.exists()
    if exists and path.stat().st_size == 0:
        raise IndexCorrupt(f"{path}: empty file, not a dedup index; remove it and rebuild from the dataset")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        if exists:
            _check(conn, path, config)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL: a kill -9 loses nothing committed (the OS has the WAL); a power cut
        # may lose the last commits, which reconcile() re-indexes from the dataset.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint=16384")
        conn.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
        conn.execute("PRAGMA temp_store=MEMORY")
        if not exists:
            conn.executescript("BEGIN;" + _SCHEMA + "COMMIT;")
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("format", FORMAT),
                    ("minhash", json.dumps(config.as_dict(), sort_keys=True)),
                    ("next_id", "1"),
                    ("shingles_end", "0"),
                    ("segments", "[]"),
                ],
            )
    except sqlite3.DatabaseError as e:
        conn.close()
        raise IndexCorrupt(
            f"{path}: not a readable dedup index ({e}); remove it and rebuild from the dataset"
        ) from e
    except BaseException:
        conn.close()
        raise
    return conn


def _check(conn: sqlite3.Connection, path: Path, config: MinhashConfig) -> None:
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta"))
    except sqlite3.OperationalError as e:  # a SQLite file, but not ours
        raise IndexCorrupt(f"{path}: foreign SQLite file, not a dedup index ({e})") from e
    if meta.get("format") != FORMAT:
        raise IndexCorrupt(
            f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}; rebuild the index from the dataset"
        )
    stored = json.loads(meta["minhash"])
    if stored != config.as_dict():
        raise IndexParamsMismatch(
            f"{path}: built with {stored}, opened with {config.as_dict()}; "
            "open it with the stored parameters or rebuild the index from the dataset"
        )
    page_size, page_count = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_size", "page_count"))
    wal = path.with_name(path.name + "-wal")
    if path.stat().st_size < page_size * page_count and not wal.exists():
        raise IndexCorrupt(f"{path}: truncated ({path.stat().st_size} of {page_size * page_count} bytes)")


def _marks(chunk: list) -> str:
    return ",".join("?" * len(chunk))


def _chunks(values: list, size: int = 900) -> list[list]:
    return [values[i : i + size] for i in range(0, len(values), size)]
