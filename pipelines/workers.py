"""A pool of worker processes with a per-task timeout and a memory cap.

Each worker runs one task at a time. A task that outlives `timeout_s` gets its
worker killed and replaced; a worker whose address space would grow past
`max_mem_mb` (RLIMIT_AS, counted above the worker's size at start) fails the task
with "memory" and is replaced too, as is a worker that dies outright. The batch
goes on: every item yields exactly one outcome, in completion order.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import resource
import signal
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

Task = Callable[[Any], Any]


@dataclass(slots=True)
class Outcome:
    index: int
    ok: bool
    value: Any = None  # the task's result when ok
    reason: str = ""  # "timeout" | "memory" | "error" when not ok
    detail: str = ""


def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _worker_main(conn: Connection, func: Task, max_mem_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    if max_mem_mb > 0:
        cap = _vm_size_bytes() + max_mem_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        index, item = msg
        try:
            out: tuple = (index, True, func(item), "", "")
        except MemoryError:
            out = (index, False, None, "memory", "MemoryError")
        except RecursionError as exc:
            out = (index, False, None, "error", f"RecursionError: {exc}"[:200])
        except Exception as exc:  # noqa: BLE001 - a bad page is a counted drop, never a crash of the batch
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            out = (index, False, None, "error", tb[:300])
        try:
            conn.send(out)
        except MemoryError:
            conn.send((index, False, None, "memory", "result too large"))
        if not out[1] and out[3] == "memory":
            return  # a worker that hit its cap may be in a bad state: let the parent replace it


class _Worker:
    def __init__(self, ctx: Any, func: Task, max_mem_mb: int) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, func, max_mem_mb), daemon=True)
        # frozen at fork: the child's GC neither scans nor copies what the parent holds;
        # the parent unfreezes at once, so nothing of its own stays uncollectable
        gc.freeze()
        try:
            self.proc.start()
        finally:
            gc.unfreeze()
        child.close()
        self.task: int | None = None
        self.deadline = 0.0

    def submit(self, index: int, item: Any, timeout_s: float) -> None:
        self.task = index
        self.deadline = time.monotonic() + timeout_s
        self.conn.send((index, item))

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        self.conn.close()


def run_tasks(
    func: Task,
    items: Iterable[Any],
    workers: int,
    timeout_s: float,
    max_mem_mb: int = 0,
    stats: dict[str, float] | None = None,
) -> Iterator[Outcome]:
    """Run `func` over `items` in `workers` processes; one Outcome per item.

    `stats`, when given, receives "workers/started" and "workers/replaced".
    """
    ctx = mp.get_context("fork")
    pending = list(enumerate(items))
    if not pending:
        return
    pending.reverse()
    pool = [_Worker(ctx, func, max_mem_mb) for _ in range(max(1, min(workers, len(pending) or 1)))]
    replaced = 0
    try:
        for w in pool:
            if pending:
                w.submit(*pending.pop(), timeout_s)
        while any(w.task is not None for w in pool):
            busy = [w for w in pool if w.task is not None]
            now = time.monotonic()
            ready = wait([w.conn for w in busy], timeout=max(0.0, min(w.deadline for w in busy) - now))
            for i, w in enumerate(pool):
                if w.task is None:
                    continue
                outcome: Outcome | None = None
                if w.conn in ready:
                    try:
                        index, ok, value, reason, detail = w.conn.recv()
                        outcome = Outcome(index, ok, value, reason, detail)
                    except (EOFError, OSError):
                        w.proc.join(1)
                        code = w.proc.exitcode
                        reason = "memory" if code == -signal.SIGKILL else "error"
                        outcome = Outcome(w.task, False, None, reason, f"worker died (exit {code})")
                elif time.monotonic() >= w.deadline:
                    outcome = Outcome(w.task, False, None, "timeout", f"> {timeout_s:g}s")
                if outcome is None:
                    continue
                dead = (not outcome.ok and outcome.reason in ("timeout", "memory")) or not w.proc.is_alive()
                if not outcome.ok and outcome.detail.startswith("worker died"):
                    dead = True
                w.task = None
                if dead:
                    w.kill()
                    pool[i] = w = _Worker(ctx, func, max_mem_mb)
                    replaced += 1
                yield outcome
                if pending:
                    w.submit(*pending.pop(), timeout_s)
    finally:
        for w in pool:
            if w.task is not None:
                w.kill()
            else:
                w.stop()
        if stats is not None:
            stats["workers/started"] = stats.get("workers/started", 0) + len(pool) + replaced
            stats["workers/replaced"] = stats.get("workers/replaced", 0) + replaced
