"""Pass 1 in a forked process (pipelines.ahead): the same results as in the flow's
process, a clear None when the process dies, and nothing left running after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bench.backfill import article_pages
from pipelines import ahead
from pipelines.extract import parse_all
from pipelines.models import Page
from pipelines.pageparse import Parsed
from pipelines.settings import Settings

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parent.parent


def _pages(n_sites: int, per_site: int) -> list[Page]:
    return [Page(url, body, 200, {"content-type": ctype}, published, "web")
            for url, ctype, body, published in article_pages(n_sites, per_site)]


def _children(pid: int) -> list[int]:
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(proc.name))
    return out


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_pass_1_ahead_gives_what_pass_1_here_gives():
    pages = _pages(2, 12)
    settings = Settings(workers=2)
    job = ahead.start(pages, settings)
    done = job.result()
    assert done is not None, job.error
    first, ident, stats = done
    here, ident_here = parse_all(pages, settings)
    assert ident == ident_here
    assert [type(p).__name__ for p in first] == [type(p).__name__ for p in here]
    parsed = [(a, b) for a, b in zip(first, here, strict=True) if isinstance(a, Parsed)]
    assert len(parsed) >= 20
    assert all(a.lines == b.lines and a.meta == b.meta and a.blocks == b.blocks for a, b in parsed)
    assert stats["seconds/parse"] > 0 and stats["workers/started"] >= 1
    assert not job.proc.is_alive()


def test_results_stream_back_while_the_flow_is_busy_elsewhere():
    """The child sends its results in parts as they are made, and a thread here takes them
    in: it never waits on a full pipe while the flow lands the batch before (the results of
    240 pages are far more than a pipe holds), and the parts are unpickled on arrival."""
    pages = _pages(3, 80)
    job = ahead.start(pages, Settings(workers=2))
    job.proc.join(90)  # no result() meanwhile: this process is "busy"
    assert job.proc.exitcode == 0, "the pass-1 process did not finish while nobody asked for its results"
    job._receiver.join(10)
    assert not job._receiver.is_alive()  # everything already received and unpickled
    first, ident, _ = job.result()
    assert len(first) == len(pages) and all(isinstance(p, Parsed) for p in first)
    assert sorted(ident) == list(range(len(pages)))
    assert all(p.url == page.url for p, page in zip(first, pages, strict=True))


def test_a_killed_pass_1_process_is_a_clear_none_and_its_workers_go_too():
    pages = _pages(3, 80)  # a few seconds of work
    job = ahead.start(pages, Settings(workers=2))
    deadline = time.monotonic() + 30
    while len(workers := _children(job.proc.pid)) < 2:
        assert time.monotonic() < deadline, "the pass-1 process started no workers"
        time.sleep(0.02)
    os.kill(job.proc.pid, signal.SIGKILL)
    assert job.result() is None
    assert "died" in job.error and "-9" in job.error
    assert _wait_gone(workers, 10) == [], "workers outlived their pass-1 process"


def test_kill_9_of_the_flow_takes_the_pass_1_process_and_its_workers_down(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from tests.test_ahead import _pages
        from pipelines import ahead
        from pipelines.settings import Settings
        job = ahead.start(_pages(3, 200), Settings(workers=2))
        print(job.proc.pid, flush=True)
        time.sleep(120)
    """)
    flow = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        child = int(flow.stdout.readline())
        deadline = time.monotonic() + 30
        while len(workers := _children(child)) < 2:
            assert time.monotonic() < deadline, "the pass-1 process started no workers"
            time.sleep(0.02)
        flow.kill()
        flow.wait(10)
        assert _wait_gone([child, *workers], 10) == [], "the pass-1 process or its workers outlived the flow"
    finally:
        if flow.poll() is None:
            flow.kill()
            flow.wait()
