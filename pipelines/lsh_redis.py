"""The dedup index on a Redis server: the same interface as lsh_index.LocalIndex.

For deployments where several machines dedup against one index. Layout, under
a prefix (default "newsmill:dedup:"):
  meta              hash    format, minhash parameters (checked on open)
  lock              string  the writer's token (SET NX PX, refreshed while open)
  next              string  the last doc number handed out (INCRBY)
  docs              hash    article_id -> JSON [canonical_url, content_hash, cluster_id, revision, num]
  sh                hash    article_id -> shingle sequence (uint32)
  num               hash    doc number -> article_id (live revisions only)
  url               hash    canonical_url -> article_id
  chash             hash    content_hash -> first article_id with it
  b:<band>          hash    8-byte band key -> packed uint32 doc numbers (the bucket)
  runs              hash    run_id -> rows committed
Buckets hold doc numbers, 4 bytes each, in one hash per band (not one set per
bucket: a Redis key costs ~100 bytes, a hash field ~60); docs and shingles are
fields too, not keys of their own, so a batch is a few big commands. A revision gets a new
number and the old one leaves `num`, so its old bucket entries drop out.

Round trips: a lookup is one pipeline of 40 HMGETs (one per band, all the
batch's keys) plus one HMGET on `num`; add() is one read pipeline (old numbers,
current buckets, INCRBY), then one MULTI/EXEC transaction that WATCHes the lock:
Redis applies it whole or not at all, a client killed before EXEC leaves nothing
behind, and a writer whose lock was taken over (it stalled past the TTL) fails
instead of interleaving. Read-modify-write of the buckets is safe because only
the lock holder writes. Redis run without persistence forgets everything on
restart; the next run's reconcile() re-indexes the dataset (the runs hash is
empty), so nothing slips through.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import defaultdict

import numpy as np
import redis

from pipelines.lsh_index import (
    Entry,
    IndexCorrupt,
    IndexedDoc,
    IndexLocked,
    IndexParamsMismatch,
    IndexUnavailable,
)
from pipelines.minhash import MinhashConfig

PREFIX = "newsmill:dedup:"
FORMAT = "newsmill-lsh-redis-2"
LOCK_TTL_MS = 30_000

_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_REFRESH = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"


class RedisIndex:
    def __init__(self, client: redis.Redis, url: str, config: MinhashConfig, prefix: str, lock_ttl_ms: int):
        self._r, self.url, self.config, self.p = client, url, config, prefix
        self._token = uuid.uuid4().hex
        self._ttl = lock_ttl_ms
        self._stop = threading.Event()
        # (band, key) -> bucket value seen by the last candidates(): add() of the same
        # batch reuses it instead of reading the buckets again (only this writer writes).
        self._seen: list[dict[bytes, bytes | None]] = []  # by band
        self._mutex = threading.Lock()  # a refresh (PEXPIRE) must not touch the WATCHed lock mid-commit
        self._refresher: threading.Thread | None = None

    @classmethod
    def open(
        cls, url: str, config: MinhashConfig, prefix: str = PREFIX, lock_ttl_ms: int = LOCK_TTL_MS
    ) -> RedisIndex:
        client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        idx = cls(client, url, config, prefix, lock_ttl_ms)
        with idx._guard():
            meta = {k.decode(): v.decode() for k, v in client.hgetall(prefix + "meta").items()}
            if not meta:
                client.hset(
                    prefix + "meta",
                    mapping={"format": FORMAT, "minhash": json.dumps(config.as_dict(), sort_keys=True)},
                )
            elif meta.get("format") != FORMAT:
                raise IndexCorrupt(
                    f"{url} {prefix}meta: format {meta.get('format')!r}, expected {FORMAT!r}; "
                    "rebuild the index from the dataset"
                )
            elif json.loads(meta["minhash"]) != config.as_dict():
                raise IndexParamsMismatch(
                    f"{url} {prefix}: built with {meta['minhash']}, opened with "
                    f"{config.as_dict()}; rebuild the index from the dataset"
                )
            if not client.set(prefix + "lock", idx._token, nx=True, px=lock_ttl_ms):
                ttl = client.pttl(prefix + "lock")
                raise IndexLocked(
                    f"{url} {prefix}: another writer holds the dedup index lock "
                    f"(if it died, the lock expires in {max(ttl, 0) / 1000:.1f} s)"
                )
        idx._refresher = threading.Thread(target=idx._refresh_loop, name="redis-index-lock", daemon=True)
        idx._refresher.start()
        return idx

    @classmethod
    def drop(cls, url: str, prefix: str = PREFIX) -> None:
        client = redis.Redis.from_url(url)
        for keys in _batched(client.scan_iter(match=prefix + "*", count=10_000)):
            client.delete(*keys)
        client.close()

    def close(self) -> None:
        self._stop.set()
        if self._refresher is not None:
            self._refresher.join()
            self._refresher = None
        try:
            self._r.eval(_RELEASE, 1, self.p + "lock", self._token)
        except (redis.ConnectionError, redis.TimeoutError):
            pass  # the server is gone; so is the lock (or it expires)
        self._r.close()

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self._ttl / 3000):
            try:
                with self._mutex:
                    self._r.eval(_REFRESH, 1, self.p + "lock", self._token, self._ttl)
            except redis.RedisError:
                pass  # add() checks the lock itself; a dead server fails the next call

    # ---- reads -----------------------------------------------------------
    def by_url(self, urls: list[str]) -> dict[str, IndexedDoc]:
        return {d.canonical_url: d for d in self.docs(self._lookup("url", urls)).values()}

    def by_hash(self, hashes: list[str]) -> dict[str, IndexedDoc]:
        return {d.content_hash: d for d in self.docs(self._lookup("chash", hashes)).values()}

    def docs(self, article_ids: list[str]) -> dict[str, IndexedDoc]:
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        with self._guard():
            values = self._r.hmget(self.p + "docs", ids)
        out = {}
        for a, v in zip(ids, values):
            if v is not None:
                url, chash, cluster, revision, _num = json.loads(v)
                out[a] = IndexedDoc(a, url, chash, cluster, revision)
        return out

    def candidates(self, band_keys: np.ndarray) -> list[set[str]]:
        """One round trip for all buckets of the batch (one HMGET a band), one for the names."""
        band_keys = np.ascontiguousarray(band_keys, np.int64)
        n, bands = band_keys.shape
        out: list[set[str]] = [set() for _ in range(n)]
        if n == 0:
            return out
        with self._guard():
            pipe = self._r.pipeline(transaction=False)
            for b in range(bands):
                pipe.hmget(f"{self.p}b:{b}", _fields(band_keys[:, b]))
            rows_of: dict[int, set[int]] = defaultdict(set)  # doc number -> rows
            self._seen = []
            for b, values in enumerate(pipe.execute()):
                self._seen.append(dict(zip(_fields(band_keys[:, b]), values)))
                for row, v in enumerate(values):
                    if v is not None:
                        for num in np.frombuffer(v, np.uint32).tolist():
                            rows_of[num].add(row)
            if not rows_of:
                return out
            nums = list(rows_of)
            names = self._r.hmget(self.p + "num", nums)
        for num, name in zip(nums, names):
            if name is not None:  # else: a replaced revision's number
                aid = name.decode()
                for row in rows_of[num]:
                    out[row].add(aid)
        return out

    def shingles(self, article_ids: list[str]) -> dict[str, np.ndarray]:
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        with self._guard():
            values = self._r.hmget(self.p + "sh", ids)
        return {a: np.frombuffer(v, np.uint32) for a, v in zip(ids, values) if v is not None}

    def runs(self) -> dict[str, int]:
        with self._guard():
            return {k.decode(): int(v) for k, v in self._r.hgetall(self.p + "runs").items()}

    def set_run_rows(self, run_id: str, rows: int) -> None:
        with self._guard():
            self._write(lambda tx: tx.hset(self.p + "runs", run_id, rows))

    def count(self) -> int:
        with self._guard():
            return self._r.hlen(self.p + "url")

    # ---- writes ----------------------------------------------------------
    def add(self, entries: list[Entry], run_id: str) -> None:
        """Index `entries` and record `run_id` in one MULTI/EXEC transaction (lock-checked)."""
        p = self.p
        latest = {e.doc.article_id: e for e in entries}  # last one wins
        entries = list(latest.values())
        bands = self.config.bands
        keys = (
            np.stack([e.band_keys for e in entries]).astype(np.int64)
            if entries
            else np.empty((0, bands), np.int64)
        )
        live = [k for k, e in enumerate(entries) if e.shingles.size]  # an empty text gets no buckets
        with self._guard():
            rd = self._r.pipeline(transaction=False)
            aids = [e.doc.article_id for e in entries]
            hashes = sorted({e.doc.content_hash for e in entries})
            rd.hmget(p + "docs", aids or [""])
            rd.hmget(p + "chash", hashes or [""])
            band_fields = []
            seen = self._seen if len(self._seen) == bands else [{} for _ in range(bands)]
            for b in range(bands):
                fields = sorted({f for f in _fields(keys[live, b]) if f not in seen[b]})
                band_fields.append(fields)
                if fields:
                    rd.hmget(f"{p}b:{b}", fields)
            rd.incrby(p + "next", len(entries))
            res = rd.execute()
            olds = [json.loads(v)[4] for v in res[0] if v is not None]
            known_hash = {h for h, v in zip(hashes, res[1]) if v is not None}
            res = res[2:]
            last = res.pop()
            nums = list(range(last - len(entries) + 1, last + 1))
            buckets: list[dict[bytes, bytes]] = []
            it = iter(res)
            for b in range(bands):
                cur = seen[b]
                if band_fields[b]:
                    cur.update(zip(band_fields[b], next(it)))
                new: dict[bytes, list[int]] = defaultdict(list)
                for k in live:
                    new[keys[k, b].tobytes()].append(nums[k])
                buckets.append(
                    {f: (cur.get(f) or b"") + np.asarray(ns, np.uint32).tobytes() for f, ns in new.items()}
                )

            first_with_hash: dict[str, str] = {}
            for e in entries:  # HSETNX semantics: the first article_id with a hash stays
                if e.doc.content_hash not in known_hash:
                    first_with_hash.setdefault(e.doc.content_hash, e.doc.article_id)

            def queue(tx) -> None:
                if olds:
                    tx.hdel(p + "num", *olds)
                if entries:
                    tx.hset(p + "num", mapping={n: e.doc.article_id for n, e in zip(nums, entries)})
                    tx.hset(p + "url", mapping={e.doc.canonical_url: e.doc.article_id for e in entries})
                    tx.hset(
                        p + "docs",
                        mapping={
                            e.doc.article_id: json.dumps(
                                [e.doc.canonical_url, e.doc.content_hash, e.doc.cluster_id, e.doc.revision, n]
                            )
                            for n, e in zip(nums, entries)
                        },
                    )
                    tx.hset(
                        p + "sh",
                        mapping={
                            e.doc.article_id: np.asarray(e.shingles, np.uint32).tobytes() for e in entries
                        },
                    )
                if first_with_hash:
                    tx.hset(p + "chash", mapping=first_with_hash)
                for b, m in enumerate(buckets):
                    if m:
                        tx.hset(f"{p}b:{b}", mapping=m)
                tx.hincrby(p + "runs", run_id, len(entries))

            self._seen = []  # stale once written (and if the write fails)
            self._write(queue)

    def _write(self, queue) -> None:
        """Run `queue(tx)` as one MULTI/EXEC, only while this writer still holds the lock."""
        lock = self.p + "lock"
        with self._mutex, self._r.pipeline(transaction=True) as tx:
            try:
                tx.watch(lock)
                if tx.get(lock) != self._token.encode():
                    raise IndexLocked(f"{self.url} {self.p}: lost the writer lock (stalled past its TTL?)")
                tx.multi()
                tx.pexpire(lock, self._ttl)  # we hold it: a full TTL from this commit on
                queue(tx)
                tx.execute()
            except redis.WatchError:
                raise IndexLocked(f"{self.url} {self.p}: the writer lock changed hands mid-commit") from None

    def _lookup(self, table: str, values: list[str]) -> list[str]:
        values = sorted(set(values))
        if not values:
            return []
        with self._guard():
            return [v.decode() for v in self._r.hmget(self.p + table, values) if v is not None]

    def _guard(self) -> _Guard:
        return _Guard(self.url)


def _fields(keys: np.ndarray) -> list[bytes]:
    """Hash field names: each int64 band key as its 8 bytes."""
    raw = np.ascontiguousarray(keys, np.int64).tobytes()
    return [raw[i : i + 8] for i in range(0, len(raw), 8)]


class _Guard:
    def __init__(self, url: str):
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, et, ev, tb) -> bool:
        if et is not None and issubclass(et, (redis.ConnectionError, redis.TimeoutError)):
            raise IndexUnavailable(
                f"dedup index at {self.url} unreachable ({ev}); the run fails, nothing of it was "
                "indexed; restart Redis and run again (open + reconcile re-indexes the dataset)"
            ) from ev
        return False


def _batched(it, size: int = 1000):
    buf = []
    for x in it:
        buf.append(x)
        if len(buf) == size:
            yield buf
            buf = []
    if buf:
        yield buf
