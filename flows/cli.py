"""The `newsmill` command line (DESIGN.md contract 2).

Bad input ends the command with status 2 and one line naming what is wrong; a
run that could do nothing ends with status 1; anything else is 0.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from pipelines.settings import Settings, load_settings


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _setting(value: str) -> str:
    name, sep, _ = value.partition("=")
    if not sep or not name.isupper():
        raise argparse.ArgumentTypeError(f"not NAME=VALUE with an upper-case Scrapy setting name: {value!r}")
    return value


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a whole number >= 1: {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsmill", description="News sites in, a deduplicated Parquet dataset out.")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", type=Path, default=None, help="dataset root (default ./data or NEWSMILL_DATA_DIR)")

    def window(p: argparse.ArgumentParser) -> None:
        p.add_argument("--since", type=_date, help="published on or after this date (YYYY-MM-DD)")
        p.add_argument("--until", type=_date, help="published on or before this date (YYYY-MM-DD)")

    crawl = sub.add_parser("crawl", help="crawl the sources once: fetch, extract, dedup, land Parquet")
    crawl.add_argument("--sources", type=Path, required=True, help="sources file (YAML)")
    data_dir(crawl)
    window(crawl)
    crawl.add_argument("--max-pages", type=_positive, help="article pages per source for this run")
    crawl.add_argument("--set", dest="scrapy_settings", action="append", default=[], metavar="NAME=VALUE",
                       type=_setting, help="a Scrapy setting for this crawl, e.g. AUTOTHROTTLE_START_DELAY=2")

    backfill = sub.add_parser("backfill", help="process existing WARC files, globs or directories")
    backfill.add_argument("warcs", nargs="+", help="WARC files, globs, directories (local or s3://)")
    data_dir(backfill)
    window(backfill)
    backfill.add_argument("--source", help="label rows with this source name (default: the domain)")
    backfill.add_argument("--dask", metavar="ADDRESS", help="read and parse the files on this Dask cluster "
                          "(tcp://host:port; workers need the same files and newsmill installed)")
    backfill.add_argument("--batch-pages", type=_positive, default=2000,
                          help="pages landed per batch: memory and Parquet file size (default 2000)")

    serve = sub.add_parser("serve", help="run the crawl on a cron schedule (a Prefect deployment) until stopped")
    serve.add_argument("--sources", type=Path, required=True, help="sources file (YAML)")
    serve.add_argument("--cron", required=True, help="cron expression, e.g. '*/30 * * * *'")
    data_dir(serve)

    demo = sub.add_parser("demo", help="serve the bundled sample news web on loopback and crawl it")
    data_dir(demo)

    reindex = sub.add_parser("reindex", help="rebuild the dedup index from the Parquet dataset")
    data_dir(reindex)

    stats = sub.add_parser("stats", help="what the dataset holds")
    data_dir(stats)
    return parser


# Commands that run a flow in this process (`serve` runs its own server).
FLOW_COMMANDS = {"crawl", "backfill", "demo"}


def _errors() -> tuple[tuple[type[Exception], ...], type[Exception]]:
    """(what bad input raises, the dedup index's error). Imported once a flow command's
    temporary API is starting: these modules take ~0.45 s to import (numba among them),
    which the server's boot, the start's longest wait, need not wait for."""
    from pipelines.lock import DataDirBusy
    from pipelines.lsh_index import DedupIndexError
    from pipelines.sources import SourcesError
    from pipelines.warc_read import WarcInputError

    return (SourcesError, WarcInputError, DataDirBusy, ValueError), DedupIndexError


def main(argv: list[str] | None = None, *, whole_process: bool = False) -> int:
    """`whole_process`: the command has this process to itself (the `newsmill` program),
    so it may tune the process's garbage collector (see `_api_ready`)."""
    args = build_parser().parse_args(argv)
    args.whole_process = whole_process
    args.api = None
    bad_input: tuple[type[Exception], ...] = (ValueError,)
    index_error: tuple[type[Exception], ...] | type[Exception] = ()
    try:
        if args.command in FLOW_COMMANDS:
            from flows import api_server

            args.api = api_server.start()  # boots while the command imports the pipeline; stops at exit
            if whole_process:
                gc.disable()  # until `_api_ready`: imports make next to no garbage, yet full collections walked them
        bad_input, index_error = _errors()
        settings = load_settings(data_dir=args.data_dir)
        return COMMANDS[args.command](args, settings)
    except bad_input as exc:
        print(f"newsmill {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except index_error as exc:
        hint = "" if args.command == "reindex" else "; `newsmill reindex` rebuilds it from the dataset"
        print(f"newsmill {args.command}: error: dedup index: {exc}{hint}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `newsmill stats | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # disk full, permissions: what landed before stays landed
        print(f"newsmill {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"newsmill {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        if whole_process:  # as it was: what was frozen is collectable again at exit
            gc.unfreeze()
            gc.enable()


def _api_ready(args: argparse.Namespace, head_start: Callable[[], None] | None = None) -> None:
    """Wait for the temporary Prefect API started in `main`, once the flow's imports are
    done; what the first batch would load lazily is loaded meanwhile (the server's boot
    takes one core, this the other), the garbage collector is set for the run (when the
    command has the process to itself), then `head_start` starts the flow's first work."""
    if args.api is not None:
        from pipelines import dedup, pageparse

        pageparse.warm_up()
        dedup.warm_up()
    if args.whole_process:
        # What is loaded by now (prefect, pydantic, trafilatura, numba) lives as long as the
        # command: out of the collector's sight. And a young generation ten times the
        # default: a batch keeps ~10^5 objects alive, which the default thresholds walked
        # again and again in full collections (GC was 1.7 s of a 5,400-page backfill's flow
        # process, 0.6 s with these). Before any fork: children inherit it.
        gc.freeze()
        gc.set_threshold(7000, 20, 20)
        gc.enable()
    if args.api is not None:
        if head_start is not None:
            head_start()
        args.api.wait()


@contextlib.contextmanager
def _flow_settings(args: argparse.Namespace) -> Iterator[None]:
    """Prefect settings for the command's flow run. On the command's own temporary API,
    no heartbeats: they let a lasting server mark a run that died as crashed, but this
    server stops with the run, and ending the heartbeat thread costs each run up to 1 s
    (it sleeps in whole seconds before it sees the stop)."""
    if args.api is None:
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _print_report(report: dict) -> int:
    from flows.report import summary_lines

    print("\n".join(summary_lines(report)))
    print(f"  report: {report['report_path']}")
    nothing_done = report["status"] == "failed" and not report["totals"].get("rows_landed")
    return 1 if nothing_done else 0


def cmd_crawl(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.sources import load_sources

    load_sources(args.sources)  # a bad file fails here, before Prefect starts
    from flows.crawl import crawl_flow

    _api_ready(args)
    with _flow_settings(args):
        report = crawl_flow(str(args.sources), str(settings.data_dir), args.since, args.until, args.max_pages,
                            args.scrapy_settings)
    return _print_report(report)


def cmd_backfill(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.warc_read import expand_inputs

    expand_inputs(args.warcs)  # a missing file fails here, before Prefect starts
    from flows.backfill import run_backfill, start_backfill

    # reading and the first batch's pass 1 begin while the API boots; the flow takes them over
    _api_ready(args, lambda: start_backfill(args.warcs, str(settings.data_dir), args.source, args.dask,
                                            args.batch_pages))
    with _flow_settings(args):
        report = run_backfill(args.warcs, str(settings.data_dir), args.since, args.until, args.source, args.dask,
                              args.batch_pages)
    code = _print_report(report)
    files = report["files"]
    print(f"  WARC files: {len(files['warc_processed'])} processed, {len(files['warc_skipped_done'])} skipped "
          f"(done before), {len(files['warc_failed'])} failed")
    return code


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.sources import load_sources

    load_sources(args.sources)
    from flows.serve import serve_crawl

    return serve_crawl(args.sources, args.cron, settings.data_dir)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from flows.demo import run_demo

    with _flow_settings(args):
        return run_demo(settings, ready=lambda: _api_ready(args))


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.dedup import rebuild_index
    from pipelines.layout import DataDir
    from pipelines.lock import RunLock

    data = DataDir(settings.data_dir)
    with RunLock(data.state).acquire("reindex"):
        rows = rebuild_index(data.state, str(data.articles / "**" / "*.parquet"), settings)
    print(f"dedup index rebuilt from {data.articles}: {rows} rows indexed")
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    from flows.stats import dataset_stats, stats_lines
    from pipelines.layout import DataDir

    data = DataDir(settings.data_dir)
    print("\n".join(stats_lines(dataset_stats(data), data)))
    return 0


COMMANDS = {"crawl": cmd_crawl, "serve": cmd_serve, "backfill": cmd_backfill, "demo": cmd_demo, "reindex": cmd_reindex, "stats": cmd_stats}


def run() -> None:
    """The `newsmill` program: `main`, then out without the interpreter's teardown, which
    spends ~0.7 s freeing Prefect's, pydantic's and numba's modules after the work is
    done. (Not `main`'s job: tests call it in their own process.)"""
    code: list[int] = []
    atexit.register(_exit_now, code)  # registered first, so it runs after the hooks registered later
    code.append(main(whole_process=True))
    sys.exit(code[0])


def _exit_now(code: list[int]) -> None:
    """The last exit hook: Prefect's workers have drained (threading's exit hooks run
    before these), the temporary API has stopped, every file we wrote is closed."""
    if not code:  # main raised: the usual exit, traceback and all
        return
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code[0])


if __name__ == "__main__":
    run()
