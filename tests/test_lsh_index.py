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
        seg = min((tmp_path / SEGMENTS).glob("*.keys.npy"))
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
        runs, n = idx.runs(), idx.count()
        assert n == 500 * len(runs) and len(runs) >= 3  # whole runs only
        # every committed doc is findable; re-inserting the next run (which may have been half-written) works
        k = len(runs)
        assert idx.candidates(entries((k - 1) * 500, 1)[0].band_keys[None])[0] == {f"a{(k - 1) * 500}"}
        idx.add(entries(k * 500, 500), f"r{k}")
        idx.add(entries(k * 500, 500), f"r{k}")  # and again: idempotent, unlike datasketch
        assert idx.count() == 500 * (k + 1)
        assert idx.candidates(entries(k * 500, 1)[0].band_keys[None])[0] == {f"a{k * 500}"}
        # no segment file of the killed commit is left behind
        live = {m["name"] for m in idx._segments.manifest}
        assert {p.name.split(".")[0] for p in (tmp_path / SEGMENTS).glob("*.npy")} == live
    finally:
        idx.close()


def test_segments_merge_size_tiered_up_to_a_cap(tmp_path, monkeypatch):
    from pipelines import band_segments

    idx = LocalIndex.open(tmp_path, CFG)
    for i in range(16):
        idx.add(entries(i * 10, 10), f"r{i}")
    # 10 docs x 8 bands = 80 entries a commit; every 4 of one tier merge: 4 x 320
    assert [m["count"] for m in idx._segments.manifest] == [1280]
    for i in range(16, 19):
        idx.add(entries(i * 10, 10), f"r{i}")
    assert [m["count"] for m in idx._segments.manifest] == [1280, 80, 80, 80]
    monkeypatch.setattr(band_segments, "MAX_SEGMENT", 100)
    idx.add(entries(190, 10), "r19")
    assert [m["count"] for m in idx._segments.manifest] == [1280, 80, 80, 80, 80]
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
