"""`python -m spiders.run`: one crawl, in this process, then exit.

Twisted's reactor cannot be restarted, so a caller that crawls more than once runs
this module as a subprocess. Exit 0 when the crawl finished (failed pages are in
the report, not in the exit status); 2 with a one-line reason on bad input; 1 when
the crawl itself could not run to its end.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
from datetime import date
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from pipelines.atomic import write_bytes_atomic
from pipelines.settings import load_settings
from pipelines.sources import SourcesError, load_sources
from spiders.news import NewsSpider
from spiders.safety import source_hosts
from spiders.stats import build_report


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the usage block
        self.exit(2, f"spiders.run: {message}\n")


def _day(value: str) -> str:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from None
    return value


def _setting(value: str) -> tuple[str, str]:
    name, sep, val = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {value!r}")
    return name, val


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = _Parser(prog="python -m spiders.run", description="Run one newsmill crawl.")
    p.add_argument("--sources", required=True, help="sources YAML file")
    p.add_argument("--data-dir", required=True, type=Path)
    p.add_argument("--run-id", required=True)
    p.add_argument("--since", type=_day, help="YYYY-MM-DD, inclusive")
    p.add_argument("--until", type=_day, help="YYYY-MM-DD, inclusive")
    p.add_argument("--max-pages", type=int, help="override every source's max_pages")
    p.add_argument("--stats-out", type=Path, help="write the crawl report (JSON) here")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("--set", type=_setting, action="append", default=[], metavar="NAME=VALUE",
                   help="a Scrapy setting, e.g. AUTOTHROTTLE_START_DELAY=1")
    args = p.parse_args(argv)
    if args.max_pages is not None and args.max_pages < 0:
        p.error("--max-pages: must be >= 0")
    if args.since and args.until and args.since > args.until:
        p.error("--since is after --until")
    if not args.run_id.replace("-", "").replace("_", "").isalnum():
        p.error("--run-id: use letters, digits, '-' and '_' only (it names files)")
    return args


def _die_with_parent() -> None:
    """Linux: be killed when the process that started us dies, so a killed `newsmill`
    never leaves a crawl writing into the data directory without its lock."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before the call took effect
        os._exit(1)


def main(argv: list[str] | None = None) -> int:
    _die_with_parent()
    args = parse_args(argv)
    try:
        sources = load_sources(args.sources)  # fail before anything is fetched
    except SourcesError as exc:
        sys.stderr.write(f"spiders.run: {exc}\n")
        return 2
    try:
        args.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        sys.stderr.write(f"spiders.run: --data-dir {args.data_dir}: {exc.strerror or exc}\n")
        return 2

    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    settings.set("NEWSMILL_DATA_DIR", str(args.data_dir), priority="cmdline")
    settings.set("LOG_LEVEL", args.log_level, priority="cmdline")
    # The SSRF guard lets through the sources' own hosts (operator config) and the
    # hosts named in NEWSMILL_ALLOW_PRIVATE_HOSTS; every other private address is blocked.
    allowed = source_hosts(u for s in sources for u in s.all_urls())
    settings.set("NEWSMILL_ALLOWED_HOSTS", sorted({*allowed, *load_settings().allow_private_hosts}),
                 priority="cmdline")
    for name, value in args.set:
        settings.set(name, value, priority="cmdline")

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NewsSpider)
    process.crawl(crawler, sources=args.sources, run_id=args.run_id, since=args.since,
                  until=args.until, max_pages=args.max_pages)
    process.start()

    stats = crawler.stats.get_stats()
    report = build_report(stats, [s.name for s in sources])
    if args.stats_out:
        args.stats_out.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(args.stats_out, json.dumps(report, indent=2, default=str).encode())
    if report["finish_reason"] != "finished":
        sys.stderr.write(f"spiders.run: crawl did not finish (reason: {report['finish_reason']})\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
