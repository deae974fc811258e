"""End to end through the real `newsmill` command against the sample news web on loopback:
crawl twice, read the Parquet back with DuckDB, check it against the web's truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.newsweb import build_web, serve_web
from pipelines.urls import normalize_url

pytestmark = pytest.mark.timeout(600)


def newsmill_cmd() -> list[str]:
    script = Path(sys.executable).with_name("newsmill")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flows.cli"]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """One web, two crawl runs into one data dir; yields what the tests read."""
    tmp = tmp_path_factory.mktemp("e2e")
    web = build_web(n_sites=3, articles_per_site=20, seed=7)
    server = serve_web(web, log_path=tmp / "requests.jsonl")
    sources = tmp / "sources.yaml"
    sources.write_text(server.sources_yaml(patterns=True))
    data = tmp / "data"
    runs = []
    try:
        for _ in range(2):
            # No PREFECT_API_URL: this test keeps the "no server to start" path honest.
            env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
            proc = subprocess.run([*newsmill_cmd(), "crawl", "--sources", str(sources), "--data-dir", str(data)],
                                  capture_output=True, text=True, timeout=280, env=env)
            assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
            runs.append(proc)
        requests = server.requests()
        bases = {s.name: server.base_url(s.name) for s in web.sites}
    finally:
        server.stop()
    con = duckdb.connect()
    con.execute(f"create view a as select * from read_parquet('{data}/articles/**/*.parquet')")
    rows = con.execute("select url, canonical_url, source, text, cluster_id, is_duplicate, duplicate_of, run_id,"
                       " article_id from a").fetchall()
    keys = ("url", "canonical_url", "source", "text", "cluster_id", "is_duplicate", "duplicate_of", "run_id",
            "article_id")
    yield {
        "web": web, "bases": bases, "data": data, "runs": runs, "requests": requests,
        "rows": [dict(zip(keys, r)) for r in rows],
    }


def _truth_url(bases, site, article) -> str:
    return normalize_url(bases[site.name] + (article.canonical_path or article.path))


def test_every_article_landed_once_and_nothing_else(crawled):
    web, bases, rows = crawled["web"], crawled["bases"], crawled["rows"]
    expected = {_truth_url(bases, s, a) for s in web.sites for a in s.articles}
    landed = [r["canonical_url"] for r in rows]
    assert len(landed) == len(set(landed)), "an article URL landed twice"
    assert set(landed) - expected == set(), "non-article pages were stored"
    assert expected - set(landed) == set(), "articles missing"


def test_text_has_no_template_blocks(crawled):
    web, rows = crawled["web"], crawled["rows"]
    by_source = {s.name: [b for b in s.template_blocks if len(b) >= 25] for s in web.sites}
    leaks = [(r["url"], b[:60]) for r in rows for b in by_source[r["source"]] if b in r["text"]]
    assert leaks == []


def test_syndicated_copies_share_one_cluster_with_one_kept_copy(crawled):
    web, bases, rows = crawled["web"], crawled["bases"], crawled["rows"]
    by_url = {r["canonical_url"]: r for r in rows}
    groups = web.syndicated_groups()
    assert groups, "the sample web has syndicated stories"
    for group in groups:
        members = [by_url[normalize_url(bases[m["site"]] + web.site(m["site"]).article(m["path"]).path)] for m in group]
        assert len({m["cluster_id"] for m in members}) == 1, group
        kept = [m for m in members if not m["is_duplicate"]]
        assert len(kept) == 1 and kept[0]["article_id"] == members[0]["cluster_id"]
        assert all(m["duplicate_of"] == kept[0]["article_id"] for m in members if m["is_duplicate"])


def test_teaser_sharing_short_articles_are_not_merged(crawled):
    web, bases, rows = crawled["web"], crawled["bases"], crawled["rows"]
    by_url = {r["canonical_url"]: r for r in rows}
    pairs = [(s, a, b) for s in web.sites for a, b in s.teaser_pairs]
    assert pairs, "the sample web has teaser-sharing pairs"
    for site, a, b in pairs:
        ra = by_url[normalize_url(bases[site.name] + a)]
        rb = by_url[normalize_url(bases[site.name] + b)]
        assert ra["cluster_id"] != rb["cluster_id"], (a, b)
        assert not ra["is_duplicate"] and not rb["is_duplicate"]


def test_no_disallowed_path_requested(crawled):
    web, requests = crawled["web"], crawled["requests"]
    assert requests, "the server logged the crawl"
    for site in web.sites:
        hits = [r["path"] for r in requests if r["site"] == site.name
                for prefix in site.disallowed_paths if r["path"].startswith(prefix)]
        assert hits == [], site.name


def test_second_run_adds_no_row_and_reports(crawled):
    rows, data = crawled["rows"], crawled["data"]
    run_ids = sorted({r["run_id"] for r in rows})
    assert len(run_ids) == 1, "the second run over an unchanged site landed rows"
    reports = sorted((data / "runs").glob("*.json"))
    assert len(reports) == 2
    second = json.loads(reports[-1].read_text())
    assert second["status"] == "ok" and second["totals"]["rows_landed"] == 0
    first = json.loads(reports[0].read_text())
    assert first["totals"]["rows_landed"] == len(rows)
    assert set(first["seconds"]) >= {"crawl", "extract", "dedup", "write"}
    assert "rows landed" in crawled["runs"][0].stdout
