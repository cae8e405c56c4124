"""The library panel: the folders Studio indexes, browsed as a tree of folders and audio files.

Folders are listed lazily when expanded (one `os.scandir` each), so a library of 100k files
costs nothing until the user opens a folder. The listing and its rows are made on a worker
and go in with one insertion: a folder of 20k files blocked the window ~300 ms when listed
on the GUI thread (scandir ~80 ms, making the rows ~170 ms). Audio files drag out as file
URLs.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import (
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
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
from studio.ui.worker import Job, start_worker

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
IS_DIR_ROLE = Qt.ItemDataRole.UserRole + 2
IS_ROOT_ROLE = Qt.ItemDataRole.UserRole + 3
LISTED_ROLE = Qt.ItemDataRole.UserRole + 4  # the folder's mtime when it was listed
LISTING_ROLE = Qt.ItemDataRole.UserRole + 5  # True while a worker lists the folder
_PLACEHOLDER = "…"
_LISTING = "listing…"
SLOW_LISTING_MS = 2000  # a listing that takes longer lets the next ones start


def _item(path: str, is_dir: bool, root: bool = False) -> QStandardItem:
    it = QStandardItem(os.path.basename(path.rstrip(os.sep)) or path)
    it.setEditable(False)
    it.setData(path, PATH_ROLE)
    it.setData(is_dir, IS_DIR_ROLE)
    if root:
        it.setData(root, IS_ROOT_ROLE)
    # Tooltip and icon come from LibraryModel.data: set on each item, they were half the
    # cost of listing a folder of 20k files.
    if is_dir:
        it.setDragEnabled(False)
        it.appendRow(QStandardItem(_PLACEHOLDER))
    return it


def _loaded(item: QStandardItem) -> bool:
    """Whether a folder item lists its contents (not just the placeholder row)."""
    if item.data(LISTING_ROLE):
        return False
    return not (item.rowCount() == 1 and item.child(0).text() == _PLACEHOLDER
                and item.child(0).data(PATH_ROLE) is None)


def _subfolders(item: QStandardItem) -> list[QStandardItem]:
    """The folder rows under `item` (listed before its files, so the first file ends them)."""
    out = []
    for r in range(item.rowCount()):
        child = item.child(r)
        if not child.data(IS_DIR_ROLE):
            break
        out.append(child)
    return out


def _mtime(folder: str) -> int | None:
    try:
        return os.stat(folder).st_mtime_ns
    except OSError:
        return None


def _listing(folder: str) -> list[tuple[str, bool]] | str:
    """(path, is folder) of what `folder` shows, folders first, by name; or why not."""
    dirs: list[tuple[str, str]] = []
    files: list[tuple[str, str]] = []
    try:
        with os.scandir(folder) as it:
            for e in it:
                if e.name.startswith("."):
                    continue
                if e.is_dir():
                    dirs.append((e.name.lower(), e.path))
                elif is_audio_path(e.name):
                    files.append((e.name.lower(), e.path))
    except OSError as e:
        return e.strerror or str(e)
    dirs.sort()
    files.sort()
    return [(p, True) for _, p in dirs] + [(p, False) for _, p in files]


def _list_rows(job: Job, folder: str) -> tuple[int | None, list[QStandardItem] | str]:
    """On a worker: the folder's mtime, then its rows (made here, off the GUI thread: they are
    plain items, not yet in a model), or why it cannot be read."""
    stamp = _mtime(folder)
    entries = _listing(folder)
    if isinstance(entries, str):
        return stamp, entries
    return stamp, [_item(path, is_dir) for path, is_dir in entries]


def _relist(job: Job, folder: str) -> tuple[int | None, list[tuple[str, bool]] | str]:
    """On a worker: the folder's mtime, then what it shows (paths), or why it cannot be read."""
    return _mtime(folder), _listing(folder)


class LibraryModel(QStandardItemModel):
    """Library folders, each listed lazily (a folder is read when first expanded, on a worker).

    Changes are made in place, row by row: adding or removing a folder, or files arriving
    on disk, leave the other rows, their expansion and the current item as they were."""

    folder_listed = Signal(str)  # a folder's rows are in (or its "cannot read" row)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # (where, folder, refresh): a first listing, or a refresh of a listed folder.
        self._queue: list[tuple[QPersistentModelIndex, str, bool]] = []
        self._refreshing: set[str] = set()  # folders queued for a refresh
        self._listing = False
        self._turn = 0  # which listing holds the queue

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return super().data(index, PATH_ROLE)
        if role == Qt.ItemDataRole.DecorationRole:
            is_dir = super().data(index, IS_DIR_ROLE)
            if is_dir is not None:
                return style.icon("folder" if is_dir else "audio")
        return super().data(index, role)

    def set_roots(self, roots: list[str]) -> None:
        want = sorted(roots, key=lambda p: os.path.basename(p).lower())
        for row in reversed(range(self.rowCount())):
            if self.item(row).data(PATH_ROLE) not in want:
                self.removeRow(row)
        self._merge(None, [(r, True) for r in want])

    def populate(self, index: QModelIndex | QPersistentModelIndex) -> None:
        """List the folder at `index` (once; on a worker): "listing…" until its rows are in."""
        item = self.itemFromIndex(index)
        if item is None or not item.data(IS_DIR_ROLE) or _loaded(item) or item.data(LISTING_ROLE):
            return
        item.setData(True, LISTING_ROLE)
        if item.rowCount():
            item.child(0).setText(_LISTING)
        # One listing at a time, in the order asked ("*" expands a whole tree: not a
        # thread per folder).
        self._queue.append((QPersistentModelIndex(index), item.data(PATH_ROLE), False))
        self._next_listing()

    def _next_listing(self) -> None:
        if self._listing or not self._queue:
            return
        where, folder, refresh = self._queue.pop(0)
        self._listing = True
        self._turn += 1
        turn = self._turn

        def give_way() -> None:
            # A folder that takes this long (a network share that stopped answering) keeps
            # "listing…" on its own worker; the folders asked for after it go on.
            if self._listing and self._turn == turn:
                self._listing = False
                self._next_listing()

        QTimer.singleShot(SLOW_LISTING_MS, self, give_way)

        def done(stamp: int | None, rows: Any) -> None:
            if self._turn == turn:
                self._listing = False
            if refresh:
                self._relisted(where, folder, stamp, rows)
            else:
                self._listed(where, folder, stamp, rows)
            self._next_listing()

        # Abandonable: a share that stopped answering holds its scandir() forever, and
        # quitting waited up to 30 s for it. A listing leaves nothing half-written behind.
        start_worker(_relist if refresh else _list_rows, folder, title="Listing a folder",
                     parent=self, on_result=lambda r: done(*r),
                     on_error=lambda e: done(None, str(e)), abandonable=True)

    def _item_at(self, where: QPersistentModelIndex) -> QStandardItem | None:
        """The item a queued listing was for, if it is still in the tree."""
        if not where.isValid():
            return None
        return self.itemFromIndex(self.index(where.row(), 0, where.parent()))

    def _listed(self, where: QPersistentModelIndex, folder: str, stamp: int | None,
                rows: list[QStandardItem] | str) -> None:
        item = self._item_at(where)
        if item is None or item.data(PATH_ROLE) != folder or not item.data(LISTING_ROLE):
            return  # the folder left the tree (or was listed another way) meanwhile
        item.setData(None, LISTING_ROLE)
        item.removeRows(0, item.rowCount())
        if isinstance(rows, str):  # not stamped: the next refresh lists it again
            err = QStandardItem(f"cannot read: {rows}")
            err.setEditable(False)
            item.appendRow(err)
        else:
            item.setData(stamp, LISTED_ROLE)
            # One insertion for all rows: row by row, a folder of 20k files blocked the
            # window ~470 ms (each row its own rowsInserted for the view to lay out).
            item.appendRows(rows)
            if stamp is not None and _mtime(folder) != stamp:
                self.refresh_loaded()  # files came or went while it was listed
        self.folder_listed.emit(folder)

    def refresh_loaded(self) -> None:
        """Re-read every folder already listed whose files came or went since (its mtime
        changed): on the listing worker, in turn with the folders being expanded. Read on
        the GUI thread, a folder of 20k files took ~120 ms at the end of every index run."""
        stack = [self.item(r) for r in range(self.rowCount())]
        while stack:
            item = stack.pop()
            if not _loaded(item):
                continue
            stack += _subfolders(item)
            folder = item.data(PATH_ROLE)
            stamp = _mtime(folder)
            if stamp is not None and stamp == item.data(LISTED_ROLE) or folder in self._refreshing:
                continue
            self._refreshing.add(folder)
            self._queue.append((QPersistentModelIndex(item.index()), folder, True))
        self._next_listing()

    def _relisted(self, where: QPersistentModelIndex, folder: str, stamp: int | None,
                  entries: list[tuple[str, bool]] | str) -> None:
        self._refreshing.discard(folder)
        item = self._item_at(where)
        if item is None or item.data(PATH_ROLE) != folder or not _loaded(item):
            return  # gone from the tree meanwhile (its parent's refresh removed it)
        if isinstance(entries, str):
            return  # unreadable for now: keep what was listed, and try again next time
        item.setData(stamp, LISTED_ROLE)
        keep = {p for p, _ in entries}
        for row in reversed(range(item.rowCount())):
            if item.child(row).data(PATH_ROLE) not in keep:
                item.removeRow(row)
        self._merge(item, entries)
        self.folder_listed.emit(folder)

    def _merge(self, parent: QStandardItem | None, entries: list[tuple[str, bool]]) -> None:
        """Insert the `entries` (in display order) that `parent` (None: the top level, the
        library folders) lacks, where they go; the rows it has are a subsequence of them."""
        for i, (path, is_dir) in enumerate(entries):
            child = self.item(i) if parent is None else parent.child(i)
            if child is None or child.data(PATH_ROLE) != path:
                new = [_item(path, is_dir, root=parent is None)]
                # The list overloads: PySide6's insertRow(int, QStandardItem) on an item
                # does not take ownership, and the new item is collected (a dead row).
                if parent is None:
                    self.insertRow(i, new)
                else:
                    parent.insertRow(i, new)

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
