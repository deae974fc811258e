"""Spider-only crawl bench: `python -m spiders.run` against the sample news web, scored per site.

    .venv/bin/python bench/crawl_spider.py                  # bundled web (3x20, seed 7) and 6x40 (seed 11)
    .venv/bin/python bench/crawl_spider.py --only-large --sites 6 --articles 60
    .venv/bin/python bench/crawl_spider.py --no-patterns    # only the runs without article_pattern

No pipeline, no extraction: it reads the WARC files the spider wrote and the
server's request log. Per site: stories in the truth, stories captured, captured
pages that are not a truth article (or a second copy of one), requests the server
saw, requests per captured story (everything counted: robots, feeds, sitemaps,
hubs, variants, failures) and trap requests (path has /archive or query has
page=). Targets (issue 9, run WITHOUT patterns): coverage 1.00, 0 extra,
<= 6 requests per story, <= 30 trap requests per site.
bench/crawl.py measures the same through the full `newsmill crawl` pipeline.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.newsweb import build_web, serve_web  # noqa: E402
from pipelines.urls import normalize_url  # noqa: E402

TARGET_REQ_PER_STORY = 6.0
TARGET_TRAP = 30


def is_trap(req: dict) -> bool:
    return "/archive" in req["path"] or "page=" in (req.get("query") or "")


def captured(data: Path) -> list[tuple[str, str]]:
    """(source, normalized URL) of every response record the spider archived."""
    out = []
    for path in sorted(data.glob("raw/crawl_date=*/*.warc.gz")):
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type == "response":
                    out.append((rec.rec_headers.get_header("WARC-Newsmill-Source"),
                                normalize_url(rec.rec_headers.get_header("WARC-Target-URI"))))
    return out


def crawl_once(web, patterns: bool, max_pages: int | None = None) -> tuple[list[dict], dict, float]:
    with tempfile.TemporaryDirectory(prefix="newsmill-spiderbench-") as tmp:
        server = serve_web(web)
        try:
            sources = Path(tmp) / "sources.yaml"
            sources.write_text(server.sources_yaml(patterns=patterns))
            stats = Path(tmp) / "stats.json"
            cmd = [sys.executable, "-m", "spiders.run", "--sources", str(sources), "--data-dir", f"{tmp}/data",
                   "--run-id", "bench", "--stats-out", str(stats), "--log-level", "WARNING"]
            if max_pages is not None:
                cmd += ["--max-pages", str(max_pages)]
            started = time.monotonic()
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
            seconds = time.monotonic() - started
            if proc.returncode != 0:
                sys.exit(f"crawl failed: {proc.stderr.strip().splitlines()[-3:]}")
            requests = server.requests()
            bases = {s.name: server.base_url(s.name) for s in web.sites}
        finally:
            server.stop()
        got = captured(Path(tmp, "data"))
        report = json.loads(stats.read_text())
    rows = []
    for site in web.sites:
        truth = {normalize_url(bases[site.name] + (a.canonical_path or a.path)) for a in site.articles}
        mine = Counter(url for src, url in got if src == site.name)
        found = len(truth & set(mine))
        extra = sum(n for url, n in mine.items() if url not in truth) + sum(n - 1 for n in mine.values())
        reqs = [r for r in requests if r["site"] == site.name]
        src = report["sources"].get(site.name, {})
        rows.append({
            "site": site.name, "template": site.template, "stories": len(truth), "captured": found,
            "coverage": found / len(truth) if truth else 1.0, "extra": extra,
            "hidden": sum(1 for a in site.articles if not a.in_feed and not a.in_sitemap),
            "requests": len(reqs), "req_per_story": len(reqs) / found if found else float("inf"),
            "trap_requests": sum(is_trap(r) for r in reqs),
            "hubs": src.get("fetched", {}).get("hub", 0),
            "variants": src.get("skipped", {}).get("variant", 0),
        })
    return rows, report, seconds


def print_table(title: str, rows: list[dict], seconds: float, max_pages: int | None = None) -> bool:
    print(f"\n{title}  ({seconds:.1f}s)")
    print(f"{'site':<20}{'template':<10}{'stories':>8}{'got':>6}{'cover':>7}{'extra':>6}{'hidden':>7}"
          f"{'reqs':>6}{'hubs':>6}{'req/story':>10}{'trap':>6}{'variant':>8}")
    for r in rows:
        print(f"{r['site']:<20}{r['template']:<10}{r['stories']:>8}{r['captured']:>6}{r['coverage']:>7.2f}"
              f"{r['extra']:>6}{r['hidden']:>7}{r['requests']:>6}{r['hubs']:>6}{r['req_per_story']:>10.2f}"
              f"{r['trap_requests']:>6}{r['variants']:>8}")
    stories, got = sum(r["stories"] for r in rows), sum(r["captured"] for r in rows)
    reqs = sum(r["requests"] for r in rows)
    worst = max(r["req_per_story"] for r in rows)
    trap = max(r["trap_requests"] for r in rows)
    extra = sum(r["extra"] for r in rows)
    print(f"{'all':<30}{stories:>8}{got:>6}{got / stories:>7.2f}{extra:>6}{'':>7}{reqs:>6}"
          f"{sum(r['hubs'] for r in rows):>6}{reqs / max(got, 1):>10.2f}{trap:>6}")
    # With --max-pages the best a site can do is min(stories, max_pages).
    want = sum(min(r["stories"], max_pages) if max_pages is not None else r["stories"] for r in rows)
    ok = got == want and extra == 0 and worst <= TARGET_REQ_PER_STORY and trap <= TARGET_TRAP
    print(f"targets (captured {want}, extra 0, worst site <= {TARGET_REQ_PER_STORY:g} req/story, "
          f"trap <= {TARGET_TRAP}/site): {'MET' if ok else 'NOT MET'}"
          f"  [worst req/story {worst:.2f}, worst trap {trap}]")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=6)
    ap.add_argument("--articles", type=int, default=40)
    ap.add_argument("--only-large", action="store_true")
    ap.add_argument("--no-patterns", action="store_true", help="only the runs without article_pattern")
    ap.add_argument("--max-pages", type=int, help="override max_pages for every source")
    args = ap.parse_args()
    webs = [] if args.only_large else [("bundled web (3 sites x 20, seed 7)", build_web(3, 20, seed=7))]
    webs.append((f"generated web ({args.sites} sites x {args.articles}, seed 11)",
                 build_web(args.sites, args.articles, seed=11)))
    all_ok = True
    for name, web in webs:
        for patterns in ((False,) if args.no_patterns else (True, False)):
            rows, _, seconds = crawl_once(web, patterns, args.max_pages)
            ok = print_table(f"{name}, {'with' if patterns else 'WITHOUT'} article_pattern", rows, seconds,
                             args.max_pages)
            all_ok = all_ok and (ok or patterns)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
