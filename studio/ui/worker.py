"""The one wrapper for background work: a function run on a QThread (napari qthreading-style).

The function receives a `Job` to report progress (`job.progress(value)`) and to poll for
cancellation between batches (`job.should_stop()`). Results, progress and errors come back as
signals queued to the GUI thread; errors from every worker also go to one `notifier`, so the
window shows them in one place. Progress is coalesced so a chatty task cannot flood the UI.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThread, Signal

from studio.core.catalog import close_thread_connections

PROGRESS_INTERVAL_S = 0.05


class ErrorNotifier(QObject):
    """Where every worker's unexpected error goes: (title, message, details)."""

    error = Signal(str, str, str)


notifier = ErrorNotifier()
# Strong references: a running QThread whose Python wrapper is collected takes the app down.
_live: set[Worker] = set()


class Job:
    """What the worked function sees: progress reporting and the abort flag."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker
        self._abort = threading.Event()
        self._last_emit = 0.0
        self._last_key: object = None
        self.pending: Any = None

    def should_stop(self) -> bool:
        return self._abort.is_set()

    def progress(self, value: Any, key: object = None) -> None:
        """Report progress; emitted at most every 50 ms unless `key` (e.g. a phase) changes."""
        now = time.monotonic()
        if key != self._last_key or now - self._last_emit >= PROGRESS_INTERVAL_S:
            self._last_emit, self._last_key, self.pending = now, key, None
            self._worker.progressed.emit(value)
        else:
            self.pending = value

    def flush(self) -> None:
        if self.pending is not None:
            self._worker.progressed.emit(self.pending)
            self.pending = None


class Worker(QThread):
    """Runs `fn(job, *args, **kwargs)` once on its own thread."""

    progressed = Signal(object)
    returned = Signal(object)
    errored = Signal(object)  # the exception
    done = Signal()  # after returned/errored, whatever happened

    def __init__(self, fn: Callable[..., Any], *args: Any, title: str = "Background task",
                 notify: bool = True, nice: int = 0, **kwargs: Any) -> None:
        super().__init__()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.nice = nice
        self.title = title
        self.notify = notify
        self.job = Job(self)
        self.cancelled = False
        _live.add(self)
        self.finished.connect(self._cleanup)

    def run(self) -> None:  # on the worker thread
        if self.nice:
            _lower_priority(self.nice)
        try:
            result = self._fn(self.job, *self._args, **self._kwargs)
        except Exception as e:  # noqa: BLE001 - routed to the notifier, never lost
            self.job.flush()
            self.errored.emit(e)
            if self.notify:
                notifier.error.emit(self.title, str(e) or type(e).__name__,
                                    "".join(traceback.format_exception(e)))
        else:
            self.job.flush()
            self.returned.emit(result)
        finally:
            close_thread_connections()  # each worker thread's own; it ends here
            self.done.emit()

    def quit_job(self) -> None:
        """Ask the function to stop at its next check; returns at once."""
        self.cancelled = True
        self.job._abort.set()

    def stop_and_wait(self, timeout_ms: int = 30000) -> bool:
        self.quit_job()
        return self.wait(timeout_ms) if self.isRunning() else True

    def _cleanup(self) -> None:
        _live.discard(self)
        self.deleteLater()


def _lower_priority(nice: int) -> None:
    """Make this thread (and the processes it starts) yield the CPU to the window.

    On Linux niceness is per thread and inherited by processes the thread starts, so the
    indexer's analysis pool runs at the same lower priority. Elsewhere this does nothing.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (AttributeError, OSError):
        pass


class DaemonWorker(QObject):
    """A Worker for work that may block where no check can reach it (a network read that
    stalls): it runs on a daemon Python thread, so a cancel or a quit may leave it behind.
    Waiting for it is capped at ABANDON_WAIT_S, and a process that exits takes it along (a
    QThread still running then aborts the process: "QThread: Destroyed while thread is still
    running"). The function must leave nothing half-written that matters: a download's
    partial file stays for the next one to resume."""

    progressed = Signal(object)
    returned = Signal(object)
    errored = Signal(object)
    done = Signal()

    ABANDON_WAIT_S = 0.3

    def __init__(self, fn: Callable[..., Any], *args: Any, title: str = "Background task",
                 notify: bool = True, nice: int = 0, **kwargs: Any) -> None:
        super().__init__()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self.nice, self.title, self.notify = nice, title, notify
        self.job = Job(self)  # type: ignore[arg-type]
        self.cancelled = False
        self._thread = threading.Thread(target=self._run, name=title, daemon=True)
        _live_daemons.add(self)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        Worker.run(self)  # type: ignore[arg-type]
        _live_daemons.discard(self)

    def isRunning(self) -> bool:  # noqa: N802 - the QThread name the callers use
        return self._thread.is_alive()

    def isFinished(self) -> bool:  # noqa: N802
        return not self._thread.is_alive() and self._thread.ident is not None

    def wait(self, timeout_ms: int = 30000) -> bool:
        self._thread.join(min(timeout_ms / 1000, self.ABANDON_WAIT_S))
        return not self._thread.is_alive()

    def quit_job(self) -> None:
        self.cancelled = True
        self.job._abort.set()

    def stop_and_wait(self, timeout_ms: int = 30000) -> bool:
        self.quit_job()
        return self.wait(timeout_ms)


_live_daemons: set[DaemonWorker] = set()


def start_worker(fn: Callable[..., Any], *args: Any, on_result: Callable[[Any], None] | None = None,
                 on_progress: Callable[[Any], None] | None = None,
                 on_error: Callable[[BaseException], None] | None = None,
                 on_done: Callable[[], None] | None = None, title: str = "Background task",
                 notify: bool = True, parent: QObject | None = None, nice: int = 0,
                 abandonable: bool = False, **kwargs: Any) -> Worker:
    """Create, connect and start a Worker; the callbacks run on the GUI thread.

    With `parent`, callbacks are dropped once the parent is deleted or marked `_closed`
    (results still queued when a window closes must not reach its deleted widgets).
    `abandonable` runs it as a DaemonWorker (see there).
    """
    w: Any = (DaemonWorker if abandonable else Worker)(
        fn, *args, title=title, notify=notify, nice=nice, **kwargs)
    if parent is not None:
        on_result, on_progress, on_error, on_done = (
            _guard(parent, f) for f in (on_result, on_progress, on_error, on_done))
    if on_result is not None:
        w.returned.connect(on_result)
    if on_progress is not None:
        w.progressed.connect(on_progress)
    if on_error is not None:
        w.errored.connect(on_error)
    if on_done is not None:
        w.done.connect(on_done)
    w.start()
    return w


def _guard(parent: QObject, fn: Callable[..., Any] | None) -> Callable[..., Any] | None:
    if fn is None:
        return None

    def call(*a: Any) -> Any:
        if shiboken6.isValid(parent) and not getattr(parent, "_closed", False):
            return fn(*a)
        return None

    return call


def live_workers() -> list[Worker]:
    """Workers not yet finished (the leak check in tests reads this)."""
    return [w for w in list(_live) if not w.isFinished()]


def stop_all(timeout_ms: int = 30000) -> None:
    for d in list(_live_daemons):
        d.quit_job()  # not waited for: see DaemonWorker
    for w in list(_live):
        w.quit_job()
    for w in list(_live):
        if w.isRunning():
            w.wait(timeout_ms)


class LatestRunner(QObject):
    """Newest request wins (napari's layer slicer): one job at a time, at most one waiting.

    `submit(fn, *args)` replaces any waiting request and asks a running one to stop; only the
    result of the newest request is delivered to `result`.
    """

    result = Signal(object, object)  # (tag, value)
    failed = Signal(object, object)  # (tag, exception)

    def __init__(self, title: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self._gen = 0
        self._closed = False
        self._running: Worker | None = None
        self._pending: tuple[int, object, Callable[..., Any], tuple[Any, ...]] | None = None

    def submit(self, tag: object, fn: Callable[..., Any], *args: Any) -> None:
        if self._closed:
            return
        self._gen += 1
        self._pending = (self._gen, tag, fn, args)
        if self._running is not None:
            self._running.quit_job()
        else:
            self._start_pending()

    def busy(self) -> bool:
        return self._running is not None or self._pending is not None

    def cancel(self) -> None:
        self._gen += 1
        self._pending = None
        if self._running is not None:
            self._running.quit_job()

    def shutdown(self) -> None:
        self.cancel()
        self._closed = True
        if self._running is not None:
            self._running.wait(10000)

    def _start_pending(self) -> None:
        if self._pending is None:
            return
        gen, tag, fn, args = self._pending
        self._pending = None

        def deliver(value: Any) -> None:
            if gen == self._gen:
                self.result.emit(tag, value)

        def fail(exc: BaseException) -> None:
            if gen == self._gen:
                self.failed.emit(tag, exc)

        self._running = start_worker(fn, *args, on_result=deliver, on_error=fail,
                                     on_done=self._on_done, title=self.title, notify=False,
                                     parent=self)

    def _on_done(self) -> None:
        self._running = None
        self._start_pending()
