"""Long commands: a progress bar on a terminal, plain log lines when not (issue 5.4).

The command runs for real (`newsmill backfill` over WARC files of the sample
news web), once with its output on a pseudo-terminal and once piped.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time

from bench.backfill import build_warcs, newsmill_cmd
from flows.progress import progress

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_plain_lines_rate_limited_but_the_last_always_shown(monkeypatch) -> None:
    monkeypatch.setattr("flows.progress.on_terminal", lambda: False)
    lines: list[str] = []
    with progress("WARC files landed", 5, lines.append, every_s=3600) as step:
        for k in range(5):
            step(1, note=f"{k} rows")
    assert lines == ["WARC files landed: 1 of 5; 0 rows", "WARC files landed: 5 of 5; 4 rows"]
    lines.clear()
    with progress("pages fetched", None, lines.append) as step:
        step(completed=40, note="12 pages/min")
    assert lines == ["pages fetched: 40; 12 pages/min"]


def _run_on_pty(cmd: list[str], env: dict, timeout_s: float) -> tuple[int, str]:
    main, sub = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdin=sub, stdout=sub, stderr=sub, close_fds=True)
    os.close(sub)
    out = bytearray()
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # the other side closed (EIO on Linux)
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        return proc.wait(timeout=30), out.decode("utf-8", "replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main)


def test_backfill_draws_a_bar_on_a_terminal_and_logs_lines_otherwise(tmp_path, prefect_api) -> None:
    warcs = tmp_path / "warcs"
    build_warcs(warcs, n_files=2, n_sites=2, articles_per_site=4)
    env = {**os.environ, "NEWSMILL_WORKERS": "2", "PREFECT_API_URL": prefect_api, "COLUMNS": "120",
           "TERM": "xterm", "PREFECT_LOGGING_LEVEL": "INFO"}

    code, tty_out = _run_on_pty([*newsmill_cmd(), "backfill", str(warcs), "--data-dir", str(tmp_path / "a")],
                                env, timeout_s=240)
    assert code == 0, tty_out[-2000:]
    assert ANSI.search(tty_out), "no terminal control sequences: no bar was drawn"
    plain = ANSI.sub("", tty_out)
    assert re.search(r"WARC files landed\s.*2/2", plain), plain[-2000:]
    assert "WARC files landed: 2 of 2" not in plain  # the bar, not the log lines

    piped = subprocess.run([*newsmill_cmd(), "backfill", str(warcs), "--data-dir", str(tmp_path / "b")],
                           env=env, capture_output=True, text=True, timeout=240, check=False)
    assert piped.returncode == 0, piped.stderr[-2000:]
    logged = piped.stdout + piped.stderr
    assert not ANSI.search(logged)
    assert re.search(r"WARC files landed: 2 of 2; \d+ rows", logged), logged[-2000:]
