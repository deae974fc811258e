"""Prefect's temporary API as `newsmill` starts it (flows.api_server): up before the
flow needs it, gone when the command ends, and gone when the command is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.backfill import article_pages, write_warc

pytestmark = pytest.mark.timeout(240)


def _newsmill() -> list[str]:
    script = Path(sys.executable).with_name("newsmill")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flows.cli"]


def _servers_of(parent: int) -> list[int]:
    """pids of `python -m flows.api_server PORT <parent>` processes still alive."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"flows.api_server" in argv and str(parent).encode() in argv and state != "Z":
            found.append(int(proc.name))
    return found


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return {**env, "NEWSMILL_WORKERS": "1", "PREFECT_LOGGING_LEVEL": "WARNING"}


@pytest.fixture(scope="module")
def warc(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("warc") / "ONE-00000.warc.gz"
    write_warc(path, list(article_pages(1, 3)))
    return path


def test_a_backfill_without_a_server_runs_on_its_own_and_leaves_none(warc, tmp_path):
    proc = subprocess.Popen([*_newsmill(), "backfill", str(warc), "--data-dir", str(tmp_path / "data")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, out[-2000:] + err[-3000:]
    assert "rows landed:        3" in out
    report = json.loads(next((tmp_path / "data" / "runs").glob("*.json")).read_text())
    assert report["status"] == "ok"
    # Prefect's own temporary server would print this: newsmill started its own instead
    assert "Starting temporary server" not in err
    assert "Error logging to API" not in err, err[-2000:]  # logs were drained before the server stopped
    assert _servers_of(proc.pid) == []


def test_kill_9_of_the_command_takes_its_server_down(warc, tmp_path):
    proc = subprocess.Popen([*_newsmill(), "backfill", str(warc), "--data-dir", str(tmp_path / "data")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    try:
        deadline = time.monotonic() + 60
        while not (servers := _servers_of(proc.pid)):
            assert proc.poll() is None, "the command ended before its server was seen"
            assert time.monotonic() < deadline, "no temporary server started"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while _servers_of(proc.pid):
            assert time.monotonic() < deadline, f"server {servers} outlived the killed command"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in _servers_of(proc.pid):
            os.kill(pid, signal.SIGKILL)


def test_a_flow_on_the_commands_own_api_sends_no_heartbeats():
    """Heartbeats let a lasting server mark a run that died as crashed. The temporary API
    stops with the run, and ending the heartbeat thread cost each run up to 1 s; a server
    the user runs (PREFECT_API_URL, no temporary API) keeps them."""
    from argparse import Namespace

    from prefect.settings import get_current_settings

    from flows.cli import _flow_settings

    default = get_current_settings().flows.heartbeat_frequency
    assert default is not None
    with _flow_settings(Namespace(api=object())):
        assert get_current_settings().flows.heartbeat_frequency is None
    with _flow_settings(Namespace(api=None)):
        assert get_current_settings().flows.heartbeat_frequency == default
    assert get_current_settings().flows.heartbeat_frequency == default


def test_a_flow_commands_imports_leave_the_collectors_sight_before_any_fork():
    """`newsmill` collects nothing while it imports (GC off from the start of a flow command),
    then freezes what it loaded and collects in larger steps, before it forks any reader or
    worker: those inherit a collector that is on. (Only when the command has the process to
    itself: not when a caller runs `main` in its own.)"""
    import gc
    from argparse import Namespace
    from types import SimpleNamespace

    from flows.cli import _api_ready

    seen = {}
    threshold = gc.get_threshold()
    gc.disable()
    try:
        api = SimpleNamespace(wait=lambda: seen.setdefault("waited", True))
        _api_ready(Namespace(api=api, whole_process=True),
                   head_start=lambda: seen.setdefault("gc on at fork", gc.isenabled()))
        assert seen == {"gc on at fork": True, "waited": True}
        assert gc.isenabled() and gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] > threshold[0]
    finally:
        gc.enable()
        gc.unfreeze()
        gc.set_threshold(*threshold)
