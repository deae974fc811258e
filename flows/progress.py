"""How far a long command is: a bar on a terminal, plain log lines elsewhere.

    with progress("WARC files", total=len(files), log=logger.info) as step:
        step(advance=1, note="1,200 rows")

On a terminal (stderr is a TTY) a rich progress bar is drawn on stderr: done of
total (or a count when the total is unknown, as in a crawl), elapsed time, and a
short note. Anywhere else (CI, cron, a log file) each step is one plain line
through `log`, at most one every `every_s` seconds, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol


class Step(Protocol):
    def __call__(self, advance: int = 0, *, completed: int | None = None, note: str = "") -> None: ...


def on_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress(what: str, total: int | None, log: Callable[[str], object], every_s: float = 0.0) -> Iterator[Step]:
    if on_terminal():
        with _bar(what, total) as step:
            yield step
        return
    done, last = 0, 0.0

    def step(advance: int = 0, *, completed: int | None = None, note: str = "") -> None:
        nonlocal done, last
        done = completed if completed is not None else done + advance
        now = time.monotonic()
        if every_s and now - last < every_s and (total is None or done < total):
            return
        last = now
        of = f" of {total}" if total is not None else ""
        log(f"{what}: {done}{of}" + (f"; {note}" if note else ""))

    yield step


@contextmanager
def _bar(what: str, total: int | None) -> Iterator[Step]:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn() if total is not None else TextColumn("{task.completed}"),
               TimeElapsedColumn(), TextColumn("{task.fields[note]}")]
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(what, total=total, note="")

        def step(advance: int = 0, *, completed: int | None = None, note: str = "") -> None:
            if completed is not None:
                bar.update(task, completed=completed, note=note)
            else:
                bar.update(task, advance=advance, note=note)

        yield step
