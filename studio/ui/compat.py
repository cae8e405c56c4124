"""Work-arounds for bugs in the Qt bindings we run on.

PySide6 6.12.0 (seen with CPython 3.11): `SignalInstance.emit()` returns `True` without
taking a reference, so every emit — ours and pyqtgraph's — drops one reference to `True`.
After a few thousand emits CPython deallocates `True` and aborts ("bool_dealloc:
deallocating True or False"). PySide6 6.11.2 is fine, and from Python 3.12 on bools are
immortal. Until the pin excludes 6.12.0, `guard_bool_refcount()` detects the bug and gives
True/False the same effectively-infinite reference count that Python 3.12 gives them.
"""

from __future__ import annotations

import ctypes
import sys

_done = False


def emit_leaks_true() -> bool:
    """Whether emitting a signal drops a reference to True (the PySide6 6.12.0 bug)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        sig = Signal()

    p = _Probe()
    before = sys.getrefcount(True)
    for _ in range(20):
        p.sig.emit()
    return sys.getrefcount(True) < before - 10


def guard_bool_refcount() -> bool:
    """Make True/False immortal when the bug is present; returns whether it was needed."""
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _done
    if not emit_leaks_true():
        return False
    for obj in (True, False):
        # ob_refcnt is the first field of every PyObject in CPython <= 3.11.
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    _done = True
    return True
