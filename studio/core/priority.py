"""Set up a pool worker (lower CPU priority, Ctrl-C left to the parent) from a module that
imports nothing heavy.

A spawned worker process imports the module of its initializer before it runs it. Were the
initializer in `studio.core.indexer`, each worker would first import numpy, soundfile, soxr
and the analysis code (~0.3 s of CPU) at the window's priority, both workers at once on a
2-core machine: that was the app's longest stall when indexing began (~40 ms).
"""

from __future__ import annotations

import os
import signal


def lower_priority(nice: int) -> None:
    """Raise this process's niceness by `nice` (nothing where that is not allowed), and
    leave Ctrl-C to the parent: it reaches the whole process group, and each worker would
    print its own KeyboardInterrupt traceback; the parent stops the pool itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice > 0:
        try:
            os.nice(nice)
        except (AttributeError, OSError):  # no os.nice on Windows
            pass
