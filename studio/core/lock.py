"""An exclusive, advisory lock on a file, held by one process at a time (not waited for).

Two `studio index` runs on one data dir (or the app and the CLI) would each analyse every
new file and race each other's index saves; the second is told instead. The operating
system releases the lock when its holder dies, so a killed run leaves nothing stale behind.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Busy(Exception):
    """The lock is held elsewhere; the message says by which process, when it is known."""


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "a+")  # noqa: SIM115 (held for the duration of the block)
    try:
        try:
            _lock(f.fileno())
        except OSError:
            f.seek(0)
            holder = f.read().strip()
            raise Busy(f"process {holder}" if holder.isdigit() else "another process") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            f.flush()
            _unlock(f.fileno())
    finally:
        f.close()


if sys.platform == "win32":
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
