"""The persistent dedup index, embedded: one SQLite file under state/, no server.

What it holds, per indexed article (latest revision only): its article_id,
canonical_url, content_hash, cluster_id and revision, its LSH band keys, and its
shingle sequence (what verification compares; kept on disk, never in RAM). Plus
the MinHash parameters it was built with and the run_ids it has committed.

Why SQLite: transactions give the crash behaviour for free (a kill -9 mid-insert
rolls back to the last commit),
opening costs the same at any size, and RAM is SQLite's page cache, a fixed
budget, not a per-article cost. The band buckets are not in SQLite: one B-tree
probe per band key made query+insert 4k articles/s; they are sorted arrays in
segment files (pipelines/band_segments.py) searched with numpy, and SQLite only
holds their manifest, so one SQLite commit makes docs, buckets and run record
live together. Docs get numbers that are never reused: bucket entries of a
replaced revision point at a number no doc has any more and drop out.
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
from pipelines.minhash import MinhashConfig

FORMAT = "newsmill-lsh-sqlite-1"
FILENAME = "dedup_index.sqlite"
SEGMENTS = "dedup_segments"


class IndexError_(Exception):
    """Base of the index errors (the name avoids shadowing the builtin IndexError)."""


class IndexCorrupt(IndexError_):
    """The index file is empty, truncated, foreign or damaged: rebuild it from the dataset."""


class IndexParamsMismatch(IndexError_):
    """The index was built with other MinHash parameters than the ones asked for."""


class IndexLocked(IndexError_):
    """Another process has the index open for writing."""


class IndexUnavailable(IndexError_):
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
    content_hash TEXT NOT NULL, cluster_id TEXT NOT NULL, revision INTEGER NOT NULL, shingles BLOB NOT NULL);
CREATE INDEX docs_url ON docs (canonical_url);
CREATE INDEX docs_hash ON docs (content_hash);
CREATE TABLE runs (run_id TEXT PRIMARY KEY, rows INTEGER NOT NULL) WITHOUT ROWID;
"""


class LocalIndex:
    """The index in `state_dir/dedup_index.sqlite`; one writer at a time (a lock file)."""

    def __init__(self, path: Path, config: MinhashConfig, conn: sqlite3.Connection, lock_fd: int):
        self.path, self.config, self._conn, self._lock_fd = path, config, conn, lock_fd
        seg_dir = path.with_name(SEGMENTS)
        seg_dir.mkdir(exist_ok=True)
        manifest = json.loads(conn.execute("SELECT value FROM meta WHERE key = 'segments'").fetchone()[0])
        try:
            self._segments = BandSegments(seg_dir, manifest)
        except SegmentError as e:
            raise IndexCorrupt(f"{path}: {e}; rebuild the index from the dataset") from e

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
        try:
            conn = _connect(path, config, cache_mb)
            return cls(path, config, conn, lock_fd)
        except BaseException:
            os.close(lock_fd)
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None  # type: ignore[assignment]
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
        """For each row of (n, bands) int64 keys, the article_ids sharing at least one bucket."""
        n, bands = band_keys.shape
        out: list[set[str]] = [set() for _ in range(n)]
        pos, docs = self._segments.lookup(np.ascontiguousarray(band_keys, np.int64).ravel())
        if pos.size == 0:
            return out
        pairs = np.unique(np.stack([pos // bands, docs.astype(np.int64)]), axis=1)
        names: dict[int, str] = {}
        with self._guard():
            for chunk in _chunks(np.unique(pairs[1]).tolist()):
                sql = f"SELECT id, article_id FROM docs WHERE id IN ({_marks(chunk)})"
                names.update(self._conn.execute(sql, chunk))
        for row, doc in pairs.T.tolist():
            if doc in names:  # else: a replaced revision's old buckets
                out[row].add(names[doc])
        return out

    def shingles(self, article_ids: list[str]) -> dict[str, np.ndarray]:
        out = {}
        with self._guard():
            for chunk in _chunks(article_ids):
                sql = f"SELECT article_id, shingles FROM docs WHERE article_id IN ({_marks(chunk)})"
                for aid, blob in self._conn.execute(sql, chunk):
                    out[aid] = np.frombuffer(blob, np.uint32)
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
        entry given twice (a re-run of a reconcile) is simply replaced again."""
        seg = None
        with self._guard():
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            try:
                latest = {e.doc.article_id: e for e in entries}  # last one wins
                entries = list(latest.values())
                for chunk in _chunks(list(latest)):
                    c.execute(f"DELETE FROM docs WHERE article_id IN ({_marks(chunk)})", chunk)
                first = int(c.execute("SELECT value FROM meta WHERE key = 'next_id'").fetchone()[0])
                ids = np.arange(first, first + len(entries), dtype=np.int64)
                c.executemany(
                    "INSERT INTO docs (id, article_id, canonical_url, content_hash, cluster_id, revision, shingles)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            i,
                            e.doc.article_id,
                            e.doc.canonical_url,
                            e.doc.content_hash,
                            e.doc.cluster_id,
                            e.doc.revision,
                            e.shingles.astype(np.uint32).tobytes(),
                        )
                        for i, e in zip(ids.tolist(), entries)
                    ],
                )
                # an empty text has no near-copies: no buckets
                live = [k for k, e in enumerate(entries) if e.shingles.size]
                manifest = self._segments.manifest
                if live:
                    keys = np.stack([entries[k].band_keys for k in live]).astype(np.int64)
                    seg = self._segments.write(keys.ravel(), np.repeat(ids[live], keys.shape[1]))
                    manifest = manifest + [seg]
                c.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                    [("next_id", str(first + len(entries))), ("segments", json.dumps(manifest))],
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
                raise
            self._segments.replace(manifest)
            self._compact()

    def _compact(self) -> None:
        plan = self._segments.merge_plan()
        if not plan:
            return
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
            raise IndexError_(f"{self.path}: index is closed")
        return _Guard(self.path)


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
        raise IndexCorrupt(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
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
