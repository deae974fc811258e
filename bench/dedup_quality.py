"""Pairwise precision / recall of the dedup on a labelled corpus (bench/corpus.py).

Runs the real Deduper (index on disk, several runs so both the index path and
the in-batch path are used) for each parameter set of a small grid, and prints
one table row per set: pairwise precision and recall over "same cluster" pairs,
hard-negative merges, and the LSH candidate recall (copy pairs that reached
verification at all). Targets: precision >= 0.99, recall >= 0.97, 0 hard merges.

    python -m bench.dedup_quality [--seeds 7,8,9] [--runs 3]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import random
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.corpus import Doc, hard_negative_pairs, make_corpus
from pipelines.dedup import DedupConfig, Deduper
from pipelines.minhash import MinhashConfig
from pipelines.models import Article
from pipelines.settings import Settings

GRID = [  # (ngram, bands, rows, min_coverage); the first row is the default
    (3, 40, 3, 0.75),
    (3, 40, 3, 0.70),
    (3, 40, 3, 0.80),
    (3, 60, 3, 0.75),
    (3, 20, 5, 0.75),
    (3, 16, 8, 0.75),
    (2, 40, 3, 0.80),
    (4, 40, 3, 0.75),
    (5, 40, 3, 0.75),
    (5, 16, 8, 0.75),  # the datasketch-style default: 5-grams, high LSH threshold
]


def to_article(doc: Doc, when: datetime) -> Article:
    url = f"https://{doc.kind}.example/{doc.doc_id}"
    return Article(
        article_id=doc.doc_id,
        url=url,
        canonical_url=url,
        source=doc.kind,
        domain=f"{doc.kind}.example",
        title=doc.doc_id,
        authors=[],
        published_at=when,
        language="en",
        text=doc.text,
        word_count=len(doc.text.split()),
        fetched_at=when,
        content_hash=hashlib.sha256(" ".join(doc.text.split()).encode()).hexdigest(),
    )


def run_dedup(docs: list[Doc], config: DedupConfig, runs: int, seed: int) -> dict[str, str]:
    """doc_id -> cluster_id after landing `docs` over `runs` runs in a shuffled order."""
    rng = random.Random(seed)
    order = docs[:]
    rng.shuffle(order)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    arts = [to_article(d, t0 + timedelta(minutes=i)) for i, d in enumerate(order)]
    clusters: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp, Deduper.open(Path(tmp), Settings(), config) as dd:
        for r in range(runs):
            res = dd.assign(arts[r::runs], f"run{r}")
            clusters.update({a.article_id: a.cluster_id for a in res.rows})
            dd.commit()
    return clusters


def pair_scores(docs: list[Doc], clusters: dict[str, str]) -> tuple[float, float, int]:
    truth = {(a.doc_id, b.doc_id) for a, b in itertools.combinations(docs, 2) if a.story == b.story}
    by_cluster = defaultdict(list)
    for d in docs:
        by_cluster[clusters[d.doc_id]].append(d.doc_id)
    pred = {tuple(sorted(p)) for m in by_cluster.values() for p in itertools.combinations(m, 2)}
    truth = {tuple(sorted(p)) for p in truth}
    tp = len(pred & truth)
    hard = sum(clusters[a] == clusters[b] for a, b in hard_negative_pairs(docs))
    return tp / max(len(pred), 1), tp / max(len(truth), 1), hard


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="7,8,9")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    corpora = [make_corpus(seed) for seed in seeds]
    n_docs, n_hard = sum(map(len, corpora)), sum(len(hard_negative_pairs(c)) for c in corpora)
    print(
        f"corpus: {n_docs} docs over {len(seeds)} seeds, {n_hard} hard-negative pairs, {args.runs} runs each"
    )
    print(f"{'config':<62} {'precision':>9} {'recall':>7} {'hard_merges':>11}")
    for ng, bands, rows, cov in GRID:
        config = DedupConfig(MinhashConfig(ngram=ng, bands=bands, rows=rows), cov)
        tp_p = tp_r = hard = 0.0
        for seed, docs in zip(seeds, corpora):
            p, r, h = pair_scores(docs, run_dedup(docs, config, args.runs, seed))
            tp_p, tp_r, hard = tp_p + p, tp_r + r, hard + h
        k = len(seeds)
        print(f"{config!s:<62} {tp_p / k:>9.4f} {tp_r / k:>7.4f} {int(hard):>11}")


if __name__ == "__main__":
    main()
