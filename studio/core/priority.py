"""Lower a pool worker's CPU priority, from a module that imports nothing heavy.

A spawned worker process imports the module of its initializer before it runs it. Were the
initializer in `studio.core.indexer`, each worker would first import numpy, soundfile, soxr
and the analysis code (~0.3 s of CPU) at the window's priority, both workers at once on a
2-core machine: that was the app's longest stall when indexing began (~40 ms).
"""

from __future__ import annotations

import os


def lower_priority(nice: int) -> None:
    """Raise this process's niceness by `nice` (nothing where that is not allowed)."""
    if nice > 0:
        try:
            os.nice(nice)
        except (AttributeError, OSError):  # no os.nice on Windows
            pass
