"""Crawl the sample news web with and without `article_pattern`, and score it per site.

    .venv/bin/python bench/crawl.py                 # bundled web (3 sites) and a larger one (6 sites)
    .venv/bin/python bench/crawl.py --sites 6 --articles 60 --only-large

For each configuration it runs the real `newsmill crawl` into a fresh data dir and
prints, per site: stories in the site's truth, stories landed, non-article rows,
requests made, requests per landed story, and requests spent in archive calendars
and pagination (the traps). Targets (issue 9, run without patterns): coverage
1.00, non-article rows 0, <= 6 requests per landed story, <= 30 trap requests.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.newsweb import build_web, serve_web  # noqa: E402
from pipelines.urls import normalize_url  # noqa: E402


def is_trap(req: dict) -> bool:
    return "/archive" in req["path"] or "page=" in (req.get("query") or "")


def crawl_once(web, patterns: bool) -> tuple[list[dict], float]:
    with tempfile.TemporaryDirectory(prefix="newsmill-bench-") as tmp:
        server = serve_web(web)
        try:
            sources = Path(tmp) / "sources.yaml"
            sources.write_text(server.sources_yaml(patterns=patterns))
            started = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "flows.cli", "crawl", "--sources", str(sources),
                                   "--data-dir", f"{tmp}/data"], capture_output=True, text=True, cwd=ROOT)
            seconds = time.monotonic() - started
            if proc.returncode != 0:
                sys.exit(f"crawl failed: {proc.stderr.strip().splitlines()[-1:]}")
            requests = server.requests()
            bases = {s.name: server.base_url(s.name) for s in web.sites}
        finally:
            server.stop()
        files = list(Path(tmp, "data", "articles").rglob("*.parquet"))
        landed = duckdb.sql(f"select source, canonical_url from read_parquet({[str(f) for f in files]})").fetchall() \
            if files else []
    rows = []
    for site in web.sites:
        truth = {normalize_url(bases[site.name] + (a.canonical_path or a.path)) for a in site.articles}
        got = {url for src, url in landed if src == site.name}
        reqs = [r for r in requests if r["site"] == site.name]
        found = len(truth & got)
        rows.append({
            "site": site.name, "template": site.template, "stories": len(truth), "landed": found,
            "coverage": found / len(truth) if truth else 1.0, "non_article_rows": len(got - truth),
            "requests": len(reqs), "req_per_story": len(reqs) / found if found else float("inf"),
            "trap_requests": sum(is_trap(r) for r in reqs),
        })
    return rows, seconds


def print_table(title: str, rows: list[dict], seconds: float) -> None:
    print(f"\n{title}  ({seconds:.1f}s end to end)")
    print(f"{'site':<18}{'template':<12}{'stories':>8}{'landed':>8}{'cover':>7}{'non-art':>8}"
          f"{'reqs':>7}{'req/story':>10}{'trap':>6}")
    for r in rows:
        print(f"{r['site']:<18}{r['template']:<12}{r['stories']:>8}{r['landed']:>8}{r['coverage']:>7.2f}"
              f"{r['non_article_rows']:>8}{r['requests']:>7}{r['req_per_story']:>10.2f}{r['trap_requests']:>6}")
    stories, landed = sum(r["stories"] for r in rows), sum(r["landed"] for r in rows)
    reqs = sum(r["requests"] for r in rows)
    print(f"{'all':<30}{stories:>8}{landed:>8}{landed / stories:>7.2f}{sum(r['non_article_rows'] for r in rows):>8}"
          f"{reqs:>7}{reqs / max(landed, 1):>10.2f}{max(r['trap_requests'] for r in rows):>6}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=6)
    ap.add_argument("--articles", type=int, default=40)
    ap.add_argument("--only-large", action="store_true")
    args = ap.parse_args()
    webs = [] if args.only_large else [("bundled web (3 sites x 20)", build_web(3, 20, seed=7))]
    webs.append((f"generated web ({args.sites} sites x {args.articles})", build_web(args.sites, args.articles, seed=11)))
    for name, web in webs:
        for patterns in (True, False):
            rows, seconds = crawl_once(web, patterns)
            print_table(f"{name}, {'with' if patterns else 'WITHOUT'} article_pattern", rows, seconds)


if __name__ == "__main__":
    main()
