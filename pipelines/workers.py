"""A pool of worker processes with a per-task timeout and a memory cap.

Each worker runs its tasks one at a time, in the order sent, with up to `depth`
tasks in flight so it never waits on the parent. The task at the head of a
worker's queue has a deadline `timeout_s` after it started (when the previous
result came back); past it, the worker is killed and replaced, that task fails
with "timeout" and the tasks queued behind it are sent again, to any worker: one
bad task never costs a good one. A worker whose address space would grow past
`max_mem_mb` (RLIMIT_AS, counted above the worker's size at start) fails its task
with "memory" and is replaced too, as is a worker that dies outright. Every item
yields exactly one outcome, in completion order. Workers end with the parent,
even when it is killed outright.

Workers are forked: `func` and what it refers to (a batch of pages) are
inherited, not pickled, so items can be small (an index into that batch). A task
message is only queued behind another when it is small enough to sit in the
socket buffer; a bigger one waits until its worker is idle, so parent and worker
never block on each other's full buffer.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import pickle
import resource
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from pipelines.lifetime import die_with_parent

Task = Callable[[Any], Any]
QUEUE_MAX_BYTES = 16 * 1024  # a task message this small never fills the socket buffer


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


def _worker_main(conn: Connection, parent_end: Connection, func: Task, max_mem_mb: int, parent: int) -> None:
    # What the parent held at fork is frozen here, first thing: the child's GC then
    # neither scans it nor, writing to it, copies its pages.
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    # Our copy of the parent's end would keep our own pipe open after the parent died;
    # and a parent killed outright ends us too.
    parent_end.close()
    die_with_parent(parent)
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
            conn.send((*out, time.process_time()))
        except MemoryError:
            conn.send((index, False, None, "memory", "result too large", time.process_time()))
        if not out[1] and out[3] == "memory":
            return  # a worker that hit its cap may be in a bad state: let the parent replace it


class _Worker:
    def __init__(self, ctx: Any, func: Task, max_mem_mb: int) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, self.conn, func, max_mem_mb, os.getpid()),
                                daemon=True)
        self.proc.start()
        child.close()
        self.queue: deque[tuple[int, bytes]] = deque()  # in flight, in the order sent
        self.started = 0.0  # when the task at the head of the queue started
        self.cpu = 0.0  # CPU seconds the worker had used at its last result

    def can_take(self, depth: int, size: int) -> bool:
        return not self.queue or (len(self.queue) < depth and size <= QUEUE_MAX_BYTES)

    def submit(self, index: int, payload: bytes) -> None:
        if not self.queue:
            self.started = time.monotonic()
        self.queue.append((index, payload))
        self.conn.send_bytes(payload)

    def done(self) -> None:
        """The head task's result came back: the next one starts now."""
        self.queue.popleft()
        self.started = time.monotonic()

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
    depth: int = 2,
) -> Iterator[Outcome]:
    """Run `func` over `items` in `workers` processes; one Outcome per item.

    `depth`: tasks in flight per worker. `stats`, when given, receives
    "workers/started", "workers/replaced", "workers/cpu_s" (CPU seconds of all
    workers, as of their last result) and "workers/cpu_max_s" (of the busiest one).
    """
    ctx = mp.get_context("fork")
    pending = [(i, pickle.dumps((i, item), pickle.HIGHEST_PROTOCOL)) for i, item in enumerate(items)]
    if not pending:
        return
    pending.reverse()  # a stack: the next task is at the end
    pool = [_Worker(ctx, func, max_mem_mb) for _ in range(max(1, min(workers, len(pending))))]
    replaced = 0
    cpu: list[float] = []  # of the workers replaced

    def feed() -> None:
        for w in pool:
            while pending and w.can_take(depth, len(pending[-1][1])):
                w.submit(*pending.pop())

    try:
        feed()
        while any(w.queue for w in pool):
            busy = [w for w in pool if w.queue]
            now = time.monotonic()
            timeout = max(0.0, min(w.started for w in busy) + timeout_s - now)
            ready = wait([w.conn for w in busy], timeout=timeout)
            for i, w in enumerate(pool):
                if not w.queue:
                    continue
                head = w.queue[0][0]
                outcome: Outcome | None = None
                if w.conn in ready:
                    try:
                        index, ok, value, reason, detail, w.cpu = w.conn.recv()
                        outcome = Outcome(index, ok, value, reason, detail)
                    except (EOFError, OSError):
                        w.proc.join(1)
                        code = w.proc.exitcode
                        reason = "memory" if code == -signal.SIGKILL else "error"
                        outcome = Outcome(head, False, None, reason, f"worker died (exit {code})")
                elif time.monotonic() >= w.started + timeout_s:
                    outcome = Outcome(head, False, None, "timeout", f"> {timeout_s:g}s")
                if outcome is None:
                    continue
                w.done()
                dead = (not outcome.ok and outcome.reason in ("timeout", "memory")) or not w.proc.is_alive()
                if not outcome.ok and outcome.detail.startswith("worker died"):
                    dead = True
                if dead:
                    pending.extend(reversed(w.queue))  # queued behind the bad task: sent again
                    w.kill()
                    cpu.append(w.cpu)
                    pool[i] = _Worker(ctx, func, max_mem_mb)
                    replaced += 1
                feed()  # before the caller's turn: workers stay busy while it handles the outcome
                yield outcome
    finally:
        for w in pool:
            if w.queue:
                w.kill()
            else:
                w.stop()
        if stats is not None:
            cpu += [w.cpu for w in pool]
            stats["workers/cpu_s"] = stats.get("workers/cpu_s", 0) + sum(cpu)
            stats["workers/cpu_max_s"] = stats.get("workers/cpu_max_s", 0) + max(cpu)
            stats["workers/started"] = stats.get("workers/started", 0) + len(pool) + replaced
            stats["workers/replaced"] = stats.get("workers/replaced", 0) + replaced
