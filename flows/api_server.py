"""Prefect's temporary local API, started before the command's imports instead of after.

With no PREFECT_API_URL, Prefect starts its own temporary server the first time a
flow needs the API: the command first imports prefect.server (about 3 s of
CPU only to build that subprocess's command line), then waits while the server
imports the same modules again. That is most of a short command's time. Here the
same server (`uvicorn prefect.server.api.server:create_app`, as Prefect runs it)
is started first, so it boots while this process imports the pipeline, and
PREFECT_API_URL points the flow at it.

The server also stops when this process dies, even by SIGKILL
(`lifetime.die_with_parent`), so a killed run leaves no server behind.

    python -m flows.api_server PORT PARENT_PID   # what `start` runs
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass

from flows.serve import free_port
from pipelines.lifetime import die_with_parent

START_TIMEOUT_S = 90  # Prefect's own default for its temporary server is 20 s; a loaded CI box needs more
STARTUP_FAILURE = 3  # uvicorn's exit status when it cannot start (e.g. the port was taken meanwhile)
# The environment Prefect gives its temporary server (prefect.server.api.server.SubprocessASGIServer),
# and no block-type registration: a server that lives for one command's flow needs no block
# types, and checking whether they changed imports every installed Prefect collection
# (prefect-dask: dask and distributed), ~0.5 s of the boot every flow waits for.
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
              "PREFECT_API_BLOCKS_REGISTER_ON_START": "false", "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false"}


@dataclass
class TemporaryApi:
    """A started server: `wait()` before the first flow, `stop()` at the end."""

    proc: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait(self, timeout_s: float = START_TIMEOUT_S) -> str:
        """Block until the server answers /health; its API URL. One retry on another port."""
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.proc.poll()
            if status == STARTUP_FAILURE:
                self.proc, self.port = _spawn(free_port())
                continue
            if status is not None:
                raise RuntimeError(f"Prefect's temporary server exited with status {status} before answering")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return self.url
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Prefect's temporary server did not answer within {timeout_s:.0f} s")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _spawn(port: int) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.api_server", str(port), str(os.getpid())],
        env={**os.environ, **SERVER_ENV},
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches the command, which stops the server after its flow ends
    )
    return proc, port


def start() -> TemporaryApi | None:
    """Start the temporary server and point this process's Prefect at it; None when
    PREFECT_API_URL already names a server (or ephemeral mode is switched off).

    Call before anything imports prefect: its settings read PREFECT_API_URL once."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    if os.environ.get("PREFECT_SERVER_EPHEMERAL_ENABLED", "").lower() in ("0", "false", "no"):
        return None  # Prefect then says itself that it needs PREFECT_API_URL
    proc, port = _spawn(free_port())
    api = TemporaryApi(proc, port)
    # Stopped at interpreter exit, after Prefect's log and event workers drained to it
    # (they drain in threading's exit hooks, which run before atexit's).
    atexit.register(api.stop)
    os.environ["PREFECT_API_URL"] = api.url
    # Prefect derives a UI address from the API URL and logs "View at ..." links
    # to it; this server serves no UI and is gone when the command ends.
    os.environ.setdefault("PREFECT_UI_URL", "")
    return api


def main(argv: list[str]) -> int:
    port, parent = int(argv[0]), int(argv[1])
    die_with_parent(parent)
    import uvicorn

    uvicorn.run("prefect.server.api.server:create_app", factory=True, host="127.0.0.1", port=port,
                log_level="error", lifespan="on")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
