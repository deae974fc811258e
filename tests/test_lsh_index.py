"""The on-disk index: persistence, parameter pinning, kill -9 mid-insert, damaged files."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pipelines.lsh_index import (
    FILENAME,
    SEGMENTS,
    Entry,
    IndexCorrupt,
    IndexedDoc,
    IndexLocked,
    IndexParamsMismatch,
    LocalIndex,
)
from pipelines.minhash import MinhashConfig

pytestmark = pytest.mark.timeout(60)
CFG = MinhashConfig(ngram=3, bands=8, rows=2)
ROOT = Path(__file__).resolve().parents[1]


def entries(start: int, n: int, bands: int = 8) -> list[Entry]:
    rng = np.random.default_rng(start)
    return [
        Entry(
            IndexedDoc(f"a{i}", f"https://x/{i}", f"h{i}", f"a{i}"),
            rng.integers(-(2**62), 2**62, bands, dtype=np.int64),
            rng.integers(0, 2**32, 50, dtype=np.uint32),
        )
        for i in range(start, start + n)
    ]


def test_persists_across_reopen(tmp_path):
    es = entries(0, 100)
    with_idx = LocalIndex.open(tmp_path, CFG)
    with_idx.add(es, "r1")
    with_idx.close()
    idx = LocalIndex.open(tmp_path, CFG)
    try:
        assert idx.count() == 100 and idx.runs() == {"r1": 100}
        found = idx.candidates(np.stack([es[5].band_keys, es[7].band_keys]))
        assert found == [{"a5"}, {"a7"}]
        assert np.array_equal(idx.shingles(["a5"])["a5"], es[5].shingles)
        assert idx.by_url(["https://x/3"])["https://x/3"].content_hash == "h3"
    finally:
        idx.close()


def test_revision_replaces_bands(tmp_path):
    idx = LocalIndex.open(tmp_path, CFG)
    old = entries(0, 1)[0]
    idx.add([old], "r1")
    new = Entry(IndexedDoc("a0", "https://x/0", "h0b", "a0", 1), old.band_keys + 1, old.shingles[:10])
    idx.add([new], "r2")
    assert idx.candidates(old.band_keys[None]) == [set()]
    assert idx.candidates(new.band_keys[None]) == [{"a0"}] and idx.count() == 1
    idx.close()


def test_other_parameters_are_a_clear_error(tmp_path):
    LocalIndex.open(tmp_path, CFG).close()
    with pytest.raises(IndexParamsMismatch, match="built with"):
        LocalIndex.open(tmp_path, MinhashConfig(ngram=5, bands=8, rows=2))


def test_second_writer_is_refused(tmp_path):
    idx = LocalIndex.open(tmp_path, CFG)
    with pytest.raises(IndexLocked):
        LocalIndex.open(tmp_path, CFG)
    idx.close()


@pytest.mark.parametrize("damage", ["empty", "truncated", "foreign", "garbage", "segment"])
def test_damaged_file_is_a_clear_error(tmp_path, damage):
    idx = LocalIndex.open(tmp_path, CFG)
    idx.add(entries(0, 2000), "r1")
    idx.close()
    path = tmp_path / FILENAME
    for p in tmp_path.glob(FILENAME + "-*"):
        p.unlink()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        with open(path, "r+b") as fh:
            fh.truncate(path.stat().st_size // 2)
    elif damage == "foreign":
        path.unlink()
        import sqlite3

        sqlite3.connect(path).executescript("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
    elif damage == "segment":  # a band segment cut short
        seg = min((tmp_path / SEGMENTS).glob("seg-*"))
        with open(seg, "r+b") as fh:
            fh.truncate(seg.stat().st_size - 100)
    else:
        path.write_bytes(b"not an index at all" * 100)
    with pytest.raises(IndexCorrupt, match="rebuild|not a dedup index|dedup index"):
        idx = LocalIndex.open(tmp_path, CFG)
        idx.candidates(entries(0, 1)[0].band_keys[None])


CHILD = """
import sys, numpy as np
sys.path.insert(0, {root!r})
from pathlib import Path
from tests.test_lsh_index import CFG, entries
from pipelines.lsh_index import LocalIndex
idx = LocalIndex.open(Path({path!r}), CFG)
i = 0
while True:
    idx.add(entries(i * 500, 500), f"r{{i}}")
    print(i, flush=True)
    i += 1
"""


def test_kill9_mid_insert_leaves_it_consistent(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(root=str(ROOT), path=str(tmp_path))],
        stdout=subprocess.PIPE,
        text=True,
    )
    for _ in range(3):  # let a few commits land, then kill in the middle of the next one
        proc.stdout.readline()
    time.sleep(0.05)
    proc.kill()
    proc.wait()
    idx = LocalIndex.open(tmp_path, CFG)
    try:
        # no segment file of the killed commit is left behind
        live = {m["name"] for m in idx._segments.manifest}
        assert {p.name.split(".")[0] for p in (tmp_path / SEGMENTS).glob("seg-*")} == live
        runs, n = idx.runs(), idx.count()
        assert n == 500 * len(runs) and len(runs) >= 3  # whole runs only
        # every committed doc is findable; re-inserting the next run (which may have been half-written) works
        k = len(runs)
        assert idx.candidates(entries((k - 1) * 500, 1)[0].band_keys[None])[0] == {f"a{(k - 1) * 500}"}
        idx.add(entries(k * 500, 500), f"r{k}")
        idx.add(entries(k * 500, 500), f"r{k}")  # and again: idempotent, unlike datasketch
        assert idx.count() == 500 * (k + 1)
        assert idx.candidates(entries(k * 500, 1)[0].band_keys[None])[0] == {f"a{k * 500}"}
        live = {m["name"] for m in idx._segments.manifest}
    finally:
        idx.close()
    # merged-away files go at the next add() or at close()
    assert {p.name.split(".")[0] for p in (tmp_path / SEGMENTS).glob("seg-*")} == live


def test_segments_merge_size_tiered_up_to_a_cap(tmp_path, monkeypatch):
    from pipelines import band_segments

    idx = LocalIndex.open(tmp_path, CFG)
    for i in range(16):
        idx.add(entries(i * 10, 10), f"r{i}")
    # 10 docs x (8 bands + 3 lookup keys) = 110 entries a commit; every 4 of one tier merge: 4 x 440
    assert [m["count"] for m in idx._segments.manifest] == [1760]
    assert idx._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL again after the merges
    for i in range(16, 19):
        idx.add(entries(i * 10, 10), f"r{i}")
    assert [m["count"] for m in idx._segments.manifest] == [1760, 110, 110, 110]
    monkeypatch.setattr(band_segments, "MAX_SEGMENT", 100)
    idx.add(entries(190, 10), "r19")
    assert [m["count"] for m in idx._segments.manifest] == [1760, 110, 110, 110, 110]
    assert idx.candidates(entries(190, 10)[5].band_keys[None])[0] == {"a195"}
    assert idx.candidates(entries(0, 10)[3].band_keys[None])[0] == {"a3"}
    idx.close()


def test_commits_of_mixed_sizes_keep_few_segments(tmp_path, monkeypatch):
    from pipelines import band_segments

    monkeypatch.setattr(band_segments, "MAX_SEGMENTS", 6)
    idx = LocalIndex.open(tmp_path, CFG)
    start = 0
    for i in range(30):  # 40 docs, then 1 doc, ...: never 4 of one tier in a row
        n = 40 if i % 2 == 0 else 1
        idx.add(entries(start, n), f"r{i}")
        start += n
        assert len(idx._segments.manifest) <= 6
    assert idx.count() == start
    assert idx.candidates(entries(start - 1, 1)[0].band_keys[None])[0] == {f"a{start - 1}"}
    idx.close()


def test_batch_query_equals_single_queries(tmp_path):
    """One batched candidates() call gives each row what a call with that row alone gives,
    across segments, revisions, shared buckets and 32-bit key collisions."""
    bands = CFG.bands
    idx = LocalIndex.open(tmp_path, CFG)
    es = entries(0, 300)
    rng = np.random.default_rng(7)
    for k in range(0, 300, 3):  # near copies: share some bands with an earlier doc
        src = es[int(rng.integers(0, 300))]
        mask = rng.random(bands) < 0.3
        es[k].band_keys[mask] = src.band_keys[mask]
    # a 32-bit collision: same low 32 bits, other high bits -> not a candidate
    es[1].band_keys[0] = (es[2].band_keys[0] & 0xFFFFFFFF) | (123 << 40)
    for start in range(0, 300, 60):  # several segments
        idx.add(es[start : start + 60], f"r{start}")
    idx.add(
        [Entry(IndexedDoc("a5", "https://x/5", "h5b", "a5", 1), es[6].band_keys.copy(), es[5].shingles)],
        "rev",
    )
    queries = np.stack([e.band_keys for e in entries(0, 300)] + [e.band_keys for e in es[:50]])
    batch = idx.candidates(queries)
    single = [idx.candidates(q[None])[0] for q in queries]
    assert batch == single
    assert "a1" not in idx.candidates(es[2].band_keys[None])[0] or np.any(
        es[1].band_keys[1:] == es[2].band_keys[1:]
    )
    assert "a5" not in batch[5] and "a5" in idx.candidates(es[6].band_keys[None])[0]
    assert sum(map(len, batch)) > 350
    idx.close()


# Pairs of texts with one CRC-32, i.e. one 32-bit lookup key (found by a search over
# `prefix<i>`; CRC is linear, so the same i, j collide whatever the prefix).
COLLIDING = [
    ("art-29685295", "art-32060020"),
    ("https://x/c29685295", "https://x/c32060020"),
    ("hash-29685295", "hash-32060020"),
]


def test_lookup_key_collision_returns_the_right_doc(tmp_path):
    """Real CRC-32 collisions on article_id, canonical_url and content_hash: lookups keep
    only the doc whose text is equal, and adding one article never replaces the other."""
    from pipelines.lsh_index import key32

    for pair in COLLIDING:
        assert key32(list(pair))[0] == key32(list(pair))[1], pair
    (a1, a2), (u1, u2), (h1, h2) = COLLIDING
    es = entries(0, 2)
    idx = LocalIndex.open(tmp_path, CFG)
    try:
        idx.add([Entry(IndexedDoc(a1, u1, h1, a1), es[0].band_keys, es[0].shingles)], "r1")
        assert idx.by_url([u2]) == {} and idx.by_hash([h2]) == {} and idx.docs([a2]) == {}
        assert idx.shingles([a2]) == {}
        idx.add([Entry(IndexedDoc(a2, u2, h2, a1), es[1].band_keys, es[1].shingles)], "r2")
        assert idx.count() == 2
        assert idx.by_url([u1, u2]) == {
            u1: IndexedDoc(a1, u1, h1, a1),
            u2: IndexedDoc(a2, u2, h2, a1),
        }
        assert {h: d.article_id for h, d in idx.by_hash([h1, h2]).items()} == {h1: a1, h2: a2}
        assert {a: d.canonical_url for a, d in idx.docs([a1, a2]).items()} == {a1: u1, a2: u2}
        got = idx.shingles([a1, a2])
        assert np.array_equal(got[a1], es[0].shingles) and np.array_equal(got[a2], es[1].shingles)
    finally:
        idx.close()


def test_every_lookup_key_colliding_still_exact(tmp_path, monkeypatch):
    """All texts on one lookup key (the worst case): every lookup reads all rows and the
    text comparison alone decides; revisions still replace exactly their own row."""
    from pipelines import lsh_index

    monkeypatch.setattr(lsh_index, "key32", lambda values: np.zeros(len(values), np.int64))
    es = entries(0, 50)
    idx = LocalIndex.open(tmp_path, CFG)
    try:
        idx.add(es[:30], "r1")
        idx.add(es[30:], "r2")
        assert {
            u: d.article_id for u, d in idx.by_url(["https://x/7", "https://x/44", "https://x/no"]).items()
        } == {
            "https://x/7": "a7",
            "https://x/44": "a44",
        }
        assert {h: d.article_id for h, d in idx.by_hash(["h3", "h40", "no"]).items()} == {
            "h3": "a3",
            "h40": "a40",
        }
        assert set(idx.docs(["a1", "a49", "no"])) == {"a1", "a49"}
        rev = Entry(IndexedDoc("a7", "https://x/7", "h7b", "a7", 1), es[7].band_keys, es[7].shingles[:5])
        idx.add([rev], "r3")
        assert idx.count() == 50
        assert idx.by_url(["https://x/7"])["https://x/7"] == IndexedDoc("a7", "https://x/7", "h7b", "a7", 1)
        assert idx.by_hash(["h7"]) == {} and idx.docs(["a8"])["a8"].content_hash == "h8"
        assert np.array_equal(idx.shingles(["a7"])["a7"], es[7].shingles[:5])
    finally:
        idx.close()


def test_shared_url_and_hash_pick_the_newest_and_the_first(tmp_path):
    """by_url: the doc indexed last for a url; by_hash: the doc indexed first for a hash
    (a revision is indexed anew, so it counts as last)."""
    es = entries(0, 4)

    def entry(aid: str, k: int, rev: int = 0) -> Entry:
        return Entry(IndexedDoc(aid, "https://x/same", "h-same", "c1", rev), es[k].band_keys, es[k].shingles)

    idx = LocalIndex.open(tmp_path, CFG)
    try:
        idx.add([entry("c1", 0), entry("c2", 1)], "r1")
        idx.add([entry("c3", 2)], "r2")
        assert idx.by_url(["https://x/same"])["https://x/same"].article_id == "c3"
        assert idx.by_hash(["h-same"])["h-same"].article_id == "c1"
        idx.add([entry("c1", 3, rev=1)], "r3")  # c1 re-indexed: now the newest, no longer the first
        assert idx.by_url(["https://x/same"])["https://x/same"] == IndexedDoc(
            "c1", "https://x/same", "h-same", "c1", 1
        )
        assert idx.by_hash(["h-same"])["h-same"].article_id == "c2"
        assert idx.count() == 3
    finally:
        idx.close()


def test_many_docs_and_empty_texts_round_trip(tmp_path):
    """More docs in one commit than one pwritev call takes (IOV_MAX buffers), some with
    no shingles: every sequence reads back whole, an empty text has no buckets but is
    found by url, hash and article_id."""
    rng = np.random.default_rng(5)
    es = entries(0, 2500)
    for k in range(0, 2500, 7):
        es[k].shingles = rng.integers(0, 2**32, int(rng.integers(0, 400)), dtype=np.uint32)
    es[10].shingles = np.empty(0, np.uint32)
    idx = LocalIndex.open(tmp_path, CFG)
    try:
        idx.add(es, "r1")
        idx.close()
        idx = LocalIndex.open(tmp_path, CFG)
        got = idx.shingles([e.doc.article_id for e in es])
        assert all(np.array_equal(got[e.doc.article_id], e.shingles) for e in es)
        assert idx.candidates(es[10].band_keys[None]) == [set()]
        assert idx.by_url(["https://x/10"])["https://x/10"].article_id == "a10"
        assert set(idx.by_hash(["h10"])) == {"h10"} and set(idx.docs(["a10"])) == {"a10"}
    finally:
        idx.close()


def test_index_of_another_format_is_a_clear_error(tmp_path):
    """An index written by an older version (other on-disk layout) is refused on open,
    naming the way out, never read as if it were empty."""
    import sqlite3

    idx = LocalIndex.open(tmp_path, CFG)
    idx.add(entries(0, 10), "r1")
    idx.close()
    conn = sqlite3.connect(tmp_path / FILENAME)
    conn.execute("UPDATE meta SET value = 'newsmill-lsh-sqlite-2' WHERE key = 'format'")
    conn.commit()
    conn.close()
    with pytest.raises(IndexCorrupt, match="newsmill-lsh-sqlite-2.*rebuild_index"):
        LocalIndex.open(tmp_path, CFG)


def test_failed_add_leaves_nothing_behind(tmp_path):
    """An add() failing after its files are written (a row SQLite cannot bind) rolls
    back: no doc, no segment, side files cut back to the committed ends; the next add
    and a reopen work."""
    import sqlite3

    idx = LocalIndex.open(tmp_path, CFG)
    try:
        idx.add(entries(0, 20), "r1")
        seg_dir = tmp_path / SEGMENTS
        files = {p.name: p.stat().st_size for p in seg_dir.iterdir()}
        bad = entries(20, 20)
        bad[-1].doc.revision = object()  # type: ignore[assignment]
        with pytest.raises((sqlite3.Error, IndexCorrupt)):
            idx.add(bad, "r2")
        assert {p.name: p.stat().st_size for p in seg_dir.iterdir()} == files
        assert idx.count() == 20 and idx.runs() == {"r1": 20}
        assert idx.candidates(bad[0].band_keys[None]) == [set()] and idx.docs(["a20"]) == {}
        idx.add(entries(20, 20), "r2")
        idx.close()
        idx = LocalIndex.open(tmp_path, CFG)
        assert idx.count() == 40 and idx.candidates(bad[0].band_keys[None]) == [{"a20"}]
        assert np.array_equal(idx.shingles(["a39"])["a39"], entries(20, 20)[19].shingles)
    finally:
        idx.close()


@pytest.mark.parametrize("fence_min", [1 << 40, 64])
def test_segment_lookup_equals_brute_force(tmp_path, monkeypatch, fence_min):
    """BandSegments.lookup against a dict of every stored (column, key): galloped columns,
    and (fence_min=64) fenced ones, through writes and a merge; duplicate keys, and the
    first and last fence buckets (keys 0 and 2^32 - 1), included."""
    from pipelines import band_segments
    from pipelines.band_segments import BandSegments

    monkeypatch.setattr(band_segments, "FENCE_MIN", fence_min)
    monkeypatch.setattr(band_segments, "FENCE_BUCKET", 4)
    rng = np.random.default_rng(11)
    cols, segs, stored = 5, BandSegments(tmp_path, [], 5), {}
    for start in range(0, 600, 200):
        docs = np.arange(start, start + 200)
        keys = rng.integers(0, 2**32, (200, cols), dtype=np.int64)
        keys[:20] = keys[20:40]  # duplicate keys: one needle, several docs
        keys[40:45], keys[45:50] = 0, 2**32 - 1
        segs.replace(segs.manifest + [segs.write([(keys[:, c], docs) for c in range(cols)])])
        for c in range(cols):
            for k, d in zip(keys[:, c].tolist(), docs.tolist()):
                stored.setdefault((c, k), []).append(d)
    assert any(s.bits.any() for s in segs._arrays) == (fence_min == 64)
    probe = np.concatenate([rng.integers(0, 2**32, (300, cols), dtype=np.int64), keys[::3]])

    def brute(first: int, k: int) -> list[tuple[int, int]]:
        return sorted(
            (r, d)
            for r in range(len(probe))
            for j in range(k)
            for d in stored.get((first + j, int(probe[r, first + j])), [])
        )

    def found(first: int, k: int) -> list[tuple[int, int]]:
        rows, docs = segs.lookup(probe[:, first : first + k], first=first)
        return sorted(zip(rows.tolist(), docs.tolist()))

    for first, k in [(0, cols), (3, 1), (4, 1)]:
        assert found(first, k) == brute(first, k) and len(brute(first, k)) > 50
    merged = segs.merge(segs.manifest)
    segs.replace([merged])
    assert len(segs.manifest) == 1 and found(0, cols) == brute(0, cols)
