"""Run reports: `runs/<run_id>.json`, a Prefect table artifact, and the summary a person reads."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from prefect.artifacts import create_table_artifact

from flows.tasks import RunContext, StageTotals
from pipelines.atomic import write_bytes_atomic


# Present in every report, zero included, so readers need no defaults.
ALWAYS_COUNTED = ("pages_read", "articles_extracted", "rows_landed", "duplicates", "skipped_unchanged")


def build_report(ctx: RunContext, totals: StageTotals, crawl: dict | None, status: str, error: str = "") -> dict:
    crawl = crawl or {}
    seconds = {k: round(v, 3) for k, v in totals.seconds.items()}
    if "seconds" in crawl:
        seconds = {"crawl": crawl["seconds"], **seconds}
    sources: dict[str, dict] = {}
    for name, counter in sorted(totals.per_source.items()):
        sources[name] = dict(sorted(counter.items()))
    for name, stats in (crawl.get("sources") or {}).items():
        sources.setdefault(name, {})["crawl"] = stats
    return {
        "run_id": ctx.run_id,
        "kind": ctx.kind,
        "status": status,
        "error": error,
        "started_at": ctx.started_at.isoformat(),
        "finished_at": datetime.now(timezone.utc).isoformat(),
        "data_dir": str(ctx.data.root),
        "seconds": seconds,
        "totals": {
            **dict.fromkeys(ALWAYS_COUNTED, 0),
            **dict(sorted(totals.counts.items())),
            "pages_fetched": _pages_fetched(crawl),
            "dropped": dict(sorted(totals.dropped.items())),
        },
        "sources": sources,
        "crawl": {k: v for k, v in crawl.items() if k not in ("sources",)},
        "files": {"parquet": totals.parquet_files, "warc_processed": totals.files_done},
    }


def _pages_fetched(crawl: dict) -> int | None:
    fetched = (crawl.get("totals") or {}).get("fetched")
    return sum(fetched.values()) if isinstance(fetched, dict) else None


def save_report(ctx: RunContext, report: dict) -> str:
    path = ctx.data.runs / f"{ctx.run_id}.json"
    write_bytes_atomic(path, json.dumps(report, indent=2, default=str).encode())
    rows = [
        {"source": name, **{k: v for k, v in stats.items() if not isinstance(v, dict)}}
        for name, stats in report["sources"].items()
    ]
    if rows:
        create_table_artifact(table=rows, key=f"newsmill-{ctx.kind}", description=f"newsmill {ctx.kind} {ctx.run_id}")
    return str(path)


def summary_lines(report: dict) -> list[str]:
    t = report["totals"]
    lines = [f"run {report['run_id']} ({report['kind']}): {report['status']}"]
    if report.get("error"):
        lines.append(f"  error: {report['error']}")
    if t.get("pages_fetched") is not None:
        lines.append(f"  pages fetched:      {t['pages_fetched']}")
    lines += [
        f"  pages read (WARC):  {t.get('pages_read', 0)}",
        f"  articles extracted: {t.get('articles_extracted', 0)}",
        f"  rows landed:        {t.get('rows_landed', 0)} ({t.get('duplicates', 0)} duplicates)",
        f"  unchanged, skipped: {t.get('skipped_unchanged', 0)}",
    ]
    dropped = {k: v for k, v in t.get("dropped", {}).items() if v}
    if dropped:
        lines.append("  dropped: " + ", ".join(f"{k}={v}" for k, v in dropped.items()))
    lines.append("  seconds: " + ", ".join(f"{k}={v:.1f}" for k, v in report["seconds"].items()))
    return lines
