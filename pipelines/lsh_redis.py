"""The dedup index on a Redis server: the same interface as lsh_index.LocalIndex.

For deployments where several machines dedup against one index. Layout, under
a prefix (default "newsmill:dedup:"):
  meta              hash  format, minhash parameters (checked on open)
  doc:<article_id>  hash  canonical_url, content_hash, cluster_id, revision, band_keys, shingles
  url               hash  canonical_url -> article_id
  chash             hash  content_hash -> first article_id with it
  b:<band key>      set   article_ids in that bucket
  runs              hash  run_id -> rows committed
Each add() is one MULTI/EXEC transaction: Redis applies it whole or not at all,
and a client killed before EXEC leaves nothing behind. Redis run without
persistence forgets everything on restart; the next run's reconcile() re-indexes
the dataset (the runs hash is empty), so nothing slips through.
"""

from __future__ import annotations

import json

import numpy as np
import redis

from pipelines.lsh_index import FORMAT, Entry, IndexCorrupt, IndexedDoc, IndexParamsMismatch, IndexUnavailable
from pipelines.minhash import MinhashConfig

PREFIX = "newsmill:dedup:"


class RedisIndex:
    def __init__(self, client: redis.Redis, url: str, config: MinhashConfig, prefix: str):
        self._r, self.url, self.config, self.p = client, url, config, prefix

    @classmethod
    def open(cls, url: str, config: MinhashConfig, prefix: str = PREFIX) -> RedisIndex:
        client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        idx = cls(client, url, config, prefix)
        with idx._guard():
            meta = {k.decode(): v.decode() for k, v in client.hgetall(prefix + "meta").items()}
            if not meta:
                client.hset(
                    prefix + "meta",
                    mapping={"format": FORMAT, "minhash": json.dumps(config.as_dict(), sort_keys=True)},
                )
            elif meta.get("format") != FORMAT:
                raise IndexCorrupt(f"{url} {prefix}meta: format {meta.get('format')!r}, expected {FORMAT!r}")
            elif json.loads(meta["minhash"]) != config.as_dict():
                raise IndexParamsMismatch(
                    f"{url} {prefix}: built with {meta['minhash']}, opened with "
                    f"{config.as_dict()}; rebuild the index from the dataset"
                )
        return idx

    @classmethod
    def drop(cls, url: str, prefix: str = PREFIX) -> None:
        client = redis.Redis.from_url(url)
        for keys in _batched(client.scan_iter(match=prefix + "*", count=10_000)):
            client.delete(*keys)

    def close(self) -> None:
        self._r.close()

    def by_url(self, urls: list[str]) -> dict[str, IndexedDoc]:
        return {d.canonical_url: d for d in self.docs(self._lookup("url", urls)).values()}

    def by_hash(self, hashes: list[str]) -> dict[str, IndexedDoc]:
        return {d.content_hash: d for d in self.docs(self._lookup("chash", hashes)).values()}

    def docs(self, article_ids: list[str]) -> dict[str, IndexedDoc]:
        ids = sorted(set(article_ids))
        with self._guard():
            pipe = self._r.pipeline(transaction=False)
            for a in ids:
                pipe.hmget(self.p + "doc:" + a, "canonical_url", "content_hash", "cluster_id", "revision")
            out = {}
            for a, v in zip(ids, pipe.execute()):
                if v[0] is not None:
                    out[a] = IndexedDoc(a, v[0].decode(), v[1].decode(), v[2].decode(), int(v[3]))
            return out

    def candidates(self, band_keys: np.ndarray) -> list[set[str]]:
        out: list[set[str]] = []
        with self._guard():
            pipe = self._r.pipeline(transaction=False)
            for row in band_keys:
                pipe.sunion([f"{self.p}b:{k}" for k in row.tolist()])
            for members in pipe.execute():
                out.append({m.decode() for m in members})
        return out

    def shingles(self, article_ids: list[str]) -> dict[str, np.ndarray]:
        with self._guard():
            pipe = self._r.pipeline(transaction=False)
            for a in article_ids:
                pipe.hget(self.p + "doc:" + a, "shingles")
            return {
                a: np.frombuffer(v, np.uint32) for a, v in zip(article_ids, pipe.execute()) if v is not None
            }

    def runs(self) -> dict[str, int]:
        with self._guard():
            return {k.decode(): int(v) for k, v in self._r.hgetall(self.p + "runs").items()}

    def set_run_rows(self, run_id: str, rows: int) -> None:
        with self._guard():
            self._r.hset(self.p + "runs", run_id, rows)

    def count(self) -> int:
        with self._guard():
            return self._r.hlen(self.p + "url")

    def add(self, entries: list[Entry], run_id: str) -> None:
        """Index `entries` and record `run_id` in one MULTI/EXEC transaction."""
        p = self.p
        with self._guard():
            old_pipe = self._r.pipeline(transaction=False)
            for e in entries:
                old_pipe.hmget(p + "doc:" + e.doc.article_id, "band_keys", "canonical_url")
            olds = old_pipe.execute()
            tx = self._r.pipeline(transaction=True)
            for e, (old_keys, old_url) in zip(entries, olds):
                d = e.doc
                if old_keys is not None:  # a revision: the old text no longer attracts matches
                    for k in np.frombuffer(old_keys, np.int64).tolist():
                        tx.srem(f"{p}b:{k}", d.article_id)
                tx.hset(
                    p + "doc:" + d.article_id,
                    mapping={
                        "canonical_url": d.canonical_url,
                        "content_hash": d.content_hash,
                        "cluster_id": d.cluster_id,
                        "revision": d.revision,
                        "band_keys": e.band_keys.astype(np.int64).tobytes(),
                        "shingles": e.shingles.astype(np.uint32).tobytes(),
                    },
                )
                tx.hset(p + "url", d.canonical_url, d.article_id)
                tx.hsetnx(p + "chash", d.content_hash, d.article_id)
                if e.shingles.size:
                    for k in e.band_keys.tolist():
                        tx.sadd(f"{p}b:{k}", d.article_id)
            tx.hincrby(p + "runs", run_id, len(entries))
            tx.execute()

    def _lookup(self, table: str, values: list[str]) -> list[str]:
        values = sorted(set(values))
        if not values:
            return []
        with self._guard():
            return [v.decode() for v in self._r.hmget(self.p + table, values) if v is not None]

    def _guard(self) -> _Guard:
        return _Guard(self.url)


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
