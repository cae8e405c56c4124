"""Library → Models…: one row per model with its state, licence and Download / Link / Unlink.

The dialog only shows and asks; `ModelsController` does the work on the worker wrapper. A
download shows the licence first and runs with a progress bar here and in the status bar.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.ui.models import LABELS, NAMES, PURPOSE, ModelInfo, ModelsController, state_text

ERROR_STYLE = "color: #f6ad55;"
NOTE_STYLE = "color: #9aa4b0;"


def _size(n: int) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.1f} GB"
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{max(n, 0) / 1e3:.0f} KB"


class ModelRow(QFrame):
    """One model: title, what it is for, state, progress, message, and its three buttons."""

    def __init__(self, name: str, dialog: ModelsDialog) -> None:
        super().__init__()
        self.name, self.dialog = name, dialog
        self.setObjectName(f"model_{name}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(f"<b>{LABELS[name]}</b>")
        self.detail = QLabel(PURPOSE[name])
        self.detail.setStyleSheet(NOTE_STYLE)
        self.state = QLabel("…")
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.state.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        self.download = QPushButton("Download…")
        self.link = QPushButton("Link folder…")
        self.unlink = QPushButton("Unlink")
        self.download.clicked.connect(lambda: dialog.download_clicked(name))
        self.link.clicked.connect(lambda: dialog.link_clicked(name))
        self.unlink.clicked.connect(lambda: dialog.unlink_clicked(name))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for b in (self.download, self.link, self.unlink):
            buttons.addWidget(b)
        buttons.addStretch(1)
        grid = QGridLayout(self)
        grid.setContentsMargins(10, 8, 10, 8)
        grid.setVerticalSpacing(4)
        grid.addWidget(self.title, 0, 0)
        grid.addWidget(self.detail, 0, 1)
        grid.addWidget(self.state, 1, 0, 1, 2)
        grid.addWidget(self.progress, 2, 0, 1, 2)
        grid.addWidget(self.message, 3, 0, 1, 2)
        grid.addLayout(buttons, 4, 0, 1, 2)
        grid.setColumnStretch(1, 1)

    def show_info(self, info: ModelInfo | None, ctl: ModelsController) -> None:
        name = self.name
        downloading = name in ctl.downloads
        busy = name in ctl.busy or downloading
        if info is not None:
            self.title.setText(f"<b>{info.title}</b>")
            self.detail.setText(f"{PURPOSE[name]} · {info.licence} · {_size(info.size_bytes)}")
        state = ctl.states.get(name) or (info.state if info else "")
        self.state.setText(self._state_line(name, info, state, ctl))
        self.progress.setVisible(downloading or state == "downloading")
        done, total = ctl.downloads.get(name, (0, 0))
        pct = (100 * done / total if total else None) if downloading else \
            (info.percent if info else None)
        if downloading and not total:
            self.progress.setRange(0, 0)  # size not known yet
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(int(pct or 0))
        have = state in ("ready", "loaded", "loading")
        self.download.setText("Cancel download" if downloading else
                              "Download again…" if state == "failed" else "Download…")
        self.download.setEnabled(downloading or (info is not None and not busy and not have
                                                 and state != "downloading"))
        self.link.setEnabled(not busy)
        self.unlink.setEnabled(not busy and info is not None and info.source == "linked")

    @staticmethod
    def _state_line(name: str, info: ModelInfo | None, state: str,
                    ctl: ModelsController) -> str:
        if name in ctl.downloads:
            return "Downloading from Hugging Face…"
        if ctl.embedding is not None and ctl.embedding[0] == name:
            _n, done, total = ctl.embedding
            return f"Ready — embedding your library: {done:,} / {total:,}"
        text = state_text(state).capitalize() if state else "Looking…"
        if info is not None and info.path and state in ("ready", "loaded", "loading", "failed"):
            where = "linked folder" if info.source == "linked" else "Hugging Face cache"
            text += f" — {where}: {info.path}"
        if state.startswith("failed") and info is not None and info.reason:
            text += f"\n{info.reason}"
        elif state.startswith("failed: "):
            text += f"\n{state.split(': ', 1)[1]}"
        return text

    def say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else NOTE_STYLE)
        self.message.setVisible(bool(text))


class ModelsDialog(QDialog):
    def __init__(self, ctl: ModelsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.setObjectName("modelsDialog")
        self.resize(680, 380)
        self.ctl = ctl
        intro = QLabel("Studio works without these. Each adds a neural embedder that runs on this "
                       "computer — nothing is uploaded. Download one here, or link a folder "
                       "that already holds its files.")
        intro.setWordWrap(True)
        self.rows = {name: ModelRow(name, self) for name in NAMES}
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        for row in self.rows.values():
            lay.addWidget(row)
        lay.addStretch(1)
        lay.addWidget(close)
        ctl.changed.connect(self.update_rows)
        ctl.problem.connect(lambda n, t: self._say(n, t, True))
        ctl.notice.connect(lambda n, t: self._say(n, t, False))
        self.update_rows()
        ctl.refresh()

    def update_rows(self) -> None:
        for name, row in self.rows.items():
            row.show_info(self.ctl.infos.get(name), self.ctl)

    def _say(self, name: str, text: str, error: bool) -> None:
        if name in self.rows:
            self.rows[name].say(text, error)

    # ---- the buttons ---------------------------------------------------------------------------
    def download_clicked(self, name: str) -> None:
        if name in self.ctl.downloads:
            self.ctl.cancel(name)
            return
        info = self.ctl.infos.get(name)
        title = info.title if info else LABELS[name]
        note = info.licence_note if info else ""
        size = f"about {_size(info.size_bytes)}" if info else "the model"
        repo = info.repo_id if info else ""
        answer = QMessageBox.question(
            self, f"{title} — licence",
            f"{note}\n\nDo you accept this licence and want to download {size} from "
            f"huggingface.co/{repo}? You can cancel at any time; a stopped download resumes.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.rows[name].say("")
        self.ctl.download(name)

    def link_clicked(self, name: str) -> None:
        info = self.ctl.infos.get(name)
        start = os.path.dirname(info.path) if info and info.path else os.path.expanduser("~")
        folder = QFileDialog.getExistingDirectory(
            self, f"Folder with the {info.title if info else LABELS[name]} files", start)
        if not folder:
            return
        self.rows[name].say("Checking the folder…")
        self.ctl.link(name, folder)

    def unlink_clicked(self, name: str) -> None:
        self.rows[name].say("")
        self.ctl.unlink(name)


class ModelsUi:
    """The window's side of the models: controller, status-bar text and the one dialog."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.ctl = ModelsController(window.lib, window.indexer, window)
        self.dialog: ModelsDialog | None = None
        self.ctl.changed.connect(self._changed)
        self.ctl.problem.connect(lambda _n, t: window.status.say(t.splitlines()[0]))
        self.ctl.notice.connect(lambda _n, t: window.status.say(t))
        window.status.models_clicked.connect(self.show)

    def show(self) -> ModelsDialog:
        if self.dialog is None:
            self.dialog = ModelsDialog(self.ctl, self.window)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        return self.dialog

    def _changed(self) -> None:
        ctl = self.ctl
        tips = []
        for name in NAMES:
            info = ctl.infos.get(name)
            if info is not None and info.reason and ctl.states.get(name, "").startswith("fail"):
                tips.append(f"{LABELS[name]}: {info.reason}")
        self.window.status.set_models(ctl.text(), ctl.download_percent(), "\n".join(tips))

    def shutdown(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.ctl.shutdown()
