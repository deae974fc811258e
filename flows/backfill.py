"""The backfill flow: existing WARC files (own archives, CC-NEWS) through the crawl's processing.

Same data directory, same dedup index and seen-URL store as the crawl, so a story
met by both is one cluster and a backfilled URL is not fetched again.
"""

# No `from __future__ import annotations` here: Prefect builds the parameter model
# of a flow from these annotations and cannot resolve them as strings.

from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger

from flows.crawl import _context
from flows.process import PAGES_PER_BATCH, process_warcs, start_head
from flows.report import build_report, save_report
from flows.tasks import RunContext, StageTotals
from pipelines.atomic import clean_stale_tmp
from pipelines.lock import RunLock
from pipelines.settings import load_settings
from pipelines.warc_read import expand_inputs


def backfill_status(totals: StageTotals) -> tuple[str, str]:
    """("ok" | "partial" | "failed", error): failed only when no file could be processed."""
    failed = totals.files_failed
    if not failed:
        return "ok", ""
    listed = "; ".join(f"{path}: {reason}" for path, reason in list(failed.items())[:5])
    more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
    error = f"{len(failed)} WARC file(s) could not be read: {listed}{more}"
    nothing = not totals.files_done and not totals.files_skipped and not totals.counts["rows_landed"]
    return ("failed" if nothing else "partial"), error


def _finish(ctx: RunContext, totals: StageTotals) -> dict:
    status, error = backfill_status(totals)
    report = build_report(ctx, totals, None, status, error)
    report["files"].update(warc_skipped_done=totals.files_skipped, warc_failed=totals.files_failed)
    report["report_path"] = save_report(ctx, report)
    get_run_logger().info("run report: %s", report["report_path"])
    return report


@flow(name="newsmill-backfill")
def backfill_flow(inputs: list[str], data_dir: str | None = None, since: date | None = None,
                  until: date | None = None, source_label: str | None = None,
                  batch_pages: int = PAGES_PER_BATCH) -> dict:
    """Process existing WARC files; finished files are skipped, unreadable ones recorded.

    Run it with `backfill_flow.with_options(task_runner=DaskTaskRunner(address=...))`
    to read and parse the files on a Dask cluster (see `run_backfill`)."""
    warcs = warc_names(inputs)
    ctx = _context("backfill", data_dir, since=since, until=until, source_label=source_label)
    totals = StageTotals()
    with RunLock(ctx.data.state).acquire(ctx.run_id):
        clean_stale_tmp(ctx.data.root)  # a killed run's half-written Parquet, report, state files
        process_warcs(ctx, warcs, totals, batch_pages)
        return _finish(ctx, totals)


def warc_names(inputs: list[str]) -> list[str]:
    """One name per file, however it was given: completion markers and the seen-URL store key on it."""
    return [w if "://" in w else str(Path(w).resolve()) for w in expand_inputs(inputs)]


def start_backfill(inputs: list[str], data_dir: str | None = None, source_label: str | None = None,
                   dask_address: str | None = None, batch_pages: int = PAGES_PER_BATCH) -> None:
    """Start what `run_backfill` with the same arguments will do first (reading, and pass 1
    of the first batch: `process.start_head`), while the command waits for Prefect's API."""
    if not dask_address:
        start_head(warc_names(inputs), load_settings(data_dir=data_dir), source_label, batch_pages)


def run_backfill(inputs: list[str], data_dir: str | None = None, since: date | None = None,
                 until: date | None = None, source_label: str | None = None,
                 dask_address: str | None = None, batch_pages: int = PAGES_PER_BATCH) -> dict:
    """`backfill_flow`, on a Dask cluster when `dask_address` (tcp://host:port) is given."""
    flow_ = backfill_flow
    if dask_address:
        from prefect_dask import DaskTaskRunner

        flow_ = backfill_flow.with_options(task_runner=DaskTaskRunner(address=dask_address))
    return flow_(inputs, data_dir, since, until, source_label, batch_pages)
