"""The crawl flow: one run, under the data directory's lock (the backfill flow: flows/backfill.py)."""

# No `from __future__ import annotations` here: Prefect builds the parameter model
# of a deployed flow from these annotations and cannot resolve them as strings.

import secrets
from datetime import date, datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger

from flows.process import process_warcs
from flows.report import build_report, save_report
from flows.tasks import RunContext, StageTotals, crawl_sites
from pipelines.atomic import clean_stale_tmp
from pipelines.layout import DataDir
from pipelines.lock import RunLock
from pipelines.settings import load_settings
from pipelines.sources import load_sources

CRAWL_TIMEOUT_S = 6 * 3600


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _context(kind: str, data_dir: str | None, **kw) -> RunContext:
    settings = load_settings(data_dir=data_dir)
    now = datetime.now(timezone.utc)
    return RunContext(run_id=new_run_id(now), kind=kind, data=DataDir(settings.data_dir).make(),
                      settings=settings, started_at=now, **kw)


def _finish(ctx: RunContext, totals: StageTotals, crawl: dict | None, error: str) -> dict:
    status = "failed" if error else "ok"
    report = build_report(ctx, totals, crawl, status, error)
    report["report_path"] = save_report(ctx, report)
    get_run_logger().info("run report: %s", report["report_path"])
    return report


@flow(name="newsmill-crawl")
def crawl_flow(sources_path: str, data_dir: str | None = None, since: date | None = None,
               until: date | None = None, max_pages: int | None = None,
               scrapy_settings: list[str] | None = None) -> dict:
    """Crawl the sources into WARC, then process every WARC file not yet landed.

    Parameters are plain values so a scheduled deployment can carry them.
    """
    load_sources(sources_path)  # fail before any fetch, and before taking the lock
    ctx = _context("crawl", data_dir, since=since, until=until)
    totals = StageTotals()
    crawl: dict | None = None
    error = ""
    with RunLock(ctx.data.state).acquire(ctx.run_id):
        clean_stale_tmp(ctx.data.root)  # a killed run's half-written Parquet, report, state files
        try:
            crawl = crawl_sites(ctx, Path(sources_path), max_pages, CRAWL_TIMEOUT_S, scrapy_settings)
        except Exception as exc:  # the report records it; WARC files already landed are still processed
            error = str(exc)
        # Files of this run and any left by a run that was killed before processing them.
        warcs = sorted(str(p) for p in ctx.data.raw.glob("crawl_date=*/*.warc.gz") if not p.name.startswith("."))
        process_warcs(ctx, warcs, totals)
        return _finish(ctx, totals, crawl, error)

