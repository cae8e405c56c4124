"""Indexing in the background: start, progress, cancel, resume, and the model status.

One index run at a time through the worker wrapper. A request while one runs (a new folder
added) is remembered and run right after. Models are looked at (and loaded when ready) on the
worker, after the window is on screen, so torch never delays start-up.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.indexer import Progress
from studio.core.library import Library
from studio.ui.worker import Job, Worker, start_worker

# Indexing is background work: it (and its analysis processes) yields the CPU to the window.
BACKGROUND_NICE = 10


def _model_states(lib: Library) -> dict[str, str]:
    try:
        mm = lib.model_manager()
        states = {s.name: s.state for s in mm.list() if s.name in ("mert", "clap")}
    except ImportError as e:
        return {"mert": f"unavailable ({e.name})", "clap": f"unavailable ({e.name})"}
    except Exception as e:  # noqa: BLE001 - model status must never stop indexing
        return {"models": f"status unknown ({e})"}
    loaded = {e.name for e in lib.loaded_embedders()}
    return {k: ("loaded" if k in loaded else v) for k, v in states.items()}


def index_job(job: Job, lib: Library, roots: list[str] | None, load_models: bool,
              workers: int | None) -> Any:
    """Worker body: model status, ready models loaded, then scan + analyse + back-fill."""
    states = _model_states(lib)
    job.progress(("models", states), key="models")
    models = ["default"]
    if load_models and any(v == "ready" for v in states.values()):
        job.progress(("models", {k: "loading" if v == "ready" else v for k, v in states.items()}),
                     key="loading")
        problems = lib.try_load_ready_models(job.should_stop)
        states = _model_states(lib)
        for name, why in problems.items():
            states[name] = f"failed: {why}"
        job.progress(("models", states), key="models2")
        models += [e.name for e in lib.loaded_embedders() if e.name in ("mert", "clap")]
    if job.should_stop():
        return None
    return lib.index(roots=roots, models=tuple(models),
                     progress=lambda p: job.progress(p, key=p.phase),
                     should_stop=job.should_stop, workers=workers,
                     worker_nice=BACKGROUND_NICE)


class IndexController(QObject):
    progress = Signal(object)  # core Progress
    models = Signal(dict)  # name -> state text
    finished = Signal(object)  # IndexReport or None
    running_changed = Signal(bool)

    def __init__(self, lib: Library, load_models: bool = True, workers: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lib = lib
        self.load_models = load_models
        self.workers = workers
        self.worker: Worker | None = None
        self._again: bool = False
        self._closed = False
        self._phase = ""  # of the running pass: scan, analyse, embed:NAME...
        self._held = 0

    def running(self) -> bool:
        return self.worker is not None

    def start(self, roots: list[str] | None = None) -> None:
        """Index `roots` (None: every library folder); queues behind a running pass. A pass
        that is back-filling MERT/CLAP (hours on a big library) is stopped for it, and the
        next pass scans the new folder first and then resumes the back-fill."""
        if self.worker is not None or self._held:
            self._again = True
            if self.worker is not None and roots and self._phase.startswith("embed:"):
                self.worker.quit_job()
            return
        self._again = False
        self._phase = ""
        self.worker = start_worker(index_job, self.lib, roots, self.load_models, self.workers,
                                   on_progress=self._on_progress, on_result=self.finished.emit,
                                   on_error=lambda _e: self.finished.emit(None),
                                   on_done=self._on_done, title="Indexing", parent=self)
        self.running_changed.emit(True)
        self.progress.emit(Progress("scan", 0, 0, ""))

    def hold(self) -> None:
        """No pass starts until release() (a folder is being removed); starts asked for
        meanwhile run then."""
        self._held += 1

    def release(self) -> None:
        self._held = max(self._held - 1, 0)
        if not self._held and self._again and self.worker is None and not self._closed:
            self.start(None)

    def interrupt(self) -> None:
        """Stop the running pass now and run a new one over the whole library afterwards
        (once released, when held)."""
        if self.worker is not None:
            self._again = True
            self.worker.quit_job()

    def cancel(self) -> None:
        self._again = False
        if self.worker is not None:
            self.worker.quit_job()

    def shutdown(self, timeout_ms: int = 60000) -> None:
        self._again = False
        self._closed = True
        if self.worker is not None:
            self.worker.stop_and_wait(timeout_ms)

    def _on_progress(self, value: Any) -> None:
        if isinstance(value, tuple) and value and value[0] == "models":
            self.models.emit(value[1])
        else:
            self._phase = str(getattr(value, "phase", ""))
            self.progress.emit(value)

    def _on_done(self) -> None:
        self.worker = None
        self.running_changed.emit(False)
        if self._again:
            self.start(None)
