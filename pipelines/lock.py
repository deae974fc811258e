"""One run at a time per data directory: an advisory lock on state/run.lock.

flock is released by the kernel when the holder dies (even by SIGKILL), so a
crashed run never leaves a stale lock behind. A forked child shares the lock
(same open file), so a child that outlived a killed run would keep it held:
children close their copies at fork (`hold`), and the lock dies with the run.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


_HELD: set[int] = set()  # lock fds this process holds, closed in every child it forks


def _close_held_in_child() -> None:
    for fd in _HELD:
        try:
            os.close(fd)  # close, never unlock: the lock is the parent's
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_close_held_in_child)


def hold(fd: int) -> None:
    """`fd` holds a lock: forked children (readers, workers) must not keep it alive."""
    _HELD.add(fd)


def unhold(fd: int) -> None:
    _HELD.discard(fd)


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
        hold(fd)
        return self

    def release(self) -> None:
        if self._fd is not None:
            unhold(self._fd)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
