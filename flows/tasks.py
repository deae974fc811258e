"""Prefect tasks: thin, verb-named wrappers around the plain-Python stages.

Tasks pass Python objects in-process, so caching is off (hashing thousands of
articles to build a cache key costs more than the work). Retries are declared
only where a transient I/O error can heal: reading WARC files (local or s3://).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timezone
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from pipelines.dedup import Deduper, DedupResult
from pipelines.extract import ExtractResult, extract_pages
from pipelines.layout import DataDir
from pipelines.markers import mark_done
from pipelines.models import Article, Page
from pipelines.settings import Settings
from pipelines.store import write_articles
from pipelines.warc_read import ReadStats, read_pages


class CrawlFailed(RuntimeError):
    """The crawl subprocess ended badly (bad input, or a crash)."""


@dataclass
class RunContext:
    run_id: str
    kind: str  # "crawl" | "backfill"
    data: DataDir
    settings: Settings
    started_at: datetime
    since: date | None = None
    until: date | None = None
    source_label: str | None = None  # backfill --source
    file_index: int = 0  # next Parquet file number of this run

    @property
    def crawl_date(self) -> str:
        return self.started_at.strftime("%Y-%m-%d")


@dataclass
class StageTotals:
    """Counters and seconds of the processing stages, summed over batches."""

    seconds: Counter = field(default_factory=Counter)
    counts: Counter = field(default_factory=Counter)
    dropped: Counter = field(default_factory=Counter)
    per_source: dict[str, Counter] = field(default_factory=dict)
    files_done: list[str] = field(default_factory=list)
    parquet_files: list[str] = field(default_factory=list)

    def source(self, name: str) -> Counter:
        return self.per_source.setdefault(name, Counter())


@task(name="crawl", cache_policy=NO_CACHE)
def crawl_sites(ctx: RunContext, sources_path: Path, max_pages: int | None, timeout_s: float) -> dict:
    """Run the Scrapy crawl in its own process (Twisted's reactor cannot restart)."""
    stats_out = ctx.data.runs / f".{ctx.run_id}.crawl.json"
    cmd = [sys.executable, "-m", "spiders.run", "--sources", str(sources_path),
           "--data-dir", str(ctx.data.root), "--run-id", ctx.run_id, "--stats-out", str(stats_out)]
    if ctx.since:
        cmd += ["--since", ctx.since.isoformat()]
    if ctx.until:
        cmd += ["--until", ctx.until.isoformat()]
    if max_pages is not None:
        cmd += ["--max-pages", str(max_pages)]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise CrawlFailed(f"crawl exited with status {proc.returncode}: {tail}")
    stats = json.loads(stats_out.read_text()) if stats_out.exists() else {}
    stats_out.unlink(missing_ok=True)
    stats["seconds"] = round(time.monotonic() - started, 3)
    return stats


@task(name="read-warc", retries=2, retry_delay_seconds=[2, 10], cache_policy=NO_CACHE)
def read_warc(path: str, source_label: str | None) -> tuple[list[Page], ReadStats]:
    stats = ReadStats()
    return list(read_pages(path, stats, default_source=source_label)), stats


@task(name="extract", cache_policy=NO_CACHE)
def extract(ctx: RunContext, pages: list[Page]) -> ExtractResult:
    return extract_pages(pages, ctx.data.state, ctx.settings, ctx.run_id)


def in_window(article: Article, since: date | None, until: date | None) -> bool:
    """Backfill --since/--until on the published date; undated articles pass."""
    if article.published_at is None:
        return True
    if since and article.published_at < datetime.combine(since, dtime.min, timezone.utc):
        return False
    if until and article.published_at >= datetime.combine(until, dtime.max, timezone.utc):
        return False
    return True


@task(name="dedup", cache_policy=NO_CACHE)
def dedup(ctx: RunContext, deduper: Deduper, articles: list[Article]) -> DedupResult:
    return deduper.assign(articles, ctx.run_id)


@task(name="write", cache_policy=NO_CACHE)
def write(ctx: RunContext, rows: list[Article]) -> list[str]:
    paths = write_articles(ctx.data, ctx.run_id, ctx.crawl_date, rows, start_index=ctx.file_index)
    ctx.file_index += len(paths)
    return [str(p) for p in paths]


@task(name="commit", cache_policy=NO_CACHE)
def commit(ctx: RunContext, deduper: Deduper, warcs: list[str], counts: dict[str, int]) -> None:
    """Persist the index, then mark the WARC files done: in that order (see markers.py)."""
    deduper.commit()
    for warc in warcs:
        mark_done(ctx.data.state, warc, ctx.run_id, counts)
