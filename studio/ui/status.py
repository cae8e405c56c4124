"""The status bar: indexing progress with cancel, model status, skipped files, playback state."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from studio.ui import style

_PHASES = {"scan": "Scanning", "analyse": "Indexing"}
_MODEL_LABELS = {"mert": "MERT", "clap": "CLAP"}


def phase_text(phase: str, done: int, total: int) -> str:
    if phase.startswith("embed:"):
        name = _MODEL_LABELS.get(phase.split(":", 1)[1], phase.split(":", 1)[1])
        verb = f"Embedding with {name}"
    else:
        verb = _PHASES.get(phase, phase.capitalize())
    if phase == "scan" and not total:
        return f"{verb} {done:,} files" if done else f"{verb}…"
    return f"{verb} {done:,} / {total:,}"


class ClickableLabel(QLabel):
    clicked = Signal()

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(ev)


class StatusPanel(QStatusBar):
    cancel_requested = Signal()
    skipped_clicked = Signal()
    error_clicked = Signal()
    models_clicked = Signal()

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
        self.models = ClickableLabel("")
        self.models.setObjectName("modelStatus")
        self.models.setToolTip("MERT and CLAP: click to download or link them")
        self.models.clicked.connect(self.models_clicked)
        self.model_progress = QProgressBar()
        self.model_progress.setTextVisible(False)
        self.model_progress.setFixedWidth(80)
        self.model_progress.setRange(0, 100)
        self.model_progress.setToolTip("Downloading a model (Library → Models… to cancel)")
        self.playback = QLabel("")
        self.addWidget(self.message, 1)
        self.addWidget(self.error)
        for w in (self.progress_label, self.progress, self.cancel):
            self.addPermanentWidget(w)
        for w in (self.skipped, self.model_progress, self.models, self.playback):
            self.addPermanentWidget(w)
        self.set_indexing(None)
        self.set_skipped(0)
        self.set_models("")
        self.error.setVisible(False)

    def set_indexing(self, p: Any) -> None:
        """Show a core Progress (phase, done, total), or hide the progress when None."""
        busy = p is not None and p.phase != "done"
        for w in (self.progress_label, self.progress, self.cancel):
            w.setVisible(busy)
        if not busy:
            return
        self.progress_label.setText(phase_text(p.phase, p.done, p.total))
        # a back-fill's count is in the model text ("CLAP embedding 1,200 / 5,000")
        self.progress_label.setVisible(not p.phase.startswith("embed:"))
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(min(p.done, p.total))
        else:
            self.progress.setRange(0, 0)  # busy indicator while the scan counts

    def set_skipped(self, n: int) -> None:
        self.skipped.setText(f"{n:,} skipped")
        self.skipped.setVisible(n > 0)

    def set_models(self, text: str, download_percent: float | None = None,
                   tooltip: str = "") -> None:
        """'MERT ready · CLAP 42%'; a progress bar while a model downloads."""
        self.models.setText(text)
        self.models.setVisible(bool(text))
        self.models.setToolTip((tooltip + "\n" if tooltip else "")
                               + "Click to download, link or unlink MERT and CLAP")
        self.model_progress.setVisible(download_percent is not None)
        if download_percent is not None:
            self.model_progress.setRange(0, 100 if download_percent > 0 else 0)
            self.model_progress.setValue(int(download_percent))

    def set_playback(self, reason: str) -> None:
        self.playback.setText(reason)
        self.playback.setToolTip(reason)
        self.playback.setVisible(bool(reason))

    def say(self, text: str) -> None:
        self.message.setText(text)

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.error.setVisible(True)
