"""The Redis backend against a real redis-server started here on a free port."""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time

import numpy as np
import pytest
import redis

from pipelines.dedup import Deduper
from pipelines.lsh_index import IndexParamsMismatch, IndexUnavailable
from pipelines.lsh_redis import RedisIndex
from pipelines.minhash import MinhashConfig
from pipelines.settings import Settings
from tests.test_dedup import BASES, _write_dataset, art
from tests.test_lsh_index import CFG, entries

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(
        shutil.which("redis-server") is None,
        reason="redis-server not installed (scripts/redis.sh or `apt-get install redis-server`)",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"redis-server did not start on port {port}")


@pytest.fixture
def server():
    port = free_port()
    proc = start_redis(port)
    yield port, proc
    proc.kill()
    proc.wait()


def test_same_interface_persists_on_the_server(server):
    url = f"redis://127.0.0.1:{server[0]}/0"
    es = entries(0, 50)
    idx = RedisIndex.open(url, CFG)
    idx.add(es, "r1")
    idx.add(es, "r1")  # idempotent
    idx.close()
    idx = RedisIndex.open(url, CFG)
    assert idx.count() == 50 and idx.runs() == {"r1": 100}  # counted twice: the run committed twice
    assert idx.candidates(np.stack([es[3].band_keys]))[0] == {"a3"}
    assert np.array_equal(idx.shingles(["a3"])["a3"], es[3].shingles)
    assert idx.by_hash(["h4"])["h4"].article_id == "a4"
    idx.close()
    with pytest.raises(IndexParamsMismatch):
        RedisIndex.open(url, MinhashConfig(ngram=4, bands=8, rows=2))


def test_deduper_on_redis_then_server_killed_then_clean_resume(server, tmp_path):
    port, proc = server
    settings = Settings(data_dir=tmp_path, index_backend="redis", redis_url=f"redis://127.0.0.1:{port}/0")
    glob = str(tmp_path / "articles" / "**" / "*.parquet")
    with Deduper.open(tmp_path / "state", settings) as dd:
        res = dd.assign(
            [art("https://a.example/1", BASES[5], 1), art("https://b.example/1", BASES[5] + "\nBy Trend", 2)],
            "20250301T000000Z",
        )
        assert [r.is_duplicate for r in res.rows] == [False, True]
        _write_dataset(tmp_path / "articles" / "d=1" / "r1.parquet", res.rows)
        dd.commit()
        proc.kill()  # Redis dies mid-run: a clear failure, not a silent empty index
        proc.wait()
        with pytest.raises(IndexUnavailable, match="unreachable"):
            dd.assign([art("https://c.example/1", BASES[5], 3)], "20250302T000000Z")
    start_redis(port)  # restarted without persistence: empty; reconcile re-indexes the dataset
    try:
        with Deduper.open(tmp_path / "state", settings) as dd:
            assert dd.reconcile(glob) == 2
            res = dd.assign([art("https://c.example/1", BASES[5], 3)], "20250302T000000Z")
            assert (
                res.rows[0].is_duplicate
                and res.rows[0].duplicate_of == hashlib.sha1(b"https://a.example/1").hexdigest()[:16]
            )
    finally:
        redis.Redis(port=port).shutdown(nosave=True)


def test_one_writer_at_a_time_and_a_dead_writers_lock_expires(server):
    from pipelines.lsh_index import IndexLocked

    url = f"redis://127.0.0.1:{server[0]}/0"
    idx = RedisIndex.open(url, CFG, lock_ttl_ms=600)
    time.sleep(0.9)  # past the TTL: the refresher keeps it
    with pytest.raises(IndexLocked, match="another writer"):
        RedisIndex.open(url, CFG)
    idx.add(entries(0, 5), "r1")
    idx.close()
    other = RedisIndex.open(url, CFG)  # released on close
    other._stop.set()  # a writer that dies (kill -9): nobody refreshes its lock
    other._refresher.join()
    with pytest.raises(IndexLocked):
        RedisIndex.open(url, CFG)
    redis.Redis(port=server[0]).pexpire("newsmill:dedup:lock", 50)
    time.sleep(0.2)
    third = RedisIndex.open(url, CFG)
    with pytest.raises(IndexLocked, match="lost the writer lock"):
        other.add(entries(5, 5), "r2")  # the stalled writer cannot interleave with the new one
    third.add(entries(5, 5), "r2")
    assert third.count() == 10 and third.runs() == {"r1": 5, "r2": 5}
    third.close()


def test_batch_query_equals_single_queries(server):
    url = f"redis://127.0.0.1:{server[0]}/0"
    idx = RedisIndex.open(url, CFG)
    es = entries(0, 200)
    rng = np.random.default_rng(3)
    for k in range(0, 200, 3):
        src = es[int(rng.integers(0, 200))]
        mask = rng.random(CFG.bands) < 0.3
        es[k].band_keys[mask] = src.band_keys[mask]
    for start in range(0, 200, 50):
        idx.add(es[start : start + 50], f"r{start}")
    queries = np.stack([e.band_keys for e in entries(0, 200)] + [e.band_keys for e in es[:40]])
    batch = idx.candidates(queries)
    assert batch == [idx.candidates(q[None])[0] for q in queries]
    assert sum(map(len, batch)) > 240
    idx.close()
