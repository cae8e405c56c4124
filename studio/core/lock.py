"""An exclusive, advisory lock on a file, held by one process at a time (not waited for).

Two `studio index` runs on one data dir (or the app and the CLI) would each analyse every
new file and race each other's index saves; the second is told instead. The operating
system releases the lock when its holder dies, so a killed run leaves nothing stale behind.
Where the filesystem cannot lock at all (NFS without lockd, some FUSE and SMB mounts) the
block runs unlocked: refusing would leave such a data dir never indexed.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# What a lock held by someone else raises; anything else means "cannot lock here".
_HELD = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK}


class Busy(Exception):
    """The lock is held elsewhere; the message says by which process, when it is known."""


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    pid_file = path.with_name(path.name + ".pid")  # not the locked file: Windows locks bar reads
    f = open(path, "a+")  # noqa: SIM115 (held for the duration of the block)
    try:
        locked = True
        try:
            _lock(f.fileno())
        except OSError as e:
            if e.errno not in _HELD:
                locked = False  # this filesystem cannot lock: go on without
            else:
                try:
                    holder = pid_file.read_text().strip()
                except OSError:
                    holder = ""
                raise Busy(f"process {holder}" if holder.isdigit() else "another process"
                           ) from None
        if locked:
            try:
                pid_file.write_text(str(os.getpid()))
            except OSError:
                pass
        try:
            yield
        finally:
            if locked:
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
