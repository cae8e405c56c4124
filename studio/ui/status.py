"""The status bar: indexing progress with cancel, model status, skipped files, playback state."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from studio.ui import style

_PHASES = {"scan": "Scanning", "analyse": "Indexing"}
_MODEL_LABELS = {"mert": "MERT", "clap": "CLAP"}
_STATE_TEXT = {"missing": "not downloaded", "downloading": "downloading", "ready": "ready",
               "failed": "failed", "loaded": "ready"}


def phase_text(phase: str, done: int, total: int) -> str:
    if phase.startswith("embed:"):
        name = _MODEL_LABELS.get(phase.split(":", 1)[1], phase.split(":", 1)[1])
        verb = f"Embedding with {name}"
    else:
        verb = _PHASES.get(phase, phase.capitalize())
    if phase == "scan" and not total:
        return f"{verb} {done:,} files" if done else f"{verb}…"
    return f"{verb} {done:,} / {total:,}"


class StatusPanel(QStatusBar):
    cancel_requested = Signal()
    skipped_clicked = Signal()
    error_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.message = QLabel("")
        self.message.setObjectName("statusMessage")
        self.progress_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(160)
        self.cancel = QToolButton()
        self.cancel.setIcon(style.icon("cancel"))
        self.cancel.setToolTip("Stop indexing (it picks up where it left off next time)")
        self.cancel.clicked.connect(self.cancel_requested)
        self.error = QToolButton()
        self.error.setIcon(style.icon("warning"))
        self.error.setToolTip("Show the last error")
        self.error.clicked.connect(self.error_clicked)
        self.skipped = QToolButton()
        self.skipped.setIcon(style.icon("warning"))
        self.skipped.setToolTip("Files that could not be indexed, with the reasons")
        self.skipped.clicked.connect(self.skipped_clicked)
        self.models = QLabel("")
        self.playback = QLabel("")
        self.addWidget(self.message, 1)
        self.addWidget(self.error)
        for w in (self.progress_label, self.progress, self.cancel):
            self.addPermanentWidget(w)
        for w in (self.skipped, self.models, self.playback):
            self.addPermanentWidget(w)
        self.set_indexing(None)
        self.set_skipped(0)
        self.error.setVisible(False)

    def set_indexing(self, p: Any) -> None:
        """Show a core Progress (phase, done, total), or hide the progress when None."""
        busy = p is not None and p.phase != "done"
        for w in (self.progress_label, self.progress, self.cancel):
            w.setVisible(busy)
        if not busy:
            return
        self.progress_label.setText(phase_text(p.phase, p.done, p.total))
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(min(p.done, p.total))
        else:
            self.progress.setRange(0, 0)  # busy indicator while the scan counts

    def set_skipped(self, n: int) -> None:
        self.skipped.setText(f"{n:,} skipped")
        self.skipped.setVisible(n > 0)

    def set_models(self, states: dict[str, str]) -> None:
        parts = [f"{_MODEL_LABELS.get(k, k)} {_STATE_TEXT.get(v, v)}" for k, v in states.items()]
        self.models.setText(" · ".join(parts))

    def set_playback(self, reason: str) -> None:
        self.playback.setText(reason)
        self.playback.setToolTip(reason)
        self.playback.setVisible(bool(reason))

    def say(self, text: str) -> None:
        self.message.setText(text)

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.error.setVisible(True)
