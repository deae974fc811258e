"""Kills, a busy data directory and a full disk, through the real `newsmill` command
(RELIABILITY.md cases 20, 22, 24 and 26)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows.newsweb import build_web, serve_web
from pipelines.lock import RunLock
from pipelines.urls import normalize_url

pytestmark = pytest.mark.timeout(600)
CMD = [sys.executable, "-m", "flows.cli"]


def landed(data: Path) -> list[tuple]:
    files = sorted(str(p) for p in (data / "articles").rglob("*.parquet"))
    if not files:
        return []
    return duckdb.connect().execute(
        "select canonical_url, cluster_id, is_duplicate from read_parquet(?)", [files]
    ).fetchall()


def kill_group(proc: subprocess.Popen) -> None:
    """kill -9 of the command and everything it started (crawl, Prefect's server)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


@pytest.mark.parametrize("seed", [1, 2])
def test_killed_crawls_then_a_full_run_land_every_article_once(tmp_path, seed, prefect_api):
    """Two runs killed at seeded points (mid-crawl by request count, or after the first
    Parquet file), then a run to the end: every article once, clusters intact, nothing
    but articles. Seed 2 crawls with no article_pattern (the page classifier decides)."""
    rng = random.Random(seed)
    web = build_web(n_sites=2, articles_per_site=15, seed=5)
    data = tmp_path / "data"
    with serve_web(web) as server:
        sources = tmp_path / "sources.yaml"
        sources.write_text(server.sources_yaml(patterns=seed == 1))
        truth = {normalize_url(server.base_url(s.name) + (a.canonical_path or a.path))
                 for s in web.sites for a in s.articles}
        kills = []
        for attempt in range(2):
            seen_before = len(server.requests())
            after_requests = rng.randint(5, 80)
            proc = subprocess.Popen([*CMD, "crawl", "--sources", str(sources), "--data-dir", str(data)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + 120
            parquet_before = len(list((data / "articles").rglob("*.parquet"))) if data.exists() else 0
            while proc.poll() is None and time.monotonic() < deadline:
                crawled = len(server.requests()) - seen_before
                parquet_now = len(list((data / "articles").rglob("*.parquet"))) if data.exists() else 0
                if (attempt == 0 and crawled >= after_requests) or (attempt == 1 and parquet_now > parquet_before):
                    break
                time.sleep(0.05)
            kills.append((attempt, proc.poll() is None, len(server.requests()) - seen_before))
            kill_group(proc)
        final = subprocess.run([*CMD, "crawl", "--sources", str(sources), "--data-dir", str(data)],
                               capture_output=True, text=True, timeout=240)
        assert final.returncode == 0, final.stderr[-3000:]
    rows = landed(data)
    urls = [r[0] for r in rows]
    assert len(urls) == len(set(urls)), f"an article landed twice after kills {kills}"
    assert set(urls) == truth, f"articles lost after kills {kills}"
    clusters = {r[1] for r in rows}
    kept = {r[1] for r in rows if not r[2]}
    assert clusters == kept, "every cluster has its kept copy"
    assert not list(data.rglob(".tmp-*")), "temp files of killed runs are cleaned"


def test_second_run_on_a_busy_data_dir_says_so(tmp_path, prefect_api):
    sources = tmp_path / "s.yaml"
    sources.write_text("sources:\n  - name: a\n    feeds: [http://127.0.1.1:9/rss.xml]\n")
    data = tmp_path / "data"
    with RunLock(data / "state").acquire("holder"):
        proc = subprocess.run([*CMD, "crawl", "--sources", str(sources), "--data-dir", str(data)],
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].endswith("another run holds the data directory (run holder, pid "
                                                         f"{os.getpid()})")


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB tmpfs: a real ENOSPC, not a simulated one."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)]).returncode != 0:
        pytest.skip("this machine does not allow a tmpfs mount")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_is_a_clear_error_and_the_dataset_stays_intact(tmp_path, small_disk, prefect_api):
    data = small_disk / "data"
    first = build_web(n_sites=1, articles_per_site=6, seed=2)
    with serve_web(first) as server:
        sources = tmp_path / "one.yaml"
        sources.write_text(server.sources_yaml(patterns=True))
        proc = subprocess.run([*CMD, "crawl", "--sources", str(sources), "--data-dir", str(data)],
                              capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr[-2000:]
    before = sorted(landed(data))
    assert len(before) == 6
    # Fill the disk, leaving a few KiB: the next run's files cannot fit.
    with open(small_disk / "filler", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
        except OSError:
            pass
    (small_disk / "filler").unlink()
    with open(small_disk / "filler", "wb") as fh:
        fh.write(b"\0" * (shutil.disk_usage(small_disk).free - 16 * 1024))
    second = build_web(n_sites=2, articles_per_site=20, seed=9)
    with serve_web(second) as server:
        sources = tmp_path / "two.yaml"
        sources.write_text(server.sources_yaml(patterns=True))
        proc = subprocess.run([*CMD, "crawl", "--sources", str(sources), "--data-dir", str(data)],
                              capture_output=True, text=True, timeout=240)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    # Prefect logs the failed flow's traceback; the command's own last word is one line.
    assert last.startswith("newsmill crawl: error:") and "No space left on device" in last, proc.stderr[-2000:]
    assert sorted(landed(data)) == before, "the dataset already landed is intact and readable"


def test_crawl_process_dies_with_newsmill(tmp_path, prefect_api):
    """kill -9 of `newsmill` alone (not its group): the crawl child must not go on
    writing into the data directory without the lock. Also checks `--set` reaches Scrapy."""
    web = build_web(n_sites=1, articles_per_site=15, seed=4)
    with serve_web(web) as server:
        sources = tmp_path / "slow.yaml"
        sources.write_text(server.sources_yaml(patterns=True))
        log = tmp_path / "newsmill.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([*CMD, "crawl", "--sources", str(sources), "--data-dir", str(tmp_path / "d"),
                                     "--set", "DOWNLOAD_DELAY=1", "--set", "AUTOTHROTTLE_ENABLED=False"],
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 90
            while len(server.requests()) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(server.requests()) >= 3, "the crawl did not start: " + log.read_text()[-3000:]
            child = subprocess.run(["pgrep", "-f", f"spiders.run --sources {sources}"],
                                   capture_output=True, text=True).stdout.split()
            assert child, "the crawl runs in its own process"
            gaps = [b["t"] - a["t"] for a, b in zip(server.requests(), server.requests()[1:])]
            assert max(gaps) >= 0.8, "DOWNLOAD_DELAY=1 reached the crawl"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in child):
                time.sleep(0.1)
            assert not any(Path(f"/proc/{p}").exists() for p in child), "the crawl outlived newsmill"
        finally:
            kill_group(proc)
