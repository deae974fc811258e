"""`newsmill serve` as a real subprocess: a scheduled run lands the sample web, then it stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.newsweb import build_web, serve_web

pytestmark = pytest.mark.timeout(420)


def test_scheduled_run_lands_then_serve_stops(tmp_path):
    web = build_web(n_sites=2, articles_per_site=8, seed=3)
    expected = sum(len(s.articles) for s in web.sites)
    data = tmp_path / "data"
    with serve_web(web) as server:
        sources = tmp_path / "sources.yaml"
        sources.write_text(server.sources_yaml(patterns=True))
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        log = open(tmp_path / "serve.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "serve", "--sources", str(sources), "--cron", "* * * * *",
             "--data-dir", str(data)],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        try:
            reports: list[Path] = []
            deadline = time.monotonic() + 300  # next minute boundary + server start + one run
            while not reports and time.monotonic() < deadline:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
                time.sleep(2)
                reports = [p for p in (data / "runs").glob("*.json")] if (data / "runs").exists() else []
            assert reports, "no scheduled run finished: " + (tmp_path / "serve.log").read_text()[-3000:]
            report = json.loads(reports[0].read_text())
            assert report["status"] == "ok" and report["totals"]["rows_landed"] == expected
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                log.close()
    assert proc.returncode == 0
    # Nothing it started outlives it: helpers such as multiprocessing's resource tracker
    # end when they see it gone, so allow them some seconds.
    deadline = time.monotonic() + 30
    while True:
        leftover = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
        if not leftover or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert leftover == []
