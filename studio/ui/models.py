"""MERT and CLAP from the window: their state, download, link, unlink, and the back-fill.

Everything that touches `studio.core.models` (huggingface_hub now, torch when a model loads)
runs on the worker wrapper; the GUI thread only sees plain `ModelInfo`s. A model that becomes
ready is loaded by the next index run, on its worker, which then back-fills its vectors —
when the "Embed with MERT/CLAP when downloaded" setting is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.library import Library
from studio.ui.indexing import IndexController
from studio.ui.worker import Job, LatestRunner, Worker, start_worker

NAMES = ("mert", "clap")
LABELS = {"mert": "MERT", "clap": "CLAP"}
PURPOSE = {"mert": "finds samples that sound alike (music and timbre)",
           "clap": "finds samples from a description in words"}
_STATE_TEXT = {"missing": "not downloaded", "downloading": "downloading…", "ready": "ready",
               "loaded": "ready", "loading": "loading…", "failed": "failed"}
LINK_HINT = "Or choose “Link folder…” and pick a folder that holds the model’s files."


@dataclass
class ModelInfo:
    name: str
    title: str
    state: str  # missing / downloading / ready / failed, or loaded (in use by this window)
    percent: float | None
    reason: str | None
    path: str | None
    source: str  # "linked", "cache" or ""
    licence: str
    licence_note: str
    repo_id: str
    size_bytes: int


# ---- on the worker --------------------------------------------------------------------------
def status_job(job: Job, lib: Library) -> dict[str, ModelInfo]:
    from studio.core.models.specs import SPECS

    mm = lib.model_manager()
    loaded = {e.name for e in lib.loaded_embedders()}
    out: dict[str, ModelInfo] = {}
    for s in mm.list():
        if s.name not in NAMES:
            continue
        spec = SPECS[s.name]
        state = "loaded" if s.state == "ready" and s.name in loaded else s.state
        source = mm.find(s.name)[1] if s.state in ("ready", "failed") else ""
        out[s.name] = ModelInfo(s.name, spec.title, state, s.percent, s.reason, s.path, source,
                                s.licence, spec.licence_note, s.repo_id, s.size_bytes)
    return out


def _download_job(job: Job, lib: Library, name: str) -> Any:
    return lib.model_manager().download(
        name, progress=lambda done, total: job.progress((done, total)),
        should_stop=job.should_stop)


def _link_job(job: Job, lib: Library, name: str, folder: str) -> Any:
    return lib.model_manager().link(name, folder)


def _unlink_job(job: Job, lib: Library, name: str) -> None:
    lib.model_manager().unlink(name)


# ---- text -----------------------------------------------------------------------------------
def state_text(state: str) -> str:
    return _STATE_TEXT.get(state.split(":", 1)[0], state.split(" (", 1)[0])


def status_text(states: dict[str, str], downloads: dict[str, tuple[int, int]],
                embedding: tuple[str, int, int] | None) -> str:
    """'MERT ready · CLAP 42%', 'CLAP embedding 1,200 / 5,000', …"""
    parts = []
    for name in NAMES:
        label = LABELS[name]
        if embedding is not None and embedding[0] == name:
            parts.append(f"{label} embedding {embedding[1]:,} / {embedding[2]:,}")
        elif name in downloads:
            done, total = downloads[name]
            parts.append(f"{label} {100 * done / total:.0f}%" if total
                         else f"{label} downloading…")
        elif name in states:
            parts.append(f"{label} {state_text(states[name])}")
    return " · ".join(parts)


class ModelsController(QObject):
    changed = Signal()  # states, downloads or embedding progress changed
    problem = Signal(str, str)  # model name, what went wrong (for the user, one paragraph)
    notice = Signal(str, str)  # model name, news (ready, cancelled, unlinked)

    def __init__(self, lib: Library, indexer: IndexController,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lib, self.indexer = lib, indexer
        self.infos: dict[str, ModelInfo] = {}
        self.states: dict[str, str] = {}  # name -> state (also "loading", "failed: why")
        self.downloads: dict[str, tuple[int, int]] = {}  # ours, running: (done, total) bytes
        self.embedding: tuple[str, int, int] | None = None
        self.busy: set[str] = set()  # a link/unlink is being done
        self._wanted: set[str] = set()  # just downloaded or linked: use once seen ready
        # Models whose weights an index run could not load ("failed: why"): the files look
        # complete to the status check, which would say "ready"; this stays until the user
        # downloads, links or unlinks the model again.
        self._load_failed: dict[str, str] = {}
        self._workers: dict[str, Worker] = {}
        self._gen: dict[str, int] = {}  # per model, which download's callbacks count
        self._closed = False
        self._status = LatestRunner("Model status", self)
        self._status.result.connect(lambda _tag, infos: self._set_infos(infos))
        indexer.models.connect(self._from_indexer)
        indexer.progress.connect(self._index_progress)
        indexer.finished.connect(lambda _rep: self._index_done())

    # ---- what the window asks ---------------------------------------------------------------
    def refresh(self) -> None:
        self._status.submit(None, status_job, self.lib)

    def text(self) -> str:
        return status_text(self.states, self.downloads, self.embedding)

    def download_percent(self) -> float | None:
        """Percent of the running download (None when none runs; 0 before the size is known)."""
        if not self.downloads:
            return None
        done, total = next(iter(self.downloads.values()))
        return 100.0 * done / total if total else 0.0

    def download(self, name: str) -> None:
        if name in self._workers:
            return
        self._load_failed.pop(name, None)
        self.downloads[name] = (0, 0)
        self._gen[name] = gen = self._gen.get(name, 0) + 1

        def mine(fn: Any) -> Any:  # a cancelled download's late news is not this one's
            return lambda *a: fn(*a) if self._gen.get(name) == gen else None

        # Abandonable: a stalled connection blocks where no cancel check reaches, and
        # neither Cancel nor quitting may wait for it (a partial file stays to resume).
        self._workers[name] = start_worker(
            _download_job, self.lib, name, title=f"Downloading {LABELS[name]}", notify=False,
            on_progress=mine(lambda p: self._download_progress(name, p)),
            on_result=mine(lambda _s: self._finished(name, f"{LABELS[name]} is downloaded.")),
            on_error=mine(lambda e: self._download_failed(name, e)),
            on_done=mine(lambda: self._worker_done(name)), parent=self, abandonable=True)
        self.changed.emit()

    def cancel(self, name: str) -> None:
        """Stop a download now: the window is done with it at once, whatever its thread is
        stuck in (it stops at its next chunk, or when a stalled read times out)."""
        w = self._workers.get(name)
        if w is not None and name in self.downloads:
            w.quit_job()
            self._gen[name] = self._gen.get(name, 0) + 1  # its callbacks are dropped
            self.notice.emit(name, f"Download of {LABELS[name]} cancelled — it resumes where "
                                   "it stopped when you start it again.")
            self._worker_done(name)

    def link(self, name: str, folder: str) -> None:
        if name in self._workers:
            return
        self._load_failed.pop(name, None)
        self.busy.add(name)
        self._workers[name] = start_worker(
            _link_job, self.lib, name, folder, title=f"Linking {LABELS[name]}", notify=False,
            on_result=lambda _s: self._finished(name, f"{LABELS[name]} linked to {folder}."),
            on_error=lambda e: self.problem.emit(name, str(e)),
            on_done=lambda: self._worker_done(name), parent=self)
        self.changed.emit()

    def unlink(self, name: str) -> None:
        if name in self._workers:
            return
        self._load_failed.pop(name, None)
        self.busy.add(name)
        in_use = self.states.get(name) == "loaded"
        note = f"{LABELS[name]} is unlinked" + (
            "; this window keeps using it until Studio restarts." if in_use else ".")
        self._workers[name] = start_worker(
            _unlink_job, self.lib, name, title=f"Unlinking {LABELS[name]}", notify=False,
            on_result=lambda _r: self.notice.emit(name, note),
            on_error=lambda e: self.problem.emit(name, str(e)),
            on_done=lambda: self._worker_done(name), parent=self)
        self.changed.emit()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        self._closed = True
        self._status.shutdown()
        for w in list(self._workers.values()):
            w.stop_and_wait(timeout_ms)

    # ---- what comes back ----------------------------------------------------------------------
    def _set_infos(self, infos: dict[str, ModelInfo]) -> None:
        self.infos = infos
        loading = self.indexer.running()
        for name, info in infos.items():
            if info.state == "ready" and name in self._load_failed:
                self.states[name] = self._load_failed[name]
            elif not (loading and self.states.get(name) == "loading" and info.state == "ready"):
                self.states[name] = info.state
        ready = [n for n in NAMES if n in self._wanted and infos.get(n) is not None
                 and infos[n].state == "ready" and n not in self._load_failed]
        self._wanted.clear()
        self.changed.emit()
        if ready:
            self._use(ready)

    def _finished(self, name: str, text: str) -> None:
        self.notice.emit(name, text)
        self._wanted.add(name)  # the refresh that follows finds it ready: load and back-fill

    def _use(self, names: list[str]) -> None:
        """Newly ready models: the next index run loads them (on its worker) and back-fills."""
        labels = " and ".join(LABELS[n] for n in names)
        if not self.indexer.load_models:
            for n in names:
                self.notice.emit(n, f"{labels} is ready. Turn on Library → “Embed with MERT/CLAP "
                                    "when downloaded” to use it.")
            return
        for n in names:
            self.states[n] = "loading"
        self.changed.emit()
        self.indexer.start(None)

    def _download_progress(self, name: str, p: Any) -> None:
        if name in self.downloads:
            self.downloads[name] = (int(p[0]), int(p[1]))
            self.changed.emit()

    def _download_failed(self, name: str, e: BaseException) -> None:
        self.problem.emit(name, f"{e}\n{LINK_HINT}")  # a cancel drops this (see cancel)

    def _worker_done(self, name: str) -> None:
        self._workers.pop(name, None)
        self.downloads.pop(name, None)
        self.busy.discard(name)
        self.changed.emit()
        if not self._closed:
            self.refresh()

    def _from_indexer(self, states: dict[str, str]) -> None:
        for name, state in states.items():
            if name in NAMES:
                self.states[name] = state
                if state.startswith("failed"):
                    self._load_failed[name] = state
                elif state == "loaded":
                    self._load_failed.pop(name, None)
        self.changed.emit()

    def _index_progress(self, p: Any) -> None:
        phase = getattr(p, "phase", "")
        emb = (phase.split(":", 1)[1], p.done, p.total) if phase.startswith("embed:") else None
        if emb != self.embedding:
            self.embedding = emb
            self.changed.emit()

    def _index_done(self) -> None:
        self.embedding = None
        self.changed.emit()
        if not self._closed:
            self.refresh()
