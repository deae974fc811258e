"""Backfill: WARC files of the sample news web through `backfill_flow` and the real
`newsmill backfill` command; Parquet read back with DuckDB.

Flows run under one session-scoped `prefect_test_harness`; the kill + resume test
and the crawl test drive the command in subprocesses (their own ephemeral Prefect).
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from prefect.testing.utilities import prefect_test_harness

from bench.backfill import article_pages, build_warcs, write_warc
from flows import process
from flows.backfill import backfill_flow, run_backfill, start_backfill
from flows.cli import main
from flows.newsweb import build_web, serve_web
from pipelines.urls import normalize_url

pytestmark = pytest.mark.timeout(300)

SITES, PER_SITE, FILES = 3, 12, 3  # 36 article pages in 3 WARC files


@pytest.fixture(scope="session", autouse=True)
def prefect_harness():
    with prefect_test_harness():
        yield


@pytest.fixture(scope="module")
def warcs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("warcs")
    build_warcs(root, FILES, SITES, PER_SITE)
    return root


@pytest.fixture(scope="module")
def truth() -> list[tuple[str, datetime]]:
    """(canonical URL, published) of every article page in the WARC files."""
    return [(normalize_url(url), datetime.fromisoformat(pub)) for url, _, _, pub in article_pages(SITES, PER_SITE)]


def rows(data: Path, cols: str = "canonical_url, source, published_at, is_duplicate, cluster_id, article_id"):
    return duckdb.sql(f"select {cols} from read_parquet('{data}/articles/**/*.parquet')").fetchall()


def corrupt_copy(src: Path, dst: Path) -> Path:
    """A WARC file whose second half is garbage: gzip members that do not inflate."""
    raw = src.read_bytes()
    half = len(raw) // 2
    dst.write_bytes(raw[:half] + bytes(b ^ 0x5A for b in raw[half:]))
    return dst


def newsmill_cmd() -> list[str]:
    script = Path(sys.executable).with_name("newsmill")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flows.cli"]


def test_every_article_landed_once_then_files_skipped(warcs, truth, tmp_path, monkeypatch):
    data = tmp_path / "data"
    report = backfill_flow([str(warcs)], str(data))
    assert report["status"] == "ok", report["error"]
    landed = [r[0] for r in rows(data)]
    assert len(landed) == len(set(landed)), "an article landed twice"
    expected = {u for u, _ in truth}
    assert set(landed) <= expected
    assert len(landed) >= 0.9 * len(expected), "most article pages become rows"
    assert len(report["files"]["warc_processed"]) == FILES
    monkeypatch.chdir(warcs.parent)  # the same files named another way (relative) are the same files
    again = backfill_flow([warcs.name], str(data))
    assert again["status"] == "ok"
    assert len(again["files"]["warc_skipped_done"]) == FILES and again["files"]["warc_processed"] == []
    assert len(rows(data)) == len(landed), "a re-run lands nothing"


def _texts(data: Path) -> list[tuple]:
    return sorted(duckdb.sql(f"select canonical_url, text, is_duplicate from read_parquet('{data}/articles/**/*.parquet')")
                  .fetchall())


def test_head_start_is_taken_over_by_the_flow_and_lands_the_same_rows(warcs, tmp_path):
    """`newsmill backfill` starts reading and the first batch's pass 1 while Prefect's API
    boots; the flow takes that work over instead of doing it again, with the same result."""
    ahead, plain = tmp_path / "ahead", tmp_path / "plain"
    start_backfill([str(warcs)], str(ahead), batch_pages=10)
    head = process._HEAD[0]
    assert head.job is not None and sum(len(c.pages) for c in head.first) >= 10
    report = backfill_flow([str(warcs)], str(ahead), batch_pages=10)
    assert process._HEAD == [], "taken over"
    assert report["status"] == "ok", report["error"]
    assert report["totals"]["pages_started_before_flow"] >= 10
    assert not head.job.proc.is_alive()
    backfill_flow([str(warcs)], str(plain), batch_pages=10)
    got, want = _texts(ahead), _texts(plain)
    assert len(got) >= 0.9 * SITES * PER_SITE
    assert got == want


def test_head_start_for_other_work_is_stopped_not_used(warcs, tmp_path):
    files = sorted(str(p) for p in warcs.glob("*.warc.gz"))
    data = tmp_path / "data"
    start_backfill(files[:1], str(data), batch_pages=10)  # the command and the flow disagree on the files
    head = process._HEAD[0]
    report = backfill_flow(files[1:], str(data), batch_pages=10)
    assert process._HEAD == []
    assert "pages_started_before_flow" not in report["totals"]
    assert head.job is None or not head.job.proc.is_alive(), "its pass 1 was stopped"
    assert not [c.name for c in multiprocessing.active_children() if c.name.startswith("newsmill-")], \
        "its readers were stopped"
    assert sorted(report["files"]["warc_processed"]) == files[1:]
    assert {r[0] for r in rows(data)} and report["status"] == "ok"


def test_since_until_window_and_source_label(warcs, truth, tmp_path):
    dates = sorted(p.date() for _, p in truth)
    since, until = dates[len(dates) // 4], dates[3 * len(dates) // 4]
    data = tmp_path / "data"
    report = backfill_flow([str(warcs)], str(data), since, until, "archive-2026")
    got = rows(data)
    assert got, "some articles fall in the window"
    assert all(since <= r[2].date() <= until for r in got)
    assert {r[1] for r in got} == {"archive-2026"}
    assert report["totals"]["dropped"].get("extract/outside_date_window", 0) > 0


def test_corrupt_file_is_recorded_and_the_others_land(warcs, tmp_path):
    bad = corrupt_copy(min(warcs.glob("*.warc.gz")), tmp_path / "BAD-00000.warc.gz")
    good = sorted(str(p) for p in warcs.glob("*.warc.gz"))[1:]
    data = tmp_path / "data"
    report = backfill_flow([str(bad), *good], str(data))
    assert report["status"] == "partial"
    assert list(report["files"]["warc_failed"]) == [str(bad)]
    assert report["files"]["warc_failed"][str(bad)], "the reason is recorded"
    assert sorted(report["files"]["warc_processed"]) == good
    assert report["totals"]["rows_landed"] > 0
    assert str(bad) in report["error"]
    saved = json.loads(Path(report["report_path"]).read_text())
    assert saved["files"]["warc_failed"] == report["files"]["warc_failed"]


def test_exit_status_zero_when_something_landed_one_when_nothing_could(warcs, tmp_path, capsys):
    bad = corrupt_copy(min(warcs.glob("*.warc.gz")), tmp_path / "BAD-00000.warc.gz")
    garbage = [tmp_path / f"NOT-0000{k}.warc.gz" for k in (1, 2)]
    for g in garbage:
        g.write_bytes(b"\x00\x01garbage" + bytes(range(256)) * 40)
    good = sorted(warcs.glob("*.warc.gz"))[1]
    assert main(["backfill", str(bad), str(good), "--data-dir", str(tmp_path / "a")]) == 0
    assert main(["backfill", *map(str, garbage), "--data-dir", str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert "2 WARC file(s) could not be read" in out and "0 processed" in out
    assert main(["backfill", str(tmp_path / "missing.warc.gz"), "--data-dir", str(tmp_path / "c")]) == 2


def test_ccnews_style_gzip_encoded_payload(tmp_path):
    """CC-NEWS keeps the server's Content-Encoding: the payload is inflated before extraction."""
    url, ctype, body, _ = next(article_pages(1, 1))
    path = tmp_path / "CC-NEWS-20261101000000-00000.warc.gz"
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        zipped = gzip.compress(body)
        w.write_record(w.create_warc_record(url, "response", payload=BytesIO(zipped), http_headers=StatusAndHeaders(
            "200 OK", [("Content-Type", ctype), ("Content-Encoding", "gzip"), ("Content-Length", str(len(zipped)))],
            protocol="HTTP/1.1")))
    report = backfill_flow([str(path)], str(tmp_path / "data"))
    assert report["totals"]["rows_landed"] == 1


def test_dask_cluster_reads_and_parses(warcs, tmp_path):
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("prefect_dask")
    started = time.monotonic()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        report = run_backfill([str(warcs)], str(tmp_path / "dask"), dask_address=cluster.scheduler_address,
                              batch_pages=PER_SITE)
    backfill_flow([str(warcs)], str(tmp_path / "local"), batch_pages=PER_SITE)
    assert report["status"] == "ok" and len(report["files"]["warc_processed"]) == FILES
    texts = dict(rows(tmp_path / "dask", "url, text"))
    assert texts == dict(rows(tmp_path / "local", "url, text")), "same rows as the local pool"
    assert time.monotonic() - started < 120


def test_s3_urls(warcs, tmp_path):
    """s3:// inputs through fsspec/s3fs against a moto server on loopback."""
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        import boto3

        s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
        s3.create_bucket(Bucket="ccnews")
        for p in sorted(warcs.glob("*.warc.gz")):
            s3.upload_file(str(p), "ccnews", f"2026/11/{p.name}")
        import fsspec

        fsspec.config.conf.pop("s3", None)
        report = backfill_flow(["s3://ccnews/2026/11/", "s3://ccnews/2026/12/MISSING.warc.gz"], str(tmp_path / "d"))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()
    assert len(report["files"]["warc_processed"]) == FILES
    assert list(report["files"]["warc_failed"]) == ["s3://ccnews/2026/12/MISSING.warc.gz"]
    assert report["status"] == "partial" and report["totals"]["rows_landed"] > 0


def test_killed_backfill_resumes_and_lands_every_article_once(tmp_path, prefect_api):
    n_files = 6
    src = tmp_path / "warcs"
    build_warcs(src, n_files, 3, 100)  # 300 pages, 50 a file, a batch a file
    expected = {normalize_url(u) for u, *_ in article_pages(3, 100)}
    data = tmp_path / "data"
    cmd = [*newsmill_cmd(), "backfill", str(src), "--data-dir", str(data), "--batch-pages", "50"]
    env = {**os.environ, "NEWSMILL_WORKERS": "2", "PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_API_URL": prefect_api}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    done = data / "state" / "done"
    deadline = time.monotonic() + 200
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if done.is_dir() and any(done.glob("*.json")):
                break
            time.sleep(0.05)
    finally:
        killed_while_running = proc.poll() is None
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the run and all its processes, as a job kill would
        except ProcessLookupError:
            pass
        proc.wait(30)
    assert killed_while_running, "the backfill finished before it could be killed"
    finished = len(list(done.glob("*.json")))
    assert 1 <= finished < n_files
    resumed = subprocess.run(cmd, env=env, check=False, capture_output=True, text=True, timeout=250)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-3000:]
    report = json.loads(max((data / "runs").glob("*.json")).read_text())
    assert len(report["files"]["warc_skipped_done"]) >= finished
    assert len(report["files"]["warc_skipped_done"]) + len(report["files"]["warc_processed"]) == n_files
    landed = [r[0] for r in rows(data)]
    assert len(landed) == len(set(landed)), "a row landed twice"
    assert set(landed) <= expected and len(landed) >= 0.9 * len(expected)


def test_crawl_and_backfill_share_one_index(tmp_path, prefect_api):
    """Stories crawled from the live web and met again in a WARC under other hosts: one cluster each."""
    web = build_web(n_sites=2, articles_per_site=10, seed=7)
    data = tmp_path / "data"
    with serve_web(web) as server:
        sources = tmp_path / "sources.yaml"
        sources.write_text(server.sources_yaml(patterns=True))
        crawl = subprocess.run([*newsmill_cmd(), "crawl", "--sources", str(sources), "--data-dir", str(data)],
                               env={**os.environ, "PREFECT_API_URL": prefect_api},
                               check=False, capture_output=True, text=True, timeout=250)
    assert crawl.returncode == 0, crawl.stdout[-2000:] + crawl.stderr[-3000:]
    crawled = {r[0]: r for r in rows(data)}
    mirror = tmp_path / "mirror.warc.gz"
    write_warc(mirror, article_pages(2, 10, base="http://{site}-mirror.example"))
    report = backfill_flow([str(mirror)], str(data))
    assert report["status"] == "ok"
    back = [r for r in rows(data) if "-mirror.example" in r[0]]
    assert len(back) >= 0.9 * len(crawled)
    crawled_clusters = {r[4] for r in crawled.values()}
    in_crawl_clusters = [r for r in back if r[3] and r[4] in crawled_clusters]
    assert len(in_crawl_clusters) == len(back), [r[0] for r in back if r not in in_crawl_clusters][:5]
    assert _seen_count(data) >= len(crawled) + len(back), "backfilled URLs are in the crawl's seen-URL store"


def _seen_count(data: Path) -> int:
    import sqlite3

    with sqlite3.connect(data / "state" / "seen.sqlite") as db:
        return db.execute("select count(*) from seen").fetchone()[0]


def test_refed_file_lands_nothing_again(warcs, tmp_path):
    """Markers lost (or a kill after landing, before marking): the file's captures are in the
    seen-URL store with this WARC path, so its pages are not extracted and landed again."""
    data = tmp_path / "data"
    first = backfill_flow([str(warcs)], str(data))
    for marker in (data / "state" / "done").glob("*.json"):
        marker.unlink()
    again = backfill_flow([str(warcs)], str(data))
    assert again["totals"]["rows_landed"] == 0
    assert again["totals"]["dropped"]["read/landed_before"] == first["totals"]["articles_extracted"]
    assert len(again["files"]["warc_processed"]) == FILES


def test_dates_of_truth_are_spread(truth):
    """The window test needs articles on several days."""
    assert len({p.date() for _, p in truth}) >= 4
    assert all(isinstance(p, datetime) for _, p in truth)
    assert date(2000, 1, 1) < min(p.date() for _, p in truth)


def test_damaged_index_is_a_one_line_error_and_reindex_repairs_it(warcs, tmp_path, capsys):
    """RELIABILITY 23: never a silent empty index; the way out is one command."""
    data = tmp_path / "d"
    first, second = sorted(warcs.glob("*.warc.gz"))[:2]
    assert main(["backfill", str(first), "--data-dir", str(data)]) == 0
    landed = len(rows(data))
    for stale in (data / "state").glob("dedup_index.sqlite*"):
        stale.unlink()
    (data / "state" / "dedup_index.sqlite").write_bytes(b"not an index at all")
    capsys.readouterr()
    assert main(["backfill", str(second), "--data-dir", str(data)]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("newsmill backfill: error: dedup index:") and "newsmill reindex" in last
    assert len(rows(data)) == landed, "nothing landed on a damaged index"
    assert main(["reindex", "--data-dir", str(data)]) == 0
    assert f"{landed} rows indexed" in capsys.readouterr().out
    assert main(["backfill", str(first), str(second), "--data-dir", str(data)]) == 0
    urls = [r[0] for r in rows(data)]
    assert len(urls) == len(set(urls)) and len(urls) > landed
