"""The crawl report (`--stats-out`): Scrapy's flat stats folded into one JSON document.

Flat keys `newsmill/source/<name>/<key>[/<reason>]` become
`sources[<name>][<key>][<reason>]`; `newsmill/<key>[/<reason>]` become `totals`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["build_report", "FETCH_KINDS"]

FETCH_KINDS = ("feed", "sitemap", "robots", "hub", "article", "other")
# Scrapy's own counters worth keeping next to ours.
SCRAPY_KEYS = (
    "downloader/request_count", "downloader/response_count", "retry/count", "retry/max_reached",
    "robotstxt/request_count", "robotstxt/forbidden", "offsite/filtered", "item_scraped_count",
    "log_count/ERROR", "elapsed_time_seconds",
)


def _empty() -> dict[str, Any]:
    return {
        "requests": 0, "fetched": {k: 0 for k in FETCH_KINDS}, "captured": 0, "skipped_seen": 0,
        "not_modified": 0, "skipped": {}, "failed": {}, "dropped_other": {},
    }


def _put(block: dict[str, Any], key: str, value: Any) -> None:
    head, _, reason = key.partition("/")
    if reason:
        block.setdefault(head, {})[reason] = value
    else:
        block[head] = value


def build_report(stats: dict[str, Any], source_names: list[str]) -> dict[str, Any]:
    sources = {name: _empty() for name in source_names}
    totals = _empty()
    for key, value in stats.items():
        if key.startswith("newsmill/source/"):
            name, _, rest = key[len("newsmill/source/"):].partition("/")
            if name in sources and rest:
                _put(sources[name], rest, value)
        elif key.startswith("newsmill/") and not key.startswith(("newsmill/warc", "newsmill/seen")):
            _put(totals, key[len("newsmill/"):], value)
    run_id = totals.pop("run_id", None)
    crawl_date = totals.pop("crawl_date", None)
    start, finish = stats.get("start_time"), stats.get("finish_time")
    return {
        "run_id": run_id,
        "crawl_date": crawl_date,
        "finish_reason": stats.get("finish_reason"),
        "started_at": start.isoformat() if isinstance(start, datetime) else None,
        "finished_at": finish.isoformat() if isinstance(finish, datetime) else None,
        "seconds": stats.get("elapsed_time_seconds"),
        "sources": sources,
        "totals": totals,
        "warc_files": list(stats.get("newsmill/warc_files", [])),
        "warc_records": stats.get("newsmill/warc/records", 0),
        "seen_marked": stats.get("newsmill/seen/marked", 0),
        "scrapy": {k: stats[k] for k in SCRAPY_KEYS if k in stats},
    }
