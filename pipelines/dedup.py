"""Cluster decisions: which landed article is a copy of which, run after run.

Per article, in landing order (earliest published_at, then url; earlier runs
are already in the index, so they always come first):
1. same canonical_url as an indexed article: same content_hash -> not landed
   (skipped_unchanged); other content_hash -> a revision of that article (same
   article_id, revision + 1, keeps its cluster). Same canonical_url twice in
   one batch (AMP/print/utm variants): the first is landed, the others counted.
2. same content_hash as another article -> exact duplicate.
3. LSH candidates (index + this batch) verified on shingles (pipelines/verify.py):
   the best one with coverage >= min_coverage -> near duplicate, joins its cluster.
4. otherwise a new story: cluster_id = its own article_id.
assign() only decides; commit() writes the decisions to the index, after the
caller has landed the Parquet files (see docs/dedup.md for the crash protocol).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import numpy as np

from pipelines.lsh_index import Entry, IndexedDoc, LocalIndex
from pipelines.minhash import MinhashConfig, MinHasher
from pipelines.models import Article
from pipelines.settings import Settings
from pipelines.shingles import shingle_sequence, unique_sorted
from pipelines.verify import ShinglePool, jaccard

_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """Chosen by bench/dedup_quality.py; see docs/dedup.md for the measurements."""

    minhash: MinhashConfig = field(default_factory=lambda: MinhashConfig(ngram=3, bands=40, rows=3))
    min_coverage: float = 0.75

    def __str__(self) -> str:
        return f"{self.minhash}_cov{self.min_coverage:g}"


@dataclass
class DedupResult:
    rows: list[Article]  # articles to land, cluster fields filled, in landing order
    skipped_unchanged: int  # same canonical_url + same content_hash as already landed
    stats: dict[str, float]


@dataclass(slots=True)
class _Doc:
    """A decided article as the rest of the batch sees it."""

    info: IndexedDoc
    seq: np.ndarray
    slot: int  # its position in the batch's ShinglePool
    _set: np.ndarray | None = None

    def shingle_set(self) -> np.ndarray:
        """Made when first needed: only a duplicate and its kept copy need a set (Jaccard)."""
        if self._set is None:
            self._set = unique_sorted(self.seq)
        return self._set


def open_index(state_dir: Path, settings: Settings, config: MinhashConfig):
    if settings.index_backend == "redis":
        from pipelines.lsh_redis import RedisIndex

        return RedisIndex.open(settings.redis_url, config)
    return LocalIndex.open(state_dir, config)


def warm_up(config: DedupConfig | None = None) -> None:
    """Load the compiled kernels (numba's on-disk cache) that the first batch would
    load lazily: about a second, better spent while something else waits."""
    config = config or DedupConfig()
    hasher = MinHasher(config.minhash)
    n = config.minhash.ngram
    seqs = [shingle_sequence(t, n) for t in ("warm up the shingle kernels once", "and the verification ones")]
    hasher.band_keys(hasher.signatures(seqs))
    ShinglePool(seqs).pair_coverages(0, np.array([1]), n, config.min_coverage)


class Deduper:
    def __init__(self, index, config: DedupConfig):
        self.index, self.config = index, config
        self.hasher = MinHasher(config.minhash)
        self._pending: list[Entry] = []
        self._pending_run: str | None = None

    @classmethod
    def open(cls, state_dir: Path, settings: Settings, config: DedupConfig | None = None) -> Deduper:
        config = config or DedupConfig()
        return cls(open_index(state_dir, settings, config.minhash), config)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.index.close()

    # ---- features ---------------------------------------------------------
    def features(self, texts: list[str]) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
        """Shingle sequences, sets, signatures (n, num_perm) uint32 and band keys (n, bands) int64."""
        seqs, sigs, keys = self._sketch(texts)
        return seqs, [unique_sorted(s) for s in seqs], sigs, keys

    def _sketch(self, texts: list[str]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """`features` without the sets: a signature of a sequence is that of its set."""
        seqs = [shingle_sequence(t, self.config.minhash.ngram) for t in texts]
        sigs = self.hasher.signatures(seqs)
        return seqs, sigs, self.hasher.band_keys(sigs)

    # ---- decisions ---------------------------------------------------------
    def assign(self, articles: list[Article], run_id: str) -> DedupResult:
        if self._pending:
            raise RuntimeError(f"assign() for run {run_id!r} before commit() of run {self._pending_run!r}")
        t0 = time.perf_counter()
        order = sorted(
            range(len(articles)), key=lambda i: (articles[i].published_at or _FAR_FUTURE, articles[i].url)
        )
        arts = [articles[i] for i in order]
        seqs, sigs, keys = self._sketch([a.text for a in arts])
        known_url = self.index.by_url([a.canonical_url for a in arts])
        known_hash = self.index.by_hash([a.content_hash for a in arts])
        cands = self.index.candidates(keys)
        cand_ids = sorted(set().union(*cands)) if cands else []
        cand_docs = self.index.docs(cand_ids)
        pool, cand_slots = _pool(seqs, self.index.shingles(cand_ids))
        # article_id -> (doc, pool slot) of its newest version: the index's, then the batch's as landed
        reachable = {aid: (info, cand_slots[aid]) for aid, info in cand_docs.items()}
        stats = dict.fromkeys(
            (
                "total",
                "new",
                "duplicates",
                "exact",
                "near",
                "revisions",
                "skipped_unchanged",
                "same_url_variants",
                "verified_pairs",
            ),
            0.0,
        )
        stats["total"] = len(arts)
        batch_url: dict[str, _Doc] = {}
        batch_hash: dict[str, _Doc] = {}
        batch_docs: dict[str, _Doc] = {}
        earlier = _earlier_in_batch(keys, [a.article_id for a in arts], [s.size > 0 for s in seqs])
        kept_cache: dict[str, np.ndarray] = {}
        rows: list[Article] = []

        def kept_set(cluster_id: str) -> np.ndarray:
            if cluster_id in batch_docs:
                return batch_docs[cluster_id].shingle_set()
            if cluster_id not in kept_cache:
                slot = cand_slots.get(cluster_id)
                if slot is not None:
                    seq = pool.seq(slot)
                else:
                    seq = self.index.shingles([cluster_id]).get(cluster_id, np.empty(0, np.uint32))
                kept_cache[cluster_id] = unique_sorted(seq)
            return kept_cache[cluster_id]

        for i, a in enumerate(arts):
            prev_batch = batch_url.get(a.canonical_url)
            if prev_batch is not None:
                key = (
                    "skipped_unchanged"
                    if prev_batch.info.content_hash == a.content_hash
                    else "same_url_variants"
                )
                stats[key] += 1
                continue
            prev = known_url.get(a.canonical_url)
            revision = 0
            if prev is not None and prev.content_hash == a.content_hash:
                stats["skipped_unchanged"] += 1
                continue
            if prev is not None:  # a revision keeps the article's place in its cluster
                revision, cluster, sim = prev.revision + 1, prev.cluster_id, None
                stats["revisions"] += 1
            else:
                cands_i = cands[i] | earlier.get(i, set())
                cluster, sim = self._match(a, i, cands_i, known_hash, batch_hash, reachable, pool, stats)
            a.cluster_id = cluster or a.article_id
            a.is_duplicate = a.cluster_id != a.article_id
            a.duplicate_of = a.cluster_id if a.is_duplicate else None
            if a.is_duplicate and sim is None:
                sim = jaccard(unique_sorted(seqs[i]), kept_set(a.cluster_id))
            a.similarity = sim if a.is_duplicate else None
            a.run_id = run_id
            a.extras["revision"] = revision
            a.extras["minhash"] = sigs[i].astype("<u4").tobytes()
            a.extras["minhash_params"] = str(self.config.minhash)
            stats["duplicates" if a.is_duplicate else "new"] += 1 if revision == 0 else 0
            info = IndexedDoc(a.article_id, a.canonical_url, a.content_hash, a.cluster_id, revision)
            doc = _Doc(info, seqs[i], i)
            batch_url[a.canonical_url] = batch_docs[a.article_id] = doc
            batch_hash.setdefault(a.content_hash, doc)
            reachable[a.article_id] = (info, i)
            self._pending.append(Entry(info, keys[i], seqs[i]))
            rows.append(a)
        self._pending_run = run_id
        stats["seconds"] = time.perf_counter() - t0
        return DedupResult(rows, int(stats["skipped_unchanged"]), stats)

    def _match(
        self, a, slot, cands, known_hash, batch_hash, reachable, pool, stats
    ) -> tuple[str | None, float | None]:
        """(cluster_id, similarity) of the story `a` (at `slot` in `pool`) copies, or (None, None)
        for a new story."""
        if pool.size(slot) == 0:  # no words: nothing to compare, its own story
            return None, None
        exact = batch_hash.get(a.content_hash)
        exact_info = exact.info if exact is not None else known_hash.get(a.content_hash)
        if exact_info is not None and exact_info.canonical_url != a.canonical_url:
            stats["exact"] += 1
            return exact_info.cluster_id, None
        pairs = _verifiable(a, cands, reachable)
        if not pairs:
            return None, None
        stats["verified_pairs"] += len(pairs)
        floor = self.config.min_coverage
        others = np.fromiter((p[1] for p in pairs), np.int64, len(pairs))
        covs = pool.pair_coverages(slot, others, self.config.minhash.ngram, floor)
        top = covs.max()
        if top < floor:
            return None, None
        stats["near"] += 1
        # the best coverage; on a tie, the first candidate in article_id order
        best = min((pairs[k][0] for k in np.flatnonzero(covs == top).tolist()), key=lambda d: d.article_id)
        return best.cluster_id, None

    def commit(self) -> None:
        """Persist what assign() decided; call after the Parquet files are landed."""
        if self._pending_run is None:
            return
        self.index.add(self._pending, self._pending_run)
        self._pending, self._pending_run = [], None

    def reconcile(self, parquet_glob: str) -> int:
        """See `reconcile` below: index landed runs that were never committed."""
        return reconcile(self, parquet_glob)

    def discard(self) -> None:
        """Forget what assign() decided (the caller did not land it)."""
        self._pending, self._pending_run = [], None


def _pool(seqs: list[np.ndarray], cand_seqs: dict[str, np.ndarray]) -> tuple[ShinglePool, dict[str, int]]:
    """Every text a pair can read, filtered once: the batch's (slot = batch position), then
    the indexed candidates' (their article_id -> slot returned). The pool keeps the only copy."""
    indexed = sorted(cand_seqs)
    pool = ShinglePool(seqs + [cand_seqs[aid] for aid in indexed])
    return pool, {aid: len(seqs) + k for k, aid in enumerate(indexed)}


def _verifiable(a, cands, reachable) -> list[tuple[IndexedDoc, int]]:
    """The candidates `a` is verified against: (doc, pool slot) of each one's newest version.
    Not those neither in the index nor landed earlier in the batch (a replaced revision's
    old buckets), nor those on `a`'s own canonical_url."""
    url = a.canonical_url
    return [h for h in map(reachable.get, cands) if h is not None and h[0].canonical_url != url]


def _earlier_in_batch(keys: np.ndarray, ids: list[str], indexable: list[bool]) -> dict[int, set[str]]:
    """For each batch position, the article_ids earlier in the batch sharing a band bucket.

    Vectorized: sort all band keys once, pair every member of a bucket with the earlier
    ones in numpy; only the distinct (later, earlier) pairs reach Python."""
    n, bands = keys.shape
    ok = np.repeat(np.asarray(indexable, bool), bands)
    flat, rows = keys.ravel()[ok], np.repeat(np.arange(n), bands)[ok]
    order = np.argsort(flat, kind="stable")  # rows ascending within a bucket (ravel order)
    sk, sr = flat[order], rows[order]
    if sk.size == 0:
        return {}
    new_key = np.concatenate(([True], sk[1:] != sk[:-1]))
    bucket_start = np.maximum.accumulate(np.where(new_key, np.arange(sk.size), 0))
    before = np.arange(sk.size) - bucket_start  # members of the bucket ahead of each one
    later = np.repeat(sr, before)
    first_out = np.repeat(np.cumsum(before) - before, before)
    earlier = sr[np.repeat(bucket_start, before) + np.arange(later.size) - first_out]
    other = later != earlier  # a row twice in a bucket: only through a 64-bit key collision
    pairs = np.unique(later[other] * n + earlier[other])
    out: dict[int, set[str]] = {}
    for later_row, earlier_row in zip((pairs // n).tolist(), (pairs % n).tolist()):
        out.setdefault(later_row, set()).add(ids[earlier_row])
    return out


def reconcile(deduper: Deduper, parquet_glob: str) -> int:
    """Index the rows that landed in the dataset but were never committed; returns rows indexed.

    Call after open() and before assign(): a run killed between landing its Parquet
    files and commit() would otherwise let the next run accept the same copies again."""
    from pipelines.dedup_dataset import landed_runs, reindex_runs

    landed, committed = landed_runs(parquet_glob), deduper.index.runs()
    # A run commits once per batch: a run is behind if the dataset has more of its rows.
    behind = sorted(r for r, n in landed.items() if n > committed.get(r, 0))
    return reindex_runs(deduper, parquet_glob, landed, behind)


def rebuild_index(
    state_dir: Path, parquet_glob: str, settings: Settings, config: DedupConfig | None = None
) -> int:
    """A fresh index from the dataset alone (after a damaged index or a parameter change)."""
    from pipelines.dedup_dataset import reset_local_index

    config = config or DedupConfig()
    if settings.index_backend == "redis":
        from pipelines.lsh_redis import RedisIndex

        RedisIndex.drop(settings.redis_url)
    else:
        reset_local_index(state_dir)
    with Deduper.open(state_dir, settings, config) as deduper:
        return reconcile(deduper, parquet_glob)
