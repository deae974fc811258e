"""WARC files -> articles in Parquet: the processing shared by crawl and backfill."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prefect import get_run_logger

from flows.tasks import RunContext, StageTotals, commit, dedup, extract, in_window, read_warc, write
from pipelines.dedup import Deduper
from pipelines.markers import is_done
from pipelines.models import Page

PAGES_PER_BATCH = 2000  # bounds memory; template learning also keeps state across batches


def pending(ctx: RunContext, warcs: list[str]) -> list[str]:
    return [w for w in warcs if not is_done(ctx.data.state, w)]


def process_warcs(ctx: RunContext, warcs: list[str], totals: StageTotals) -> StageTotals:
    """Extract, dedup and land every WARC file of `warcs` that is not done yet."""
    log = get_run_logger()
    todo = pending(ctx, warcs)
    totals.counts["warc_files_skipped_done"] += len(warcs) - len(todo)
    if not todo:
        return totals
    deduper = Deduper.open(ctx.data.state, ctx.settings)
    try:
        for batch_files, pages in _batches(ctx, todo, totals):
            _process_batch(ctx, deduper, batch_files, pages, totals)
            log.info("landed %d of %d WARC files; %d rows so far", len(totals.files_done), len(todo),
                     totals.counts["rows_landed"])
    finally:
        deduper.close()
    return totals


def _batches(ctx: RunContext, files: list[str], totals: StageTotals) -> Iterator[tuple[list[str], list[Page]]]:
    batch_files: list[str] = []
    pages: list[Page] = []
    for path in files:
        started = time.monotonic()
        file_pages, stats = read_warc(path, ctx.source_label)
        totals.seconds["read"] += time.monotonic() - started
        totals.counts["warc_records"] += stats.records
        totals.counts["pages_read"] += stats.pages
        for reason, n in stats.skipped.items():
            totals.dropped[f"read/{reason}"] += n
        batch_files.append(path)
        pages += file_pages
        if len(pages) >= PAGES_PER_BATCH:
            yield batch_files, pages
            batch_files, pages = [], []
    if batch_files:
        yield batch_files, pages


def _process_batch(ctx: RunContext, deduper: Deduper, files: list[str], pages: list[Page], totals: StageTotals) -> None:
    source_of = {p.url: p.source for p in pages}
    for p in pages:
        totals.source(p.source)["pages"] += 1

    started = time.monotonic()
    extracted = extract(ctx, pages)
    totals.seconds["extract"] += time.monotonic() - started
    for d in extracted.dropped:
        totals.dropped[f"extract/{d.reason}"] += 1
        totals.source(source_of.get(d.url, "?"))[f"dropped/{d.reason}"] += 1
    articles = [a for a in extracted.articles if in_window(a, ctx.since, ctx.until)]
    if len(articles) < len(extracted.articles):
        totals.dropped["extract/outside_date_window"] += len(extracted.articles) - len(articles)
    totals.counts["articles_extracted"] += len(extracted.articles)

    started = time.monotonic()
    result = dedup(ctx, deduper, articles)
    totals.seconds["dedup"] += time.monotonic() - started
    totals.counts["skipped_unchanged"] += result.skipped_unchanged

    started = time.monotonic()
    if result.rows:
        totals.parquet_files += write(ctx, result.rows)
    counts = {"rows": len(result.rows), "pages": len(pages)}
    commit(ctx, deduper, files, counts)
    totals.seconds["write"] += time.monotonic() - started

    totals.files_done += files
    for row in result.rows:
        src = totals.source(row.source)
        src["rows_landed"] += 1
        src["duplicates" if row.is_duplicate else "new"] += 1
    totals.counts["rows_landed"] += len(result.rows)
    totals.counts["duplicates"] += sum(r.is_duplicate for r in result.rows)
