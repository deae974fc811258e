"""Extraction benchmark: newsmill's stage beside plain trafilatura, in one command.

    .venv/bin/python -m bench.extraction [--repeats 3] [--sites 6] [--skip-speed] [--skip-web]

1. Quality on the dev set (../shared/data/extraction/dev): precision, recall,
   F1 with the benchmark's metric (pipelines.textmetric), ± bootstrap std, for
   `extract_pages` and for `trafilatura.extract(html, include_comments=False)`.
2. Template removal and metadata on the sample news web (flows.newsweb): share
   of articles with any template block, recall of true paragraphs, per-field
   accuracy; the batch shuffled must give the same texts.
3. Speed: pages/s of the stage with 1 and 2 workers vs a plain trafilatura loop in
   one process, same pages; medians of --repeats interleaved runs, with CPU-time
   figures for a loaded machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import trafilatura

from pipelines.extract import extract_pages
from pipelines.models import Page
from pipelines.settings import Settings
from pipelines.textmetric import Score, bootstrap_std, evaluate

# The shared dev set sits beside the repo (../shared), in CI as here.
DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "extraction" / "dev"


def load_dev(root: Path = DEV) -> tuple[list[Page], list[str]]:
    truth = json.loads((root / "ground_truth.json").read_text("utf-8"))
    pages, refs = [], []
    for pid in sorted(truth):
        html = gzip.decompress((root / f"{pid}.html.gz").read_bytes())
        pages.append(Page(truth[pid]["url"], html, 200, {"content-type": "text/html; charset=utf-8"},
                          datetime(2019, 11, 20, tzinfo=UTC), "dev", article_hint="dev"))
        refs.append(truth[pid]["articleBody"])
    return pages, refs


def newsmill_texts(pages: list[Page], workers: int) -> list[str]:
    with tempfile.TemporaryDirectory() as state:
        result = extract_pages(pages, Path(state), Settings(workers=workers), run_id="bench")
    by_url = {a.url: a.text for a in result.articles}
    return [by_url.get(p.url, "") for p in pages]


def plain_texts(pages: list[Page]) -> list[str]:
    return [trafilatura.extract(p.html, include_comments=False) or "" for p in pages]


def _row(name: str, s: Score, sd: Score) -> str:
    return (f"| {name} | {s.precision:.4f} ± {sd.precision:.3f} | {s.recall:.4f} ± {sd.recall:.3f} "
            f"| {s.f1:.4f} ± {sd.f1:.3f} | {s.accuracy:.3f} |")


def quality(pages: list[Page], refs: list[str], workers: int) -> list[str]:
    out = ["## Dev set (109 pages): word-4-gram metric", "",
           "| extractor | precision | recall | F1 | exact |", "| --- | --- | --- | --- | --- |"]
    for name, texts in (("newsmill extract_pages", newsmill_texts(pages, workers)),
                        ("trafilatura.extract (plain)", plain_texts(pages))):
        out.append(_row(name, evaluate(texts, refs), bootstrap_std(texts, refs)))
    return out


def _timed(fn) -> tuple[float, float, float]:
    """(wall s, CPU s of this process and its finished children, CPU s of this process alone)."""
    r0, c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    fn()
    wall = time.perf_counter() - t0
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    own = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
    return wall, own + c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime, own


def _stage(pages: list[Page], workers: int, into: list[dict[str, float]]) -> None:
    with tempfile.TemporaryDirectory() as state:
        into.append(extract_pages(pages, Path(state), Settings(workers=workers), run_id="bench").stats)


def speed(pages: list[Page], repeats: int) -> list[str]:
    """Runs interleaved (plain, 1 worker, 2 workers, plain, ...) so that a change of
    load on a shared machine hits all three alike; medians of each column."""
    n = len(pages)
    runs: dict[str | int, list[tuple[float, float, float]]] = {"plain": [], 1: [], 2: []}
    stats: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    loads = [os.getloadavg()[0]]
    plain_texts(pages[:5])  # lazy loads (dateparser, jusText) outside the timings
    for _ in range(repeats):
        runs["plain"].append(_timed(lambda: plain_texts(pages)))
        for w in (1, 2):
            runs[w].append(_timed(lambda w=w: _stage(pages, w, stats[w])))
        loads.append(os.getloadavg()[0])
    med = {k: [statistics.median(r[j] for r in v) for j in range(3)] for k, v in runs.items()}
    plain, plain_cpu, _ = med["plain"]
    share = plain_cpu / plain  # of one core, that the single-process loop got
    cores = os.cpu_count() or 1
    rows = [(f"## Speed ({n} dev pages, medians of {repeats} interleaved runs; load average "
             f"{min(loads):.1f}-{max(loads):.1f} on {cores} cores, ours included; the plain loop got "
             f"{share:.0%} of a core)"), "",
            ("| run | wall s | pages/s | ratio vs plain (wall) | CPU s, all processes | CPU efficiency vs plain "
             "| critical-path CPU s | ratio vs plain (CPU-normalized) |"),
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            (f"| plain trafilatura.extract loop, 1 process | {plain:.2f} | {n / plain:.1f} | 1.00x | {plain_cpu:.2f} "
             f"| 1.00x | {plain_cpu:.2f} | 1.00x |")]
    for w in (1, 2):
        secs, cpu, parent = med[w]
        path = parent + statistics.median(st["workers/cpu_max_s"] for st in stats[w])
        rows.append(f"| newsmill extract_pages, {w} worker(s) | {secs:.2f} | {n / secs:.1f} | {plain / secs:.2f}x "
                    f"| {cpu:.2f} | {plain_cpu / cpu:.2f}x | {path:.2f} | {plain_cpu / path:.2f}x |")
    rows += ["", ("CPU efficiency: plain CPU / all CPU of the stage (parent and workers), the per-worker ratio. "
             "Critical-path CPU: the parent's CPU plus the busiest worker's, as if they never overlapped "
             "(a pessimistic bound on wall time with idle cores).")]
    if share < 0.9 or max(loads) > cores:
        rows += ["", (f"**The machine was loaded (the plain loop got {share:.0%} of a core; load average up to "
                      f"{max(loads):.1f} on {cores} cores): wall-time ratios understate the stage, above all "
                      "with 2 workers; read the CPU-normalized columns.**")]
    return rows


def web_quality(n_sites: int, workers: int) -> list[str]:
    from bench.newsweb_eval import fetch_web, run_web

    web = fetch_web(n_sites=n_sites, articles_per_site=20, seed=7)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        s1 = run_web(Path(a), Settings(workers=workers), web)
        s2 = run_web(Path(b), Settings(workers=workers), web, shuffle_seed=1)
    same = s1.pop("texts") == s2.pop("texts")
    rows = [f"## Sample news web ({n_sites} sites, {len(web.pages)} pages incl. hubs)", "",
            "| measure | value |", "| --- | --- |",
            f"| articles kept / expected | {s1['kept']:.0f} / {s1['articles_expected']:.0f} |",
            f"| share of articles with a template block | {s1['leak_share']:.3f} |",
            f"| recall of article paragraphs | {s1['paragraph_recall']:.4f} |",
            f"| shuffled order gives identical texts | {same} |"]
    rows += [f"| metadata {k.split('/', 1)[1]} accuracy | {v:.3f} |" for k, v in s1.items() if k.startswith("meta/")]
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sites", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-web", action="store_true")
    args = ap.parse_args(argv)
    pages, refs = load_dev()
    report = quality(pages, refs, args.workers)
    if not args.skip_web:
        report += [""] + web_quality(args.sites, args.workers)
    if not args.skip_speed:
        report += [""] + speed(pages, args.repeats)
    sys.stdout.write("\n".join(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
