"""Dedup speed: signatures vs datasketch, and a scale table for the persistent index.

    python -m bench.dedup_speed [--sizes 10000,100000] [--index-sizes 10000000] [--redis-sizes 10000] [--redis-url URL]

Part 1 (real article texts, bench/corpus.py bases, repeated): articles/s for
shingling, for signatures alone, for both, and the same MinHash done with
datasketch's `MinHash.update_batch` (sha1 per shingle) in the same run: the ratio.
Part 2: for each size, a child process lands N synthetic articles (words drawn
from the real texts' vocabulary with their lengths; 10% are edited copies of an
earlier one) through Deduper in batches of 10k into a fresh index, then reopens
it. Printed: seconds, dedup articles/s, index query+insert articles/s (the index
calls alone), open time, index bytes on disk per article, peak RSS of the whole
benchmark process (its 10k-article batches and synthetic texts included), and
the index's own RAM per article: reopened, queried as by a batch of 10k new
articles (every band key, and their urls, hashes and article_ids), RSS growth
split into anonymous memory and mmap'd segment pages (page cache the OS can
evict; these are what lookups need hot), and "seg B/art": the segment bytes an
article has (32-bit keys, searched by every batch, plus doc numbers, read at
hits only, plus fences).
Part 3, when a redis-server binary is on PATH (or --redis-url is given): the
same scale rows on the Redis backend (--redis-sizes), on a server started here
on a free 127.0.0.1 port without persistence and stopped after, with the Redis
memory (INFO used_memory) per article.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.corpus import load_bases
from pipelines.dedup import DedupConfig, Deduper
from pipelines.lsh_index import Entry, IndexedDoc
from pipelines.models import Article
from pipelines.settings import Settings
from pipelines.shingles import shingle_sequence


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def signature_speed(repeat: int = 20, baseline_docs: int = 300) -> None:
    from datasketch import MinHash

    config = DedupConfig()
    texts = load_bases() * repeat
    words = sum(len(t.split()) for t in texts) / len(texts)
    with tempfile.TemporaryDirectory() as tmp, Deduper.open(Path(tmp), Settings(), config) as dd:
        dd.features(texts[:10])  # compile / load the numba kernels first
        n = config.minhash.ngram
        t0 = time.perf_counter()
        sets = [np.unique(shingle_sequence(t, n)) for t in texts]
        t1 = time.perf_counter()
        sigs = dd.hasher.signatures(sets)
        dd.hasher.band_keys(sigs)
        t2 = time.perf_counter()
    ours_sig, ours_all = len(texts) / (t2 - t1), len(texts) / (t2 - t0)
    sample = texts[:baseline_docs]
    t3 = time.perf_counter()
    for t in sample:  # datasketch as commonly used: string shingles, sha1 per shingle
        w = t.split()
        m = MinHash(num_perm=config.minhash.num_perm, seed=1, scheme="affine32")
        m.update_batch([" ".join(w[i : i + n]).encode() for i in range(max(len(w) - n + 1, 1))])
    ds = len(sample) / (time.perf_counter() - t3)
    print(f"signatures ({config}; {len(texts)} real articles, {words:.0f} words avg, 1 core):")
    print(f"  shingling only     {len(texts) / (t1 - t0):>10,.0f} articles/s")
    print(f"  signatures only    {ours_sig:>10,.0f} articles/s")
    print(f"  shingling + sigs   {ours_all:>10,.0f} articles/s")
    print(f"  datasketch 2.0     {ds:>10,.0f} articles/s  (update_batch, sha1)")
    print(
        f"  ratio              {ours_all / ds:>10.1f}x (with shingling), {ours_sig / ds:.1f}x (signatures only)"
    )


def synthetic(n: int, seed: int = 1, batch: int = 10_000) -> Iterator[list[str]]:
    """Batches of synthetic texts; copies are of one of the last 20k texts, so that
    memory stays flat whatever n (1M texts held at once would be ~9 GB of str)."""
    rng = random.Random(seed)
    bases = load_bases()
    vocab = sorted({w for t in bases for w in t.split()})
    lengths = [len(t.split()) for t in bases]
    recent: list[str] = []
    for start in range(0, n, batch):
        out: list[str] = []
        for _ in range(min(batch, n - start)):
            if recent and rng.random() < 0.1:  # an edited copy of an earlier article
                w = rng.choice(recent).split()
                for _ in range(len(w) // 20):
                    w[rng.randrange(len(w))] = rng.choice(vocab)
                out.append(" ".join(w))
            else:
                out.append(" ".join(rng.choices(vocab, k=rng.choice(lengths))))
            recent.append(out[-1])
        recent = recent[-20_000:]
        yield out


def _timed(f, spent: list[float]):
    """`f`, adding the seconds it runs to spent[0]: the index calls, timed apart."""

    def g(*a, **k):
        t = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            spent[0] += time.perf_counter() - t

    return g


def footprint(state: Path, settings: Settings, probe: np.ndarray) -> dict:
    """The index reopened and queried as a batch of len(probe) new articles queries it
    (every band key of `probe`, and as many urls, hashes and article_ids): open
    seconds, count, RSS growth (private and mmap'd MB: what lookups keep hot), bytes
    on disk."""
    anon0, file0 = rss_mb("RssAnon"), rss_mb("RssFile")
    t = time.perf_counter()
    with Deduper.open(state, settings) as dd:
        open_s = time.perf_counter() - t
        count = dd.index.count()
        dd.index.candidates(probe)
        names = [f"probe{i}" for i in range(len(probe))]
        dd.index.by_url([f"https://probe.example/{a}" for a in names])
        dd.index.by_hash([f"h{a}" for a in names])
        dd.index.docs(names)
        anon1, file1 = rss_mb("RssAnon"), rss_mb("RssFile")
    files = [p for p in state.rglob("*") if p.is_file()]
    return {
        "open_s": open_s,
        "count": count,
        "anon_mb": anon1 - anon0,
        "file_mb": file1 - file0,
        "disk": sum(p.stat().st_size for p in files),
        "seg": sum(p.stat().st_size for p in files if p.name.startswith("seg-")),
    }


def scale_child(n: int, backend: str, redis_url: str) -> dict:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    settings = Settings(index_backend=backend, redis_url=redis_url)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        state = Path(tmp)
        redis_mem0 = 0
        if backend == "redis":
            import redis

            from pipelines.lsh_redis import RedisIndex

            RedisIndex.drop(redis_url)
            redis_mem0 = redis.Redis.from_url(redis_url).info("memory")["used_memory"]
        rss0 = rss_mb()
        index_s = 0.0
        start = time.perf_counter()
        with Deduper.open(state, settings) as dd:
            texts_of = synthetic(n)
            gen_s = 0.0  # making the synthetic texts is not dedup time
            for b in range(0, n, 10_000):
                tg = time.perf_counter()
                texts = next(texts_of)
                gen_s += time.perf_counter() - tg
                arts = [
                    Article(
                        article_id=f"a{i}",
                        url=f"https://x.example/{i}",
                        canonical_url=f"https://x.example/{i}",
                        source="x",
                        domain="x.example",
                        title="",
                        authors=[],
                        published_at=t0 + timedelta(seconds=i),
                        language="en",
                        text=texts[i - b],
                        word_count=0,
                        fetched_at=t0,
                        content_hash=f"h{i}",
                    )
                    for i in range(b, min(b + 10_000, n))
                ]
                idx = dd.index
                calls = {
                    "candidates": idx.candidates,
                    "add": idx.add,
                    "shingles": idx.shingles,
                    "docs": idx.docs,
                    "by_url": idx.by_url,
                    "by_hash": idx.by_hash,
                }
                spent = [0.0]
                for name, f in calls.items():
                    setattr(idx, name, _timed(f, spent))
                dd.assign(arts, f"run{b:09d}")
                dd.commit()
                for name, f in calls.items():
                    setattr(idx, name, f)
                index_s += spent[0]
        total = time.perf_counter() - start - gen_s
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # The index's own RAM: reopen it, query every band key of 10k articles
        # (sorted needles touch nearly every segment page), and see what RSS grew by.
        with Deduper.open(state, settings) as dd:
            _, _, _, probe = dd.features(next(synthetic(10_000)))
        fp = footprint(state, settings, probe)
        redis_mem = 0
        if backend == "redis":
            redis_mem = redis.Redis.from_url(redis_url).info("memory")["used_memory"] - redis_mem0
    return {
        "n": n,
        "indexed": fp["count"],
        "seconds": total,
        "rate": n / total,
        "index_rate": n / index_s,
        "open_s": fp["open_s"],
        "disk_per_article": fp["disk"] / n if backend == "local" else float("nan"),
        "peak_rss_mb": peak,
        "rss_growth_per_article": (peak - rss0) * 2**20 / n,
        "index_anon_per_article": fp["anon_mb"] * 2**20 / n,
        "index_file_per_article": fp["file_mb"] * 2**20 / n,
        "segment_per_article": fp["seg"] / n,
        "redis_mem_per_article": redis_mem / n,
    }


def index_child(n: int) -> dict:
    """The embedded index alone at scale: the calls `Deduper.assign`/`commit` make
    (by_url, by_hash, candidates, docs, shingles, add), in batches of 10k, fed
    synthetic band keys and shingle sequences of the real texts' lengths; 10% of
    the articles are edited copies (an earlier one's keys with a third of the bands
    changed), so candidates are found and read back. No texts, no hashing: what a
    10M-article row costs is the index's own work."""
    settings = Settings()
    rng = np.random.default_rng(3)
    lengths = np.array([max(len(t.split()) - 2, 1) for t in load_bases()])
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        state = Path(tmp)
        rss0 = rss_mb()
        spent = 0.0
        with Deduper.open(state, settings) as dd:
            idx, bands = dd.index, dd.config.minhash.bands
            recent = np.empty((0, bands), np.int64)
            for b in range(0, n, 10_000):
                m = min(10_000, n - b)
                keys = rng.integers(-(2**63), 2**63 - 1, size=(m, bands), dtype=np.int64)
                if len(recent):
                    copies = np.nonzero(rng.random(m) < 0.1)[0]
                    src = recent[rng.integers(0, len(recent), copies.size)]
                    keep = rng.random(src.shape) < 0.67
                    keys[copies] = np.where(keep, src, keys[copies])
                seqs = [rng.integers(0, 2**32, size=k, dtype=np.uint32) for k in rng.choice(lengths, m)]
                ids = [f"a{i}" for i in range(b, b + m)]
                t = time.perf_counter()
                idx.by_url([f"https://x.example/{i}" for i in ids])
                idx.by_hash([f"h{i}" for i in ids])
                cands = idx.candidates(keys)
                cand_ids = sorted(set().union(*cands))
                idx.docs(cand_ids)
                idx.shingles(cand_ids)
                entries = [
                    Entry(IndexedDoc(a, f"https://x.example/{a}", f"h{a}", a), keys[j], seqs[j])
                    for j, a in enumerate(ids)
                ]
                idx.add(entries, f"run{b:09d}")
                spent += time.perf_counter() - t
                recent = np.concatenate([recent, keys])[-20_000:]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        probe = rng.integers(-(2**63), 2**63 - 1, size=(10_000, bands), dtype=np.int64)
        fp = footprint(state, settings, probe)
    return {
        "n": n,
        "indexed": fp["count"],
        "seconds": spent,
        "rate": n / spent,
        "index_rate": n / spent,
        "open_s": fp["open_s"],
        "disk_per_article": fp["disk"] / n,
        "peak_rss_mb": peak,
        "rss_growth_per_article": (peak - rss0) * 2**20 / n,
        "index_anon_per_article": fp["anon_mb"] * 2**20 / n,
        "index_file_per_article": fp["file_mb"] * 2**20 / n,
        "segment_per_article": fp["seg"] / n,
        "redis_mem_per_article": 0,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis() -> tuple[subprocess.Popen, str]:
    import redis

    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            redis.Redis(port=port).ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


def run_child(n: int, backend: str, redis_url: str, index_only: bool = False) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.dedup_speed",
            "--index-child" if index_only else "--child",
            str(n),
            "--backend",
            backend,
            "--redis-url",
            redis_url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


HEADER = (
    f"{'backend':>7} {'articles':>10} {'seconds':>8} {'dedup/s':>8} {'index q+i/s':>11} {'open s':>7} "
    f"{'disk B/art':>10} {'peak RSS MB':>11} {'idx anon B/art':>14} {'idx mmap B/art':>14} "
    f"{'seg B/art':>9} {'redis B/art':>11}"
)


def row(backend: str, r: dict) -> str:
    return (
        f"{backend:>7} {r['n']:>10,} {r['seconds']:>8.1f} {r['rate']:>8,.0f} {r['index_rate']:>11,.0f} "
        f"{r['open_s']:>7.3f} {r['disk_per_article']:>10,.0f} {r['peak_rss_mb']:>11,.0f} "
        f"{r['index_anon_per_article']:>14,.0f} {r['index_file_per_article']:>14,.0f} "
        f"{r['segment_per_article']:>9,.0f} {r['redis_mem_per_article']:>11,.0f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--redis-sizes", default="10000", help="sizes for the Redis rows ('' for none)")
    ap.add_argument("--redis-url", help="an existing server (default: start one if redis-server is on PATH)")
    ap.add_argument("--backend", default="local", choices=["local", "redis"], help=argparse.SUPPRESS)
    ap.add_argument("--index-sizes", default="", help="sizes for index-only rows, e.g. 10000000 ('' for none)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--index-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--skip-signatures", action="store_true")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(scale_child(args.child, args.backend, args.redis_url or "")))
        return
    if args.index_child:
        print(json.dumps(index_child(args.index_child)))
        return
    if not args.skip_signatures:
        signature_speed()
    print("\nscale (batches of 10k, one process per row):")
    print(HEADER)
    for n in (int(s) for s in args.sizes.split(",") if s):
        print(row("local", run_child(n, "local", "")), flush=True)
    index_sizes = [int(s) for s in args.index_sizes.split(",") if s]
    if index_sizes:
        print("index alone (synthetic band keys and shingles; 'dedup/s' = 'index q+i/s'):")
        for n in index_sizes:
            print(row("index", run_child(n, "local", "", index_only=True)), flush=True)
    redis_sizes = [int(s) for s in args.redis_sizes.split(",") if s]
    if not redis_sizes:
        return
    proc, url = None, args.redis_url
    if url is None:
        if shutil.which("redis-server") is None:
            print("  redis: no redis-server on PATH, no Redis rows")
            return
        proc, url = start_redis()
    try:
        for n in redis_sizes:
            print(row("redis", run_child(n, "redis", url)), flush=True)
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
