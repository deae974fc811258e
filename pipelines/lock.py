"""One run at a time per data directory: an advisory lock on state/run.lock.

flock is released by the kernel when the holder dies (even by SIGKILL), so a
crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DataDirBusy(RuntimeError):
    """Another run holds the data directory."""


class RunLock:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "run.lock"
        self._fd: int | None = None

    def acquire(self, run_id: str) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirBusy(f"{self.path.parent.parent}: another run holds the data directory ({holder})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"run {run_id}, pid {os.getpid()}".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
