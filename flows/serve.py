"""`newsmill serve`: the crawl as a Prefect deployment on a cron schedule.

Prefect's ephemeral API cannot schedule ("Cannot schedule flows on an ephemeral
server"), so unless PREFECT_API_URL names a server, we start Prefect's own
local server on a free loopback port for as long as we serve, and stop it after.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

SERVER_START_TIMEOUT_S = 90


def validate_cron(expr: str) -> str:
    from prefect._internal.schemas.validators import validate_cron_string

    try:
        return validate_cron_string(expr)
    except ValueError as exc:
        raise ValueError(f"--cron: {exc}") from None


def free_port() -> int:
    """A loopback port free now (the server binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def local_prefect_server(log_path: Path, home: Path | None = None) -> Iterator[str]:
    """Run `prefect server start` on 127.0.0.1; yield its API URL; stop it on exit.

    `home` gives the server its own PREFECT_HOME (its database), default the user's.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **({"PREFECT_HOME": str(home)} if home else {})},
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited with status {proc.returncode}; see {log_path}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not answer within {SERVER_START_TIMEOUT_S}s; see {log_path}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _stop_serving(signum: int, frame: object) -> None:
    """SIGTERM ends serving the way Ctrl-C does, so the local server is stopped too."""
    raise KeyboardInterrupt


def serve_crawl(sources_path: Path, cron: str, data_dir: Path) -> int:
    """Serve the crawl deployment until SIGINT/SIGTERM; at most one run at a time."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    validate_cron(cron)
    signal.signal(signal.SIGTERM, _stop_serving)
    params = {"sources_path": str(sources_path.resolve()), "data_dir": str(data_dir.resolve())}
    api_url = os.environ.get("PREFECT_API_URL")
    with contextlib.ExitStack() as stack:
        if not api_url:
            # The server's database lives with the dataset: scheduled runs of other data
            # dirs (or of deleted sources files) never run here, and no other Prefect
            # server shares its SQLite file.
            prefect_home = data_dir.resolve() / "state" / "prefect"
            api_url = stack.enter_context(local_prefect_server(prefect_home / "server.log", home=prefect_home))
            os.environ["PREFECT_API_URL"] = api_url  # for the runner's flow-run subprocesses
        stack.enter_context(temporary_settings({PREFECT_API_URL: api_url}))
        from flows.crawl import crawl_flow

        print(f"serving newsmill-crawl on {api_url} with schedule '{cron}'; Ctrl-C stops", flush=True)
        try:
            crawl_flow.serve(name="newsmill-crawl", cron=cron, parameters=params, limit=1,
                             print_starting_message=False)
        except KeyboardInterrupt:
            pass
    return 0
