"""Work-arounds for bugs in the Qt bindings we run on.

PySide6 6.12.0 with CPython 3.11 returns borrowed references as new ones: every
`SignalInstance.emit()` drops a reference to `True`, and every call of a method returning
void (`QLabel.setText`, `QAbstractItemView.setCurrentIndex`, …) or a null QVariant drops one
to `None`. After a few thousand calls — ours and pyqtgraph's — CPython deallocates the
singleton and aborts ("bool_dealloc" / "none_dealloc"). PySide6 6.11.2 is fine, and from
Python 3.12 on these singletons are immortal. Until the dependency pin excludes 6.12.0,
`guard_singleton_refcounts()` detects the bug and gives None/True/False the same effectively
infinite reference count that Python 3.12 gives them.
"""

from __future__ import annotations

import ctypes
import sys

_done = False


def bindings_leak_singletons() -> bool:
    """Whether Qt calls drop references to True or None (the PySide6 6.12.0 bug)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        sig = Signal()

    p = _Probe()
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(20):
        p.sig.emit()
        p.setObjectName("probe")
    return (sys.getrefcount(True) < true_before - 10
            or sys.getrefcount(None) < none_before - 10)


def guard_singleton_refcounts() -> bool:
    """Make None/True/False immortal when the bug is present; returns whether it was."""
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _done
    if not bindings_leak_singletons():
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every PyObject in CPython <= 3.11.
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    _done = True
    return True
