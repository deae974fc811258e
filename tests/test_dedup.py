"""Dedup semantics: copies folded, the kept copy rule, look-alikes kept apart, re-runs, revisions."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasketch import MinHash

from bench.corpus import GROUND_TRUTH, edit_words, load_bases
from pipelines.dedup import DedupConfig, Deduper, rebuild_index
from pipelines.minhash import MinhashConfig, MinHasher
from pipelines.models import Article
from pipelines.settings import Settings
from pipelines.shingles import shingle_sequence

pytestmark = pytest.mark.timeout(60)
T0 = datetime(2025, 3, 1, tzinfo=UTC)
if not GROUND_TRUTH.exists():  # real article texts come from the shared dev set beside the repo
    pytest.skip(f"{GROUND_TRUTH} absent: dedup tests use its real article texts", allow_module_level=True)
BASES = load_bases()


def art(url: str, text: str, minutes: int = 0, canonical: str | None = None) -> Article:
    canonical = canonical or url
    return Article(
        article_id=hashlib.sha1(canonical.encode()).hexdigest()[:16],
        url=url,
        canonical_url=canonical,
        source="t",
        domain="t.example",
        title="",
        authors=[],
        published_at=T0 + timedelta(minutes=minutes),
        language="en",
        text=text,
        word_count=len(text.split()),
        fetched_at=T0,
        content_hash=hashlib.sha256(" ".join(text.split()).encode()).hexdigest(),
    )


@pytest.fixture
def dd(tmp_path: Path):
    with Deduper.open(tmp_path / "state", Settings(data_dir=tmp_path)) as d:
        yield d


def land(dd: Deduper, articles: list[Article], run_id: str):
    res = dd.assign(articles, run_id)
    dd.commit()
    return res


def test_signatures_equal_datasketch_affine32():
    cfg = MinhashConfig(ngram=3, bands=40, rows=3)
    sets = [np.unique(shingle_sequence(t, 3)) for t in BASES[:5]]
    sigs = MinHasher(cfg).signatures(sets)
    for s, sig in zip(sets, sigs):
        m = MinHash(num_perm=cfg.num_perm, seed=cfg.seed, scheme="affine32", hashfunc=lambda x: x)
        m.update_batch(s.tolist())
        assert np.array_equal(m.hashvalues, sig)


def test_config_names_itself():
    assert str(DedupConfig()) == "3ng_40bs_3hs_s1_affine32_cov0.75"


def test_syndicated_copy_with_edits_is_folded_and_first_seen_kept(dd):
    rng = random.Random(1)
    vocab = sorted({w for t in BASES for w in t.split() if w.isalpha()})
    base = BASES[3]
    copy = "By Trend\n" + edit_words(base, 0.08, vocab, rng) + "\nsource: APA"
    res = land(dd, [art("https://b.example/copy", copy, 5), art("https://a.example/orig", base, 1)], "r1")
    orig, dup = res.rows  # landing order: earliest published_at first
    assert (
        orig.url == "https://a.example/orig" and not orig.is_duplicate and orig.cluster_id == orig.article_id
    )
    assert dup.is_duplicate and dup.duplicate_of == orig.article_id == dup.cluster_id
    assert 0.3 < dup.similarity < 1.0
    # a later run: even an earlier published_at does not take the kept place from an earlier run
    res2 = land(dd, [art("https://c.example/x", edit_words(base, 0.05, vocab, rng), -100)], "r2")
    assert res2.rows[0].duplicate_of == orig.article_id


def test_exact_copy_on_other_url(dd):
    res = land(dd, [art("https://a.example/1", BASES[0], 1), art("https://b.example/1", BASES[0], 2)], "r1")
    assert res.rows[1].duplicate_of == res.rows[0].article_id and res.stats["exact"] == 1


def test_teaser_sharing_short_articles_not_merged(dd):
    words = [t.split() for t in BASES[10:13]]
    teaser = " ".join(words[0][:120])
    a = " ".join(words[1][:110]) + "\n" + teaser
    b = " ".join(words[2][:110]) + "\n" + teaser
    wire = " ".join(words[0][:40])
    c, d = wire + "\n" + BASES[20], wire + "\n" + BASES[21]
    res = land(
        dd,
        [
            art("https://s.example/a", a),
            art("https://s.example/b", b, 1),
            art("https://w.example/c", c, 2),
            art("https://w.example/d", d, 3),
        ],
        "r1",
    )
    assert [r.is_duplicate for r in res.rows] == [False] * 4


def test_unchanged_rerun_adds_nothing_and_same_batch_twice(dd):
    batch = [art(f"https://a.example/{i}", BASES[i], i) for i in range(5)]
    assert len(land(dd, batch, "r1").rows) == 5
    again = [art(f"https://a.example/{i}", BASES[i], i) for i in range(5)]
    res = land(dd, again, "r2")
    assert res.rows == [] and res.skipped_unchanged == 5


def test_amp_variant_same_canonical_is_one_row(dd):
    res = land(
        dd,
        [
            art("https://a.example/x", BASES[1], 1),
            art("https://a.example/amp/x", BASES[1][:-50], 1, canonical="https://a.example/x"),
        ],
        "r1",
    )
    assert len(res.rows) == 1 and res.stats["same_url_variants"] == 1


def test_revision_is_a_new_row_not_a_duplicate(dd):
    first = land(dd, [art("https://a.example/x", BASES[2])], "r1").rows[0]
    updated = BASES[2] + "\nUpdate: the minister resigned on Friday evening."
    rev = land(dd, [art("https://a.example/x", updated, 30)], "r2").rows[0]
    assert rev.article_id == first.article_id and rev.extras["revision"] == 1
    assert not rev.is_duplicate and rev.cluster_id == first.article_id
    # the index now holds the new text: meeting it again adds nothing
    assert land(dd, [art("https://a.example/x", updated, 30)], "r3").skipped_unchanged == 1


def _write_dataset(path: Path, rows: list[Article]) -> None:
    cols = {
        "article_id": [],
        "canonical_url": [],
        "content_hash": [],
        "cluster_id": [],
        "text": [],
        "run_id": [],
        "revision": [],
        "minhash": [],
        "minhash_params": [],
    }
    for a in rows:
        for k in ("article_id", "canonical_url", "content_hash", "cluster_id", "text", "run_id"):
            cols[k].append(getattr(a, k))
        for k in ("revision", "minhash", "minhash_params"):
            cols[k].append(a.extras[k])
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(cols), path)


def test_killed_before_commit_is_reconciled_from_dataset(tmp_path):
    settings = Settings(data_dir=tmp_path)
    glob = str(tmp_path / "articles" / "**" / "*.parquet")
    with Deduper.open(tmp_path / "state", settings) as dd:
        res = dd.assign([art("https://a.example/1", BASES[4])], "20250301T000000Z")
        _write_dataset(tmp_path / "articles" / "d=1" / "r1.parquet", res.rows)
        # killed here: no commit()
    with Deduper.open(tmp_path / "state", settings) as dd:
        assert dd.reconcile(glob) == 1 and dd.reconcile(glob) == 0
        res = dd.assign([art("https://b.example/copy", BASES[4])], "20250302T000000Z")
        assert res.rows[0].is_duplicate
    assert rebuild_index(tmp_path / "state", glob, settings) == 1


def test_second_batch_of_a_run_killed_before_commit_is_reconciled(tmp_path):
    settings = Settings(data_dir=tmp_path)
    glob = str(tmp_path / "articles" / "**" / "*.parquet")
    run = "20250301T000000Z"
    with Deduper.open(tmp_path / "state", settings) as dd:
        res = dd.assign([art("https://a.example/1", BASES[6])], run)
        _write_dataset(tmp_path / "articles" / "d=1" / "r1-0.parquet", res.rows)
        dd.commit()  # batch 1 of the run: landed and committed
        res = dd.assign([art("https://a.example/2", BASES[7])], run)
        _write_dataset(tmp_path / "articles" / "d=1" / "r1-1.parquet", res.rows)
        # killed here: batch 2 landed, not committed; the run_id is known to the index
    with Deduper.open(tmp_path / "state", settings) as dd:
        assert dd.reconcile(glob) == 2 and dd.reconcile(glob) == 0
        res = dd.assign([art("https://b.example/copy", BASES[7])], "20250302T000000Z")
        assert res.rows[0].is_duplicate


def test_coverage_with_a_floor_is_exact_above_it_and_below_it_otherwise() -> None:
    """The early stop of verification never changes a decision: at or above the floor
    the share is the exact one, below it the share stays below."""
    from pipelines.verify import coverage

    rng = np.random.default_rng(11)
    vocab = rng.integers(0, 2**32, 400, dtype=np.uint32)
    checked = above = 0
    for _ in range(400):
        a = rng.choice(vocab, rng.integers(5, 300))
        b = np.where(rng.random(a.size) < rng.random(), a, rng.choice(vocab, a.size))  # edited copy, any rate
        other = np.unique(b)
        exact = coverage(a, other, 3)
        for floor in (0.5, 0.75, 0.9):
            got = coverage(a, other, 3, floor)
            checked += 1
            if exact >= floor:
                above += 1
                assert got == exact
            else:
                assert got < floor and got <= exact
    assert checked == 1200 and 100 < above < 1100  # both sides of the floor were exercised
