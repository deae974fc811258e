"""WARC files -> articles in Parquet: the processing shared by crawl and backfill.

Files are read in parallel and landed in order, one batch of ~PAGES_PER_BATCH
pages at a time:

    reader processes (read + decompress + parse WARC records, a bounded queue each)
      -> pass 1 of extraction (pipelines.ahead: a process with its own pool of
         workers), for the next batch while this one lands
      -> pass 2 (templates), dedup + Parquet + index commit + completion markers,
         here, single writer

The run report's `extract` seconds are what this process spent on extraction
(waiting for pass 1, then pass 2); `extract/pass1` is pass 1's own time, most of
it hidden behind the batch before. `newsmill backfill` starts the readers and the
first batch's pass 1 before the flow, while Prefect's temporary API boots
(`start_head`); the flow takes that work over when it is for the same files.

With a Dask task runner (`newsmill backfill --dask ADDRESS`), each file is read
and parsed (extraction pass 1) on the cluster instead, a few files ahead; the
rest of the batch is the same. A file that cannot be read is recorded with its
reason and the others go on; its rows landed before the error stay, and a later
run reads it again (no completion marker) without landing anything twice.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import os
import queue
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from prefect import get_run_logger
from prefect.context import get_run_context
from prefect.utilities.annotations import quote

from flows.progress import progress
from flows.tasks import (
    READ_RETRY_DELAYS,
    ParsedFile,
    RunContext,
    StageTotals,
    commit,
    dedup,
    extract,
    in_window,
    landed_before,
    mark_seen,
    parse_warc,
    write,
)
from pipelines import ahead
from pipelines.dedup import Deduper
from pipelines.extract import Learned, parse_all
from pipelines.layout import DataDir
from pipelines.lifetime import die_with_parent
from pipelines.markers import is_done
from pipelines.models import Dropped, Page
from pipelines.pageparse import Parsed
from pipelines.settings import Settings
from pipelines.templates import Filter, TemplateStore
from pipelines.warc_read import ReadStats, is_transient, read_error_reason, read_pages

PAGES_PER_BATCH = 2000  # bounds memory; template learning also keeps state across batches
PAGES_PER_CHUNK = 250  # a reader hands pages over in chunks of this many
CHUNKS_AHEAD = 3  # per reader: its queue's size, so memory stays bounded whatever the file size


@dataclass
class Chunk:
    """Pages of one file, in file order; `last` closes the file with its stats or error."""

    path: str
    pages: list[Page]
    last: bool = False
    stats: ReadStats | None = None
    error: str = ""
    parsed: list[Parsed | Dropped] | None = None  # pass 1 already done (Dask)
    waited: float = 0.0  # seconds the flow waited for this chunk (the report's read_wait)


@dataclass
class Batch:
    pages: list[Page] = field(default_factory=list)
    parsed: list[Parsed | Dropped] | None = None  # pass 1, one per page, once done
    ident: dict[int, tuple[str, str]] | None = None  # (domain, page id) of the parsed pages, by index
    filters: dict[str, Filter] | None = None  # templates learned with this batch, by domain (else pass 2 learns)
    closed: list[str] = field(default_factory=list)  # files whose last chunk is in this batch


def pending(state: Path, warcs: list[str]) -> list[str]:
    """The files of `warcs` without a completion marker in `state`."""
    return [w for w in warcs if not is_done(state, w)]


def process_warcs(ctx: RunContext, warcs: list[str], totals: StageTotals,
                  batch_pages: int = PAGES_PER_BATCH) -> StageTotals:
    """Extract, dedup and land every WARC file of `warcs` that is not done yet."""
    log = get_run_logger()
    todo = pending(ctx.data.state, warcs)
    done_before = set(warcs) - set(todo)
    totals.files_skipped += [w for w in warcs if w in done_before]
    totals.counts["warc_files_skipped_done"] += len(done_before)
    if not todo:
        take_head(todo, ctx, batch_pages)  # a head start (for other files) is stopped
        return totals
    deduper = Deduper.open(ctx.data.state, ctx.settings)
    try:
        # rows of a run killed between landing Parquet and committing the index
        reindexed = deduper.reconcile(str(ctx.data.articles / "**" / "*.parquet"))
        if reindexed:
            log.info("index reconciled with the dataset: %d rows", reindexed)
        head = take_head(todo, ctx, batch_pages)
        if _dask_runner():  # pass 1 on the cluster, a few files ahead
            if head is not None:
                head.cancel()
            batches = _batches(_dask_chunks(ctx, todo), totals, batch_pages)
        elif head is not None:  # reading and the first batch's pass 1 started before the flow
            totals.counts["pages_started_before_flow"] = sum(len(c.pages) for c in head.first)
            batches = _parsed_ahead(ctx, _batches(chain(head.first, head.chunks), totals, batch_pages), totals,
                                    head.learned, head.job)
        else:  # pass 1 of the next batch in its own process while this one lands
            chunks = _read_chunks(todo, ctx.settings, ctx.source_label)
            batches = _parsed_ahead(ctx, _batches(chunks, totals, batch_pages), totals,
                                    Learned(TemplateStore(ctx.data.state)))
        started = time.monotonic()
        with contextlib.closing(batches), progress("WARC files landed", len(todo), log.info) as step:
            for batch in batches:
                _skip_landed(ctx, batch, totals)
                _process_batch(ctx, deduper, batch, totals)
                pages = totals.counts["pages_read"]
                step(completed=len(totals.files_done) + len(totals.files_failed),
                     note=f"{totals.counts['rows_landed']:,} rows, {pages:,} pages, "
                          f"{pages / max(time.monotonic() - started, 1e-9):.0f} pages/s")
    finally:
        deduper.close()
    return totals


def _batches(chunks: Iterator[Chunk], totals: StageTotals, batch_pages: int) -> Iterator[Batch]:
    batch = Batch()
    for chunk in chunks:
        totals.seconds["read_wait"] += chunk.waited
        if chunk.parsed is not None:
            batch.parsed = (batch.parsed or []) + chunk.parsed
        batch.pages += chunk.pages
        if chunk.last:
            if chunk.error:
                totals.files_failed[chunk.path] = chunk.error
                totals.counts["warc_files_failed"] += 1
            else:
                batch.closed.append(chunk.path)
            if chunk.stats is not None:
                totals.counts["warc_records"] += chunk.stats.records
                totals.counts["pages_read"] += chunk.stats.pages
                for reason, n in chunk.stats.skipped.items():
                    totals.dropped[f"read/{reason}"] += n
        if len(batch.pages) >= batch_pages:
            yield batch
            batch = Batch()
    if batch.pages or batch.closed:
        yield batch


# ---- default: reader processes ------------------------------------------------------


def _read_chunks(files: list[str], settings: Settings, source_label: str | None) -> Iterator[Chunk]:
    """Chunks of every file, in file order; file i is read by reader i % n, ahead of use."""
    n = max(1, min(settings.worker_count, len(files)))
    mpc = mp.get_context("fork")
    queues = [mpc.Queue(maxsize=CHUNKS_AHEAD) for _ in range(n)]
    procs = [mpc.Process(target=_reader_main, args=(files[r::n], q, source_label, os.getpid()),
                         name=f"newsmill-reader-{r}", daemon=True) for r, q in enumerate(queues)]
    for p in procs:
        p.start()
    try:
        for i, path in enumerate(files):
            q, proc = queues[i % n], procs[i % n]
            while True:
                started = time.monotonic()
                chunk = _get(q, proc, path)
                chunk.waited = time.monotonic() - started
                yield chunk
                if chunk.last:
                    break
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join(5)
        for q in queues:
            q.close()
            q.cancel_join_thread()


def _get(q, proc, path: str) -> Chunk:
    while True:
        try:
            return q.get(timeout=1.0)
        except queue.Empty:
            if not proc.is_alive():  # killed (OOM) or crashed without a word
                return Chunk(path, [], last=True, error=f"reader process died (exit {proc.exitcode})")


def _reader_main(paths: list[str], q, source_label: str | None, parent: int) -> None:
    # Forked from the flow: drop Prefect's SIGTERM handler, so the parent's terminate()
    # ends a reader quietly instead of raising Prefect's TerminationSignal in it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # kill -9 of the run alone: a reader blocked on its queue's pipe would otherwise live on
    die_with_parent(parent)

    def put(chunk: Chunk) -> None:
        while True:
            try:
                q.put(chunk, timeout=1.0)
                return
            except queue.Full:
                if os.getppid() != parent:  # the run was killed: stop reading
                    os._exit(0)

    for path in paths:
        sent = 0  # pages handed over; a retry skips them
        for attempt in range(len(READ_RETRY_DELAYS) + 1):
            stats, chunk = ReadStats(), []
            try:
                for k, page in enumerate(read_pages(path, stats, default_source=source_label)):
                    if k < sent:
                        continue
                    chunk.append(page)
                    if len(chunk) >= PAGES_PER_CHUNK:
                        put(Chunk(path, chunk))
                        sent, chunk = sent + len(chunk), []
                put(Chunk(path, chunk, last=True, stats=stats))
                break
            except Exception as exc:  # noqa: BLE001 - recorded for the report; the other files go on
                if is_transient(exc) and attempt < len(READ_RETRY_DELAYS):
                    time.sleep(READ_RETRY_DELAYS[attempt])
                    continue
                # what was read before a bad record is landed; the file stays unmarked
                put(Chunk(path, chunk, last=True, stats=stats, error=read_error_reason(exc)))
                break
    q.close()
    q.join_thread()


# ---- default: pass 1 one batch ahead ---------------------------------------------------


def _parsed_ahead(ctx: RunContext, batches: Iterator[Batch], totals: StageTotals, learned: Learned,
                  first_job: ahead.Job | None = None) -> Iterator[Batch]:
    """Each batch with its pass 1 done and its templates learned; the next batch's pass 1
    runs (pipelines.ahead) while the caller lands this one, cutting the templates known
    by then. A failed look-ahead is redone here: no page is lost. `first_job`: the first
    batch's pass 1, already started (`start_head`)."""

    def start(batch: Batch | None) -> ahead.Job | None:
        return ahead.start(batch.pages, ctx.settings, learned.cuts(batch.pages)) if batch and batch.pages else None

    job = first_job
    try:
        nxt = next(batches, None)
        if job is None:
            job = start(nxt)
        while nxt is not None:
            batch = nxt
            if batch.pages:
                started = time.monotonic()
                done = job.result() if job is not None else None
                if done is None:
                    if job is not None and job.error:
                        get_run_logger().warning("%s; pass 1 of this batch runs again here", job.error)
                        totals.counts["pass1_redone"] += 1
                    stats: dict[str, float] = {}
                    first, ident = parse_all(batch.pages, ctx.settings, stats, job.cuts if job else None)
                    done = first, ident, stats
                batch.parsed, batch.ident, stats = done
                totals.seconds["extract/pass1"] += stats.get("seconds/parse", 0.0)
                # learned before the next batch's pass 1 starts, so that one cuts these templates
                # (saved once it has started: it only needs them in memory)
                batch.filters = learned.learn(batch.pages, batch.parsed, batch.ident, save=False)
                if learned.store.unreadable:  # read as empty: relearned, not an error
                    totals.counts["templates_state_unreadable"] = len(learned.store.unreadable)
                totals.seconds["extract"] += time.monotonic() - started  # waited for (overlap not counted)
            nxt = next(batches, None)
            job = start(nxt)
            learned.store.save_unsaved()
            yield batch
    finally:
        if job is not None:
            job.cancel()


# ---- default: a head start, before the flow ----------------------------------------------


@dataclass
class HeadStart:
    """Reading, and pass 1 of the first batch, started before the flow (`start_head`)."""

    files: list[str]  # the files not done yet, in order
    settings: Settings
    source_label: str | None
    batch_pages: int
    first: list[Chunk]  # the first batch's chunks, already read; `chunks` goes on after them
    chunks: Iterator[Chunk]
    learned: Learned
    job: ahead.Job | None

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
        self.chunks.close()  # stops the readers


_HEAD: list[HeadStart] = []  # at most one: started by the command, taken over by its flow


def start_head(files: list[str], settings: Settings, source_label: str | None,
               batch_pages: int = PAGES_PER_BATCH) -> None:
    """Start reading `files` (those not done yet) and pass 1 of their first batch now.

    `newsmill backfill` calls this while Prefect's temporary API boots: seconds in which
    one core would idle. Nothing is written: the flow takes the work over under its lock
    (`take_head`) if it is for the same files, and stops it otherwise."""
    state = DataDir(settings.data_dir).state
    todo = pending(state, files)
    if not todo:
        return
    chunks = _read_chunks(todo, settings, source_label)
    first: list[Chunk] = []
    n = 0
    for chunk in chunks:  # as `_batches` cuts its first batch
        first.append(chunk)
        n += len(chunk.pages)
        if n >= batch_pages:
            break
    pages = [p for c in first for p in c.pages]
    learned = Learned(TemplateStore(state))
    job = ahead.start(pages, settings, learned.cuts(pages)) if pages else None
    head = HeadStart(todo, settings, source_label, batch_pages, first, chunks, learned, job)
    _HEAD.append(head)
    atexit.register(_drop_head, head)  # the flow never came (its API did not start, Ctrl-C)


def _drop_head(head: HeadStart) -> None:
    if head in _HEAD:
        _HEAD.remove(head)
        head.cancel()


def take_head(todo: list[str], ctx: RunContext, batch_pages: int) -> HeadStart | None:
    """The head start, if it was started for exactly this work (never for none); any other
    one is stopped."""
    if not _HEAD:
        return None
    head = _HEAD.pop()
    if (head.files, head.source_label, head.batch_pages, head.settings) != (todo, ctx.source_label, batch_pages,
                                                                              ctx.settings):
        head.cancel()
        return None
    return head


# ---- Dask: read + pass 1 on the cluster -----------------------------------------------


def _dask_runner():
    runner = getattr(get_run_context(), "task_runner", None)
    return runner if type(runner).__name__ == "DaskTaskRunner" else None


def _dask_chunks(ctx: RunContext, files: list[str]) -> Iterator[Chunk]:
    """One task per file on the cluster, as many ahead as the cluster has threads (+1)."""
    runner = _dask_runner()
    ahead = sum(runner.client.nthreads().values()) + 1
    futures = {}
    for i, path in enumerate(files):
        for j in range(i, min(i + ahead, len(files))):
            if j not in futures:
                futures[j] = parse_warc.submit(files[j], ctx.source_label)
        try:
            res: ParsedFile = futures.pop(i).result()
        except Exception as exc:  # noqa: BLE001 - after the declared retries: recorded, the others go on
            yield Chunk(path, [], last=True, error=read_error_reason(exc))
            continue
        yield Chunk(path, res.pages, last=True, stats=res.stats, parsed=res.parsed)


# ---- one batch: extract, dedup, land ---------------------------------------------------


def _skip_landed(ctx: RunContext, batch: Batch, totals: StageTotals) -> None:
    """Drop the pages an earlier backfill already landed (see `landed_before`)."""
    if ctx.kind != "backfill" or not batch.pages:
        return
    skip = landed_before(ctx, quote(batch.pages))
    if skip:
        totals.dropped["read/landed_before"] += len(skip)
        keep = [i for i in range(len(batch.pages)) if i not in skip]
        batch.pages = [batch.pages[i] for i in keep]
        if batch.parsed is not None:
            batch.parsed = [batch.parsed[i] for i in keep]
        batch.ident = None  # by index: recomputed from `parsed`


def _process_batch(ctx: RunContext, deduper: Deduper, batch: Batch, totals: StageTotals) -> None:
    # Big arguments go to tasks quoted: Prefect would otherwise walk every object in
    # them looking for futures (seconds per batch for a batch's parsed pages).
    pages = batch.pages
    source_of = {p.url: p.source for p in pages}
    for p in pages:
        totals.source(p.source)["pages"] += 1

    started = time.monotonic()
    extracted = extract(ctx, quote(pages), quote(batch.parsed), quote(batch.ident), quote(batch.filters)) if pages else None
    totals.seconds["extract"] += time.monotonic() - started
    articles = []
    if extracted is not None:
        for d in extracted.dropped:
            totals.dropped[f"extract/{d.reason}"] += 1
            totals.source(source_of.get(d.url, "?"))[f"dropped/{d.reason}"] += 1
        articles = [a for a in extracted.articles if in_window(a, ctx.since, ctx.until)]
        if len(articles) < len(extracted.articles):
            totals.dropped["extract/outside_date_window"] += len(extracted.articles) - len(articles)
        totals.counts["articles_extracted"] += len(extracted.articles)
        # pages whose first body was mostly template, extracted again without it
        totals.counts["pages_extracted_twice"] += int(extracted.stats.get("reparsed", 0))

    started = time.monotonic()
    rows = []
    if articles:
        result = dedup(ctx, deduper, quote(articles))
        rows = result.rows
        totals.counts["skipped_unchanged"] += result.skipped_unchanged
    totals.seconds["dedup"] += time.monotonic() - started

    # Order matters for a kill at any point: Parquet, then seen URLs, then the index, then markers.
    started = time.monotonic()
    if rows:
        totals.parquet_files += write(ctx, quote(rows))
    if ctx.kind == "backfill" and articles:
        totals.counts["urls_marked_seen"] += mark_seen(ctx, quote(articles), quote({p.url: p.warc_path for p in pages}))
    counts = {"rows": len(rows), "pages": len(pages)}
    commit(ctx, deduper, batch.closed, counts)
    totals.seconds["write"] += time.monotonic() - started

    totals.files_done += batch.closed
    for row in rows:
        src = totals.source(row.source)
        src["rows_landed"] += 1
        src["duplicates" if row.is_duplicate else "new"] += 1
    totals.counts["rows_landed"] += len(rows)
    totals.counts["duplicates"] += sum(r.is_duplicate for r in rows)
