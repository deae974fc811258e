"""Pass 1 of the next batch in a forked process, while this one lands the current batch.

A batch's pass 1 (`extract.parse_stream`) is most of its CPU and runs in worker
processes; the rest (learning templates, dedup, Parquet, the index commit) runs
in the flow's process while those workers would sit idle. Here the next batch's
pass 1 runs meanwhile, in a child forked from the flow's thread, which forks its
workers from a process with no other thread. (Not a thread of the flow: a worker
forked while another thread is inside lxml can inherit a held lock and hang.)

    job = start(pages, settings, cuts)      # returns at once
    ...                               # land the batch before
    first, ident, stats = job.result()   # None: the child failed; run pass 1 here

Results come back in parts as they are made, and a thread here unpickles them on
arrival: when the last page is done, the batch is all but ready, instead of a
batch's worth of unpickling holding up the next batch while a core idles. (That
thread only reads a pipe and unpickles plain data, never lxml: processes the flow
forks meanwhile, such as the pass-2 re-extraction pool, inherit no lock of it.)

The child dies with the flow, and its workers with it (`lifetime.die_with_parent`):
a killed run leaves nothing running and loses nothing landed.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import pickle
import signal
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection

from pipelines.extract import parse_stream
from pipelines.lifetime import die_with_parent
from pipelines.models import Dropped, Page
from pipelines.pageparse import Cut, Parsed
from pipelines.settings import Settings

Pass1 = tuple[list[Parsed | Dropped], dict[int, tuple[str, str]], dict[str, float]]


PART_PAGES = 64  # results per message from the child


def _child(conn: Connection, reader: Connection, pages: list[Page], settings: Settings, cuts: dict[str, Cut],
           parent: int) -> None:
    gc.freeze()  # as in the workers: our GC neither scans nor copies what the flow held at fork
    reader.close()  # the parent's end: ours would keep the pipe open if the parent died
    # Forked from the flow: Prefect's SIGTERM handler would raise in here on terminate().
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the flow's to handle
    die_with_parent(parent)
    stats: dict[str, float] = {}
    try:
        part: list = []
        # pickled by the workers, unpickled once, by the parent
        for item in parse_stream(pages, settings, stats, cuts, pickled=True):
            part.append(item)
            if len(part) >= PART_PAGES:
                conn.send_bytes(pickle.dumps(("part", part), pickle.HIGHEST_PROTOCOL))
                part = []
        payload = pickle.dumps(("ok", part, stats), pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which runs pass 1 itself
        payload = pickle.dumps(("error", f"{type(exc).__name__}: {exc}"[:300]), pickle.HIGHEST_PROTOCOL)
    conn.send_bytes(payload)
    conn.close()


@dataclass
class Job:
    proc: mp.Process
    conn: Connection
    cuts: dict[str, Cut]  # the templates this pass 1 cut (a redo here must cut the same)
    size: int  # pages
    error: str = ""
    _done: Pass1 | None = None
    _receiver: threading.Thread | None = None

    def _receive(self) -> None:
        """The receiving thread: parts unpickled as they arrive, until the last one (the
        child never waits on a full pipe, whatever this process is doing meanwhile)."""
        first: list[Parsed | Dropped] = [Dropped("", "error")] * self.size
        ident: dict[int, tuple[str, str]] = {}
        try:
            while True:
                msg = pickle.loads(self.conn.recv_bytes())
                if msg[0] == "error":
                    self.error = f"pass-1 process failed: {msg[1]}"
                    return
                for i, key, result in msg[1]:
                    first[i] = pickle.loads(result) if isinstance(result, bytes) else result
                    if key is not None:
                        ident[i] = key
                if msg[0] == "ok":
                    self._done = first, ident, msg[2]
                    return
        except (EOFError, OSError) as exc:
            self.proc.join(5)
            self.error = f"pass-1 process died (exit {self.proc.exitcode}): {exc or 'no result'}"
        finally:
            self.conn.close()

    def result(self) -> Pass1 | None:
        """Wait for the child's pass 1; None (and `error` says why) when it failed or died."""
        self._receiver.join()
        self.proc.join(10)
        return self._done

    def cancel(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self._receiver.join(5)  # ends at EOF: the child and its workers are gone


def start(pages: list[Page], settings: Settings, cuts: dict[str, Cut] | None = None) -> Job:
    """Fork the child that runs pass 1 (`parse_stream(pages, cuts)`); the pages are inherited, not sent."""
    ctx = mp.get_context("fork")
    conn, child = ctx.Pipe(duplex=False)
    # Not a daemon: a daemonic process may not fork its workers. `cancel` or `result`
    # always reaps it.
    proc = ctx.Process(target=_child, args=(child, conn, pages, settings, cuts or {}, os.getpid()), name="newsmill-pass1")
    proc.start()
    child.close()
    job = Job(proc, conn, cuts or {}, len(pages))
    job._receiver = threading.Thread(target=job._receive, name="newsmill-pass1-results", daemon=True)
    job._receiver.start()
    return job
