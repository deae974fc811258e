"""Child processes that end with the process that forked them.

A worker blocked on its pipe would otherwise outlive a parent killed with
SIGKILL: nothing else tells it the parent is gone.
"""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """Call first thing in a forked child: SIGKILL it when `parent` (the forking thread) ends."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    except (OSError, AttributeError):  # not Linux: the child ends at its next read or send instead
        pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(0)
