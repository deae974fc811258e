"""Pass 1 of the next batch in a forked process, while this one lands the current batch.

A batch's pass 1 (`extract.parse_all`) is most of its CPU and runs in worker
processes; the rest (learning templates, dedup, Parquet, the index commit) runs
in the flow's process while those workers would sit idle. Here the next batch's
pass 1 runs meanwhile, in a child forked from the flow's thread, which forks its
workers from a process with no other thread. (Not a thread of the flow: a worker
forked while another thread is inside lxml can inherit a held lock and hang.)

    job = start(pages, settings, cuts)      # returns at once
    ...                               # land the batch before
    first, ident, stats = job.result()   # None: the child failed; run pass 1 here

The child dies with the flow, and its workers with it (`lifetime.die_with_parent`):
a killed run leaves nothing running and loses nothing landed.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import pickle
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection

from pipelines.extract import parse_all, unpickled
from pipelines.lifetime import die_with_parent
from pipelines.models import Dropped, Page
from pipelines.pageparse import Cut, Parsed
from pipelines.settings import Settings

Pass1 = tuple[list[Parsed | Dropped], dict[int, tuple[str, str]], dict[str, float]]


def _child(conn: Connection, reader: Connection, pages: list[Page], settings: Settings, cuts: dict[str, Cut],
           parent: int) -> None:
    reader.close()  # the parent's end: ours would keep the pipe open if the parent died
    # Forked from the flow: Prefect's SIGTERM handler would raise in here on terminate().
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the flow's to handle
    die_with_parent(parent)
    stats: dict[str, float] = {}
    try:
        first, ident = parse_all(pages, settings, stats, cuts, pickled=True)  # unpickled once, by the parent
        payload = pickle.dumps(("ok", first, ident, stats), pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which runs pass 1 itself
        payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"[:300]), pickle.HIGHEST_PROTOCOL)
    conn.send_bytes(payload)
    conn.close()


@dataclass
class Job:
    proc: mp.Process
    conn: Connection
    cuts: dict[str, Cut]  # the templates this pass 1 cut (a redo here must cut the same)
    error: str = ""

    def result(self) -> Pass1 | None:
        """Wait for the child's pass 1; None (and `error` says why) when it failed or died."""
        try:
            msg = pickle.loads(self.conn.recv_bytes())
        except (EOFError, OSError) as exc:
            self.proc.join(5)
            self.error = f"pass-1 process died (exit {self.proc.exitcode}): {exc or 'no result'}"
            return None
        finally:
            self.conn.close()
        self.proc.join(10)
        if msg[0] != "ok":
            self.error = f"pass-1 process failed: {msg[1]}"
            return None
        _, first, ident, stats = msg
        return unpickled(first), ident, stats

    def cancel(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


def start(pages: list[Page], settings: Settings, cuts: dict[str, Cut] | None = None) -> Job:
    """Fork the child that runs `parse_all(pages, cuts)`; the pages are inherited, not sent."""
    ctx = mp.get_context("fork")
    conn, child = ctx.Pipe(duplex=False)
    # Not a daemon: a daemonic process may not fork its workers. `cancel` or `result`
    # always reaps it.
    proc = ctx.Process(target=_child, args=(child, conn, pages, settings, cuts or {}, os.getpid()), name="newsmill-pass1")
    gc.freeze()  # as for the workers: the child's GC neither scans nor copies what we hold
    try:
        proc.start()
    finally:
        gc.unfreeze()
    child.close()
    return Job(proc, conn, cuts or {})
