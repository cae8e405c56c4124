"""The library panel: the folders Studio indexes, browsed as a tree of folders and audio files.

Folders are listed lazily when expanded (one `os.scandir` each), so a library of 100k files
costs nothing until the user opens a folder. Audio files drag out as file URLs.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QMimeData, QModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from studio.core.audio import is_audio_path
from studio.ui import style

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
IS_DIR_ROLE = Qt.ItemDataRole.UserRole + 2
IS_ROOT_ROLE = Qt.ItemDataRole.UserRole + 3
_PLACEHOLDER = "…"


def _item(path: str, is_dir: bool, root: bool = False) -> QStandardItem:
    it = QStandardItem(os.path.basename(path.rstrip(os.sep)) or path)
    it.setEditable(False)
    it.setData(path, PATH_ROLE)
    it.setData(is_dir, IS_DIR_ROLE)
    it.setData(root, IS_ROOT_ROLE)
    it.setToolTip(path)
    it.setIcon(style.icon("folder" if is_dir else "audio"))
    if is_dir:
        it.setDragEnabled(False)
        it.appendRow(QStandardItem(_PLACEHOLDER))
    return it


class LibraryModel(QStandardItemModel):
    def set_roots(self, roots: list[str]) -> None:
        self.clear()
        for r in sorted(roots, key=lambda p: os.path.basename(p).lower()):
            self.appendRow(_item(r, True, root=True))

    def populate(self, index: QModelIndex) -> None:
        item = self.itemFromIndex(index)
        if item is None or not item.data(IS_DIR_ROLE):
            return
        if not (item.rowCount() == 1 and item.child(0).text() == _PLACEHOLDER
                and item.child(0).data(PATH_ROLE) is None):
            return
        item.removeRows(0, item.rowCount())
        try:
            with os.scandir(item.data(PATH_ROLE)) as it:
                entries = [(e.name, e.path, e.is_dir()) for e in it if not e.name.startswith(".")]
        except OSError as e:
            err = QStandardItem(f"cannot read: {e.strerror or e}")
            err.setEditable(False)
            item.appendRow(err)
            return
        dirs = sorted((p for n, p, d in entries if d), key=lambda p: os.path.basename(p).lower())
        files = sorted((p for n, p, d in entries if not d and is_audio_path(n)),
                       key=lambda p: os.path.basename(p).lower())
        rows = [_item(p, True) for p in dirs] + [_item(p, False) for p in files]
        for r in rows:
            item.appendRow(r)

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: Any) -> QMimeData:
        md = QMimeData()
        paths = [i.data(PATH_ROLE) for i in indexes if i.isValid() and not i.data(IS_DIR_ROLE)]
        md.setUrls([QUrl.fromLocalFile(p) for p in paths if p])
        return md

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


class LibraryPanel(QWidget):
    add_requested = Signal()
    remove_requested = Signal(str)
    file_selected = Signal(str)
    context_requested = Signal(object, list)  # global point, paths

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryPanel")
        self.model = LibraryModel(self)
        self.view = QTreeView()
        self.view.setObjectName("libraryTree")
        self.view.setModel(self.model)
        self.view.setHeaderHidden(True)
        self.view.setUniformRowHeights(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setDragEnabled(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.view.expanded.connect(self.model.populate)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(
            lambda pos: self.context_requested.emit(self.view.viewport().mapToGlobal(pos),
                                                    self.selected_paths()))
        title = QLabel("Library")
        title.setObjectName("panelTitle")
        self.add_button = QPushButton(style.icon("add"), "Add folder…")
        self.add_button.setToolTip("Add a folder of samples to the library (Ctrl+O)")
        self.add_button.clicked.connect(self.add_requested)
        self.remove_button = QPushButton(style.icon("remove"), "Remove")
        self.remove_button.setToolTip("Stop indexing the selected library folder "
                                      "(your files are not touched)")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self._remove_clicked)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 0, 4)
        lay.setSpacing(4)
        lay.addWidget(title)
        lay.addWidget(self.view, 1)
        lay.addLayout(buttons)
        self.view.selectionModel().currentChanged.connect(self._current_changed)

    def set_roots(self, roots: list[str]) -> None:
        self.model.set_roots(roots)
        self.remove_button.setEnabled(False)

    def selected_paths(self) -> list[str]:
        sel = self.view.selectionModel().selectedIndexes()
        return [p for i in sel if (p := i.data(PATH_ROLE))]

    def selected_root(self) -> str | None:
        cur = self.view.currentIndex()
        return cur.data(PATH_ROLE) if cur.isValid() and cur.data(IS_ROOT_ROLE) else None

    def _current_changed(self, cur: QModelIndex, _prev: QModelIndex) -> None:
        self.remove_button.setEnabled(bool(cur.isValid() and cur.data(IS_ROOT_ROLE)))
        path = cur.data(PATH_ROLE) if cur.isValid() else None
        if path and not cur.data(IS_DIR_ROLE):
            self.file_selected.emit(path)

    def _remove_clicked(self) -> None:
        root = self.selected_root()
        if root:
            self.remove_requested.emit(root)
