"""Prefect tasks: thin, verb-named wrappers around the plain-Python stages.

Tasks pass Python objects in-process, so caching is off (hashing thousands of
articles to build a cache key costs more than the work). Retries are declared
only where a transient I/O error can heal (`pipelines.warc_read.is_transient`):
reading WARC files (local or s3://) on a Dask worker, and the seen-URL store.
The default reading path (reader processes, flows/process.py) retries the same
errors with the same delays, READ_RETRY_DELAYS.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from datetime import time as dtime
from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.progress import progress
from pipelines.dedup import Deduper, DedupResult
from pipelines.extract import ExtractResult, finish_pages
from pipelines.layout import DataDir
from pipelines.markers import mark_done
from pipelines.models import Article, Dropped, Page
from pipelines.pageparse import Parsed, parse_page, warm_up
from pipelines.settings import Settings
from pipelines.store import write_articles
from pipelines.templates import Filter
from pipelines.urls import normalize_url
from pipelines.warc_read import ReadStats, is_transient, read_error_reason, read_pages

READ_RETRY_DELAYS = (2, 10)  # seconds before the 2nd and 3rd attempt at a transient read error


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
    files_skipped: list[str] = field(default_factory=list)  # done by an earlier run
    files_failed: dict[str, str] = field(default_factory=dict)  # path -> reason
    parquet_files: list[str] = field(default_factory=list)

    def source(self, name: str) -> Counter:
        return self.per_source.setdefault(name, Counter())


@task(name="crawl", cache_policy=NO_CACHE)
def crawl_sites(ctx: RunContext, sources_path: Path, max_pages: int | None, timeout_s: float,
                scrapy_settings: list[str] | None = None) -> dict:
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
    for setting in scrapy_settings or []:
        cmd += ["--set", setting]
    started = time.monotonic()
    returncode, tail = _run_crawl(cmd, timeout_s)
    if returncode != 0:
        raise CrawlFailed(f"crawl exited with status {returncode}: {tail}")
    stats = json.loads(stats_out.read_text()) if stats_out.exists() else {}
    stats_out.unlink(missing_ok=True)
    stats["seconds"] = round(time.monotonic() - started, 3)
    return stats


# Scrapy's LogStats line, every LOGSTATS_INTERVAL seconds: what the progress shows.
CRAWLED = re.compile(r"Crawled (\d+) pages \(at (\d+) pages/min\)")


def _run_crawl(cmd: list[str], timeout_s: float) -> tuple[int, str]:
    """Run the crawl process, following its log for progress; (exit status, last log line).

    spiders.run asks the kernel to kill it when we die (no preexec_fn: forking a
    threaded process and running Python before exec can deadlock)."""
    last = "no output"
    log = get_run_logger()
    timed_out = threading.Event()
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          errors="replace") as proc:

        def kill() -> None:  # a hung crawl cannot hold the run forever
            timed_out.set()
            proc.kill()

        watchdog = threading.Timer(timeout_s, kill)
        watchdog.start()
        try:
            with progress("pages fetched", None, log.info, every_s=60) as step:
                for line in proc.stderr:
                    if line.strip():
                        last = line.strip()
                    m = CRAWLED.search(line)
                    if m:
                        step(completed=int(m[1]), note=f"{m[2]} pages/min")
            returncode = proc.wait()
        finally:
            watchdog.cancel()
    if timed_out.is_set():
        return returncode, f"timed out after {timeout_s:.0f} s"
    return returncode, last


def _retry_transient(task, task_run, state) -> bool:
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - classified, not handled
        return is_transient(exc)
    return False


@dataclass
class ParsedFile:
    """One WARC file read and parsed (pass 1 of extraction) where it was read, e.g. on a Dask worker."""

    path: str
    pages: list[Page]
    parsed: list[Parsed | Dropped]  # one per page
    stats: ReadStats


@task(name="parse-warc", retries=len(READ_RETRY_DELAYS), retry_delay_seconds=list(READ_RETRY_DELAYS),
      retry_condition_fn=_retry_transient, cache_policy=NO_CACHE)
def parse_warc(path: str, source_label: str | None) -> ParsedFile:
    """Read one WARC file and run pass 1 on its pages, in this process (no worker pool:
    a Dask worker may not fork). Learning templates and pass 2 stay with the flow."""
    warm_up()
    stats = ReadStats()
    pages = list(read_pages(path, stats, default_source=source_label))
    parsed: list[Parsed | Dropped] = []
    for page in pages:
        try:
            parsed.append(parse_page(page))
        except Exception as exc:  # noqa: BLE001 - a bad page is a counted drop
            parsed.append(Dropped(page.url, "error", read_error_reason(exc)))
    return ParsedFile(path, pages, parsed, stats)


@task(name="extract", cache_policy=NO_CACHE)
def extract(ctx: RunContext, pages: list[Page], first: list[Parsed | Dropped],
            ident: dict[int, tuple[str, str]] | None = None, filters: dict[str, Filter] | None = None) -> ExtractResult:
    """Pass 2 of a batch whose pass 1 (`first`) is done: templates learned (unless the
    caller did: `filters`), rows built."""
    return finish_pages(pages, first, ctx.data.state, ctx.settings, ctx.run_id, ident=ident, filters=filters)


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


@task(name="mark-seen", retries=2, retry_delay_seconds=[1, 5], cache_policy=NO_CACHE)
def mark_seen(ctx: RunContext, articles: list[Article], warc_of: dict[str, str]) -> int:
    """Article URLs of backfilled WARC files go into the crawl's seen-URL store, so a
    later crawl does not fetch them again (the store the spider reads, state/seen.sqlite)."""
    from spiders.seen import SeenStore

    by_warc: dict[str, list[tuple[str, str]]] = {}
    for a in articles:
        by_warc.setdefault(warc_of.get(a.url, ""), []).append((normalize_url(a.url), a.source))
    store = SeenStore(ctx.data.state / "seen.sqlite")
    try:
        return sum(store.mark(urls, ctx.run_id, warc) for warc, urls in by_warc.items())
    finally:
        store.close()


@task(name="landed-before", retries=2, retry_delay_seconds=[1, 5], cache_policy=NO_CACHE)
def landed_before(ctx: RunContext, pages: list[Page]) -> set[int]:
    """Indexes of pages whose capture (URL + WARC file) a backfill already landed: a run
    killed after landing a file's rows but before marking it done re-reads the file, and
    extracting those pages again (with templates learned since) could land revisions."""
    import sqlite3

    path = ctx.data.state / "seen.sqlite"
    if not path.exists() or not pages:
        return set()
    urls = [normalize_url(p.url) for p in pages]
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        landed: set[tuple[str, str]] = set()
        for start in range(0, len(urls), 500):
            part = urls[start:start + 500]
            sql = f"SELECT url, warc_file FROM seen WHERE url IN ({','.join('?' * len(part))})"
            landed.update(db.execute(sql, part).fetchall())
    finally:
        db.close()
    return {i for i, (u, p) in enumerate(zip(urls, pages, strict=True)) if (u, p.warc_path) in landed}


@task(name="commit", cache_policy=NO_CACHE)
def commit(ctx: RunContext, deduper: Deduper, warcs: list[str], counts: dict[str, int]) -> None:
    """Persist the index, then mark the WARC files done: in that order (see markers.py)."""
    deduper.commit()
    for warc in warcs:
        mark_done(ctx.data.state, warc, ctx.run_id, counts)
