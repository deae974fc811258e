"""The persistent dedup index, embedded: files under state/, no server.

What it holds, per indexed article (latest revision only): its article_id,
canonical_url, content_hash, cluster_id and revision (SQLite), its LSH band
keys and its shingle sequence (what verification compares). Plus the MinHash
parameters it was built with and the run_ids it has committed.

  dedup_index.sqlite            docs rows (by doc number only: no secondary index),
                                runs, meta: parameters, segment manifest, doc count,
                                committed ends of the two append-only files
  dedup_segments/seg-*.seg      sorted 32-bit keys + uint32 doc numbers
                                (pipelines/band_segments.py), 43 columns: the 40 LSH
                                bands, then a CRC-32 of article_id, canonical_url and
                                content_hash (the exact lookups), 344 B/article + fences
  dedup_segments/bands.i64      full 64-bit band keys, fixed stride by doc number
  dedup_segments/shingles.u32   shingle sequences, appended; docs.soff/slen locate them

Per article, what a query touches: the segment keys (43 x 4 = 172 bytes,
searched by every batch, so they want to be resident), the segment doc numbers
(43 x 4 = 172 bytes, read at hits only), and for the few candidate docs their
320-byte row of bands.i64 (to drop 32-bit key collisions, so candidates are
exactly the 64-bit buckets') and their SQLite row. A url / hash / article_id
lookup reads the rows of the doc numbers its CRC-32 finds and keeps those whose
text is equal, so a key collision costs a row read, never a wrong doc.
Why not SQLite indexes on those texts: three B-trees on random keys make every
batch of 10k dirty ~10k pages of each (WAL writes, checkpoints, cache misses),
a cost that grows with the index; the docs table is now only appended to (doc
numbers increase). SQLite's own RAM is its page cache, a fixed budget (cache_mb),
not a per-article cost.

Crash behaviour: add() appends shingles and band keys past the committed ends,
writes the new segment, fsyncs them (on a thread of its own, while it inserts
the rows), then one SQLite transaction (WAL, synchronous=NORMAL) commits docs,
run count, manifest and the new ends together, once those fsyncs are done.
A kill -9 before COMMIT leaves tails and an orphan segment, which open() cuts
off / deletes (so do files merged away but not yet unlinked: the next add() or
close() unlinks them, after the merge's commit, the one commit made with
synchronous=FULL, is on disk); after COMMIT the data is in the OS page cache and the WAL, so
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
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from pipelines.band_segments import BandSegments, SegmentError, unlink_all
from pipelines.lock import hold, unhold
from pipelines.minhash import MinhashConfig

# 3: exact lookups in the segments (no SQLite indexes), one file a segment, a doc count
FORMAT = "newsmill-lsh-sqlite-3"
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


# docs: one live row per article_id (add() deletes the old revision's row); found by
# doc number, or through the segments' key columns (KEY_COLUMNS), never by a SQLite index.
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE docs (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL, canonical_url TEXT NOT NULL,
    content_hash TEXT NOT NULL, cluster_id TEXT NOT NULL, revision INTEGER NOT NULL,
    soff INTEGER NOT NULL, slen INTEGER NOT NULL);
CREATE TABLE runs (run_id TEXT PRIMARY KEY, rows INTEGER NOT NULL) WITHOUT ROWID;
"""
_FIELDS = ("id", "article_id", "canonical_url", "content_hash", "cluster_id", "revision", "soff", "slen")
# Segment columns after the bands: the exact lookups, by a 32-bit key of the text.
KEY_COLUMNS = ("article_id", "canonical_url", "content_hash")
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
        self._bands = config.bands
        self._stride = config.bands * 8
        try:
            columns = config.bands + len(KEY_COLUMNS)
            self._segments = BandSegments(seg_dir, json.loads(meta["segments"]), columns)
            # A killed writer may have appended past the committed ends: cut back to them.
            self._sh_fd = self._open_log(seg_dir / SHINGLES, self._shingles_end * 4)
            self._bk_fd = self._open_log(seg_dir / BANDS, (self._next_id - 1) * self._stride)
        except SegmentError as e:
            self._close_fds()
            raise IndexCorrupt(f"{path}: {e}; rebuild the index from the dataset") from e
        self._dropped: list[Path] = []  # merged-away segment files, unlinked by the next add()

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
        if self._conn is None:
            return
        try:
            unlink_all(self._dropped)  # what the last commits merged away; an error is raised once closed
        finally:
            self._conn.close()
            self._conn = None  # type: ignore[assignment]
            self._close_fds()
            unhold(self._lock_fd)
            os.close(self._lock_fd)

    # ---- reads -----------------------------------------------------------
    def by_url(self, urls: list[str]) -> dict[str, IndexedDoc]:
        """canonical_url -> its doc (the newest doc number if several share it)."""
        return {d.canonical_url: d for d in self._docs_where("canonical_url", urls)}

    def by_hash(self, hashes: list[str]) -> dict[str, IndexedDoc]:
        """content_hash -> the first doc indexed with it (lowest doc number)."""
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
        band_keys = np.ascontiguousarray(band_keys, np.int64).reshape(-1, self._bands)
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
        for _, aid, _, _, _, _, off, ln in self._rows_where("article_id", article_ids):
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
        """Docs indexed (kept in meta by add(): a count(*) would read the whole table)."""
        with self._guard():
            return int(self._conn.execute("SELECT value FROM meta WHERE key = 'count'").fetchone()[0])

    # ---- writes ----------------------------------------------------------
    def add(self, entries: list[Entry], run_id: str) -> None:
        """Index `entries` and count them for `run_id`, all in one SQLite commit (all or nothing).

        An entry whose article_id is already indexed replaces it (a revision); an
        entry given twice (a re-run of a reconcile) is simply replaced again.
        Order: shingles, band keys and the new segment are appended, then fsynced on
        a disk thread while the rows go into the open SQLite transaction; COMMIT
        waits for those fsyncs, and makes them live (their committed ends and the
        manifest are in it); a crash before COMMIT leaves only tails that open() cuts off."""
        latest = {e.doc.article_id: e for e in entries}  # last one wins
        entries = list(latest.values())
        batch = _Batch.of(entries, self._next_id, self._shingles_end, self.config.bands)
        with self._guard(), _DiskWorker() as io:
            dropped, self._dropped = self._dropped, []
            io.submit(unlink_all, dropped)  # the files the last commits merged away
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            seg = None
            try:
                gone = self._delete_replaced(list(latest), batch.lookup["article_id"])
                seg = self._write_files(batch, io)
                manifest = self._segments.manifest + ([seg] if seg else [])
                self._insert_rows(entries, batch)
                self._set_meta(
                    next_id=batch.first + len(entries),
                    shingles_end=batch.new_end,
                    segments=json.dumps(manifest),
                    count=self.count() - gone + len(entries),
                )
                c.execute(
                    "INSERT INTO runs VALUES (?, ?) ON CONFLICT (run_id) DO UPDATE SET rows = rows + excluded.rows",
                    (run_id, len(entries)),
                )
                io.wait()  # every byte the commit points at is on disk first
                c.execute("COMMIT")
            except BaseException as e:
                self._undo(batch, seg, e, io)
                raise
            self._next_id, self._shingles_end = batch.first + len(entries), batch.new_end
            self._segments.replace(manifest, remove=self._dropped.extend)
            self._compact()

    def _delete_replaced(self, article_ids: list[str], keys: np.ndarray) -> int:
        """Delete the rows of the revisions these articles replace; their segment entries
        then point at no row and drop out of lookups. Returns how many."""
        old = [r[0] for r in self._rows_where("article_id", article_ids, keys)]
        for chunk in _chunks(old):
            self._conn.execute(f"DELETE FROM docs WHERE id IN ({_marks(chunk)})", chunk)
        return len(old)

    def _write_files(self, batch: _Batch, io: _DiskWorker) -> dict | None:
        """Append the shingles and band keys, write the commit's segment (None: no docs);
        their fsyncs go to the disk thread, to overlap what add() does next. (The
        pwrites stay here: on the disk thread they queue behind the fsyncs, and measured
        slower.)"""
        _pwrite_arrays(self._sh_fd, batch.seqs, batch.sh_end * 4)
        io.submit(os.fsync, self._sh_fd)
        _pwrite_arrays(self._bk_fd, [batch.keys], (batch.first - 1) * self._stride)
        io.submit(os.fsync, self._bk_fd)
        if not batch.ids.size:
            return None
        seg = self._segments.write(self._columns(batch), sync=False)
        io.submit(self._segments.sync, seg)
        return seg

    def _insert_rows(self, entries: list[Entry], batch: _Batch) -> None:
        """The docs rows, bound column-wise (no tuple a row to build: ~10% less time)."""
        docs = [e.doc for e in entries]
        offs = batch.sh_end + np.concatenate(([0], np.cumsum(batch.lens)[:-1]))
        self._conn.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            zip(
                batch.ids.tolist(),
                [d.article_id for d in docs],
                [d.canonical_url for d in docs],
                [d.content_hash for d in docs],
                [d.cluster_id for d in docs],
                [d.revision for d in docs],
                offs.tolist(),
                batch.lens.tolist(),
            ),
        )

    def _set_meta(self, **values) -> None:
        self._conn.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in values.items()]
        )

    def _undo(self, batch: _Batch, seg: dict | None, error: BaseException, io: _DiskWorker) -> None:
        """After a failed add: roll back, and cut off what it appended (once the disk
        thread is done with those files)."""
        self._conn.execute("ROLLBACK")
        late = io.drain()
        if late is not None and late is not error:
            error.add_note(f"also failed on the disk thread: {late!r}")
        if seg is not None:
            self._segments.discard(seg)
        os.ftruncate(self._sh_fd, batch.sh_end * 4)
        os.ftruncate(self._bk_fd, (batch.first - 1) * self._stride)

    def _compact(self) -> None:
        while plan := self._segments.merge_plan():
            merged = self._segments.merge(plan)
            manifest = self._segments.manifest[: -len(plan)] + [merged]
            c = self._conn
            # The merged-away files get unlinked once this commits: it must be on disk
            # first (a WAL fsync), or a power cut could bring back a manifest naming them.
            c.execute("PRAGMA synchronous=FULL")
            try:
                c.execute("BEGIN IMMEDIATE")
                try:
                    c.execute("UPDATE meta SET value = ? WHERE key = 'segments'", (json.dumps(manifest),))
                    c.execute("COMMIT")
                except BaseException:
                    c.execute("ROLLBACK")
                    self._segments.discard(merged)
                    raise
            finally:
                c.execute("PRAGMA synchronous=NORMAL")
            self._segments.replace(manifest, remove=self._dropped.extend)

    # ---- internals -------------------------------------------------------
    def _columns(self, batch: _Batch) -> list[tuple[np.ndarray, np.ndarray]]:
        """A commit's segment columns: each band's keys of the docs with shingles (an
        empty text has no near-copies: no buckets), then every doc's lookup keys."""
        live = np.nonzero(batch.lens)[0]
        cols = [(batch.keys[live, b], batch.ids[live]) for b in range(self._bands)]
        return cols + [(batch.lookup[name], batch.ids) for name in KEY_COLUMNS]

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
        return [IndexedDoc(*r[1:6]) for r in self._rows_where(column, values)]

    def _rows_where(self, column: str, values: list[str], keys: np.ndarray | None = None) -> list[tuple]:
        """docs rows (all _FIELDS, by doc number) whose `column` is one of `values`: the
        doc numbers their 32-bit keys (`keys`, if the caller has them) find in the
        segments, then the rows, then the text compared, so a key collision (or a
        replaced revision's entry) returns nothing."""
        wanted = set(values)
        if not wanted:
            return []
        with self._guard():
            col = self._bands + KEY_COLUMNS.index(column)
            needles = key32(list(wanted)) if keys is None else keys
            _, ids = self._segments.lookup(needles[:, None], first=col)
            at = _FIELDS.index(column)
            out = []
            for chunk in _chunks(np.unique(ids).tolist()):  # ascending: rows come by doc number
                sql = f"SELECT {', '.join(_FIELDS)} FROM docs WHERE id IN ({_marks(chunk)}) ORDER BY id"
                out.extend(r for r in self._conn.execute(sql, chunk) if r[at] in wanted)
        return out

    def _guard(self) -> _Guard:
        if self._conn is None:
            raise DedupIndexError(f"{self.path}: index is closed")
        return _Guard(self.path)


@dataclass(slots=True)
class _Batch:
    """What add() writes for its entries: doc numbers from `first`, shingles appended at
    `sh_end` (in uint32s), band keys, and the lookup keys of KEY_COLUMNS."""

    first: int
    sh_end: int
    ids: np.ndarray
    seqs: list[np.ndarray]
    lens: np.ndarray
    keys: np.ndarray
    lookup: dict[str, np.ndarray]

    @property
    def new_end(self) -> int:
        return self.sh_end + int(self.lens.sum())

    @classmethod
    def of(cls, entries: list[Entry], first: int, sh_end: int, bands: int) -> _Batch:
        seqs = [np.ascontiguousarray(e.shingles, np.uint32) for e in entries]
        keys = (
            np.stack([e.band_keys for e in entries]).astype(np.int64)
            if entries
            else np.empty((0, bands), np.int64)
        )
        if keys.shape[1:] != (bands,):
            raise ValueError(f"band keys of shape {keys.shape}, the index has {bands} bands")
        return cls(
            first=first,
            sh_end=sh_end,
            ids=np.arange(first, first + len(entries), dtype=np.int64),
            seqs=seqs,
            lens=np.fromiter((s.size for s in seqs), np.int64, len(seqs)),
            keys=keys,
            lookup={name: key32([getattr(e.doc, name) for e in entries]) for name in KEY_COLUMNS},
        )


class _DiskWorker:
    """A thread, for one add(), for calls that wait on the disk rather than the CPU
    (fsyncs, unlinks), so add() goes on meanwhile. It ends with the add(): the flow
    forks, and wants no stray thread in the process then. wait() blocks until all
    submitted calls are done and raises the first error; leaving the block waits too."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="lsh-index-io")
        self._pending: list[Future] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et, ev, tb) -> None:
        late = self.drain()
        self._pool.shutdown()
        if late is None:
            return
        if ev is None:
            raise late
        if late is not ev:
            ev.add_note(f"also failed on the disk thread: {late!r}")

    def submit(self, fn, *args) -> None:
        self._pending.append(self._pool.submit(fn, *args))

    def drain(self) -> BaseException | None:
        """Wait for everything submitted; the first error, returned (not raised)."""
        pending, self._pending = self._pending, []
        errors = [f.exception() for f in pending]
        return next((e for e in errors if e is not None), None)

    def wait(self) -> None:
        if (error := self.drain()) is not None:
            raise error


def key32(values: list[str]) -> np.ndarray:
    """The lookup key of each text: CRC-32 of its UTF-8 (stable across processes, unlike
    hash(); ~0.25 us a url). Equal keys only make candidates: the text is compared."""
    return np.array([zlib.crc32(v.encode()) for v in values], np.int64)


_IOV_MAX = os.sysconf("SC_IOV_MAX")  # buffers a pwritev call takes (1024 on Linux)


def _pwrite_arrays(fd: int, arrays: list[np.ndarray], offset: int) -> None:
    """The arrays back to back at `offset`, with no concatenated copy (pwritev takes the
    arrays' own buffers, IOV_MAX a call); a short write resumes where it stopped."""
    bufs = [np.ascontiguousarray(a) for a in arrays if a.size]
    i = 0
    while i < len(bufs):
        n = os.pwritev(fd, bufs[i : i + _IOV_MAX], offset)
        if n <= 0:
            raise OSError(f"pwritev wrote {n} bytes at {offset}")
        offset += n
        while i < len(bufs) and n >= bufs[i].nbytes:
            n -= bufs[i].nbytes
            i += 1
        if n:  # part of bufs[i] written: the rest, as bytes
            bufs[i] = np.frombuffer(memoryview(bufs[i]).cast("B")[n:], np.uint8)


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
                    ("count", "0"),
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
            f"{path}: format {meta.get('format')!r}, expected {FORMAT!r} (written by another version);"
            " rebuild the index from the dataset (rebuild_index)"
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
