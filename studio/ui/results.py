"""The results panel: a sortable table of hits, dragged out as files, and the welcome page.

The model hands out `text/uri-list` (QMimeData.setUrls) for the selected rows, so a DAW or a
file manager receives ordinary files; drags offer Qt.CopyAction only, never a move.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QDrag, QKeyEvent, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from studio.core.search import Hit
from studio.ui.labels import category_cell, category_label, category_odds, match_note

COLUMNS = ("Name", "Category", "Length", "Match", "Folder")
_Index = QModelIndex | QPersistentModelIndex
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
NOTE_ROLE = Qt.ItemDataRole.UserRole + 2  # "at 1.50–2.50 s" when the match is inside the file
NOTE_COLOUR = "#f6ad55"


def _sort_key(h: Hit, col: int) -> Any:
    return (h.name.lower(), category_label(h.category), h.duration or 0.0, h.score, h.folder.lower())[col]


class ResultsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.hits: list[Hit] = []

    def set_hits(self, hits: list[Hit]) -> None:
        self.beginResetModel()
        self.hits = list(hits)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.hits)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.hits):
            return None
        h, col = self.hits[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return h.name
            if col == 1:
                return category_cell(h) or "—"
            if col == 2:
                return "—" if h.duration is None else f"{h.duration:.2f} s"
            if col == 3:  # fused scores can dip below 0 ("less alike than random"); show 0
                return f"{max(h.score, 0.0):.2f}"
            return h.folder
        if role == Qt.ItemDataRole.ToolTipRole:
            words = (h.analysis or {}).get("words") or {}
            top = ", ".join(w for w, v in sorted(words.items(), key=lambda kv: -kv[1])[:4]
                            if v >= 0.5)
            note = match_note(h)
            if h.identical:
                where = "\nthe same bytes as the sample searched with: you have this already"
            else:
                where = (f"\nbest match {note} of {h.duration:.2f} s"
                         if note and h.duration else "")
            odds = category_odds(h)
            return h.path + where + (f"\n{odds}" if odds else "") + (f"\n{top}" if top else "")
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (2, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == PATH_ROLE:
            return h.path
        if role == NOTE_ROLE and col == 0:
            return match_note(h)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        # The selection, the current row (what drag-out, copy and audition act on) are
        # persistent indexes: they must follow their hits to the new rows.
        old = self.persistentIndexList()
        rows = sorted(range(len(self.hits)), key=lambda i: _sort_key(self.hits[i], column),
                      reverse=order == Qt.SortOrder.DescendingOrder)
        self.hits = [self.hits[i] for i in rows]
        where = {r: n for n, r in enumerate(rows)}
        self.changePersistentIndexList(
            old, [self.index(where[i.row()], i.column()) if i.row() in where else QModelIndex()
                  for i in old])
        self.layoutChanged.emit()

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def mimeData(self, indexes: Any) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        md = QMimeData()
        md.setUrls([QUrl.fromLocalFile(self.hits[r].path) for r in rows if r < len(self.hits)])
        return md

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def path_at(self, row: int) -> str | None:
        return self.hits[row].path if 0 <= row < len(self.hits) else None


class ResultsView(QTableView):
    """Compact rows, whole-row selection, drag out as files, keyboard first."""

    context_requested = Signal(object, list)  # global QPoint, paths
    # A click on the row that is already current, or Return / Enter: play it (again). A
    # click on another row plays through the current-row change instead.
    play_requested = Signal()
    more_wanted = Signal()  # scrolled (or moved) to the last row: the list may go on

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("results")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setSortingEnabled(True)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTabKeyNavigation(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(20)
        self.verticalHeader().setMinimumSectionSize(18)
        hh = self.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setStretchLastSection(True)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegateForColumn(0, NoteDelegate(self))
        self.customContextMenuRequested.connect(
            lambda pos: self.context_requested.emit(self.viewport().mapToGlobal(pos),
                                                    self.selected_paths()))
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self._press_row: int | None = None

    def _scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        if bar.maximum() > 0 and value >= bar.maximum():
            self.more_wanted.emit()

    def currentChanged(self, current: _Index, previous: _Index) -> None:  # noqa: N802
        super().currentChanged(current, previous)
        model = self.model()
        if current.isValid() and model is not None and current.row() == model.rowCount() - 1:
            self.more_wanted.emit()  # the keyboard reached the end (a list too short to scroll)

    def set_column_widths(self) -> None:
        for col, w in enumerate((260, 140, 70, 60)):  # 140: "closed hat / open hat"
            self.setColumnWidth(col, w)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        row = self.indexAt(event.position().toPoint()).row()
        # A click (press and release) on the row already current plays it again; a press
        # that becomes a drag into the DAW must not restart it.
        self._press_row = (row if event.button() == Qt.MouseButton.LeftButton
                           and event.modifiers() == Qt.KeyboardModifier.NoModifier
                           and self.currentIndex().isValid()
                           and row == self.currentIndex().row() else None)
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        row, self._press_row = self._press_row, None
        super().mouseReleaseEvent(event)
        if (row is not None and event.button() == Qt.MouseButton.LeftButton
                and self.indexAt(event.position().toPoint()).row() == row):
            self.play_requested.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.play_requested.emit()
            return
        super().keyPressEvent(event)

    def moveCursor(self, action: QAbstractItemView.CursorAction,
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        """Home / End go to the first / last result: rows are what this list selects (a
        table's Home and End only change the column, which shows nothing here)."""
        act = QAbstractItemView.CursorAction
        model = self.model()
        if action in (act.MoveHome, act.MoveEnd) and model is not None and model.rowCount():
            row = 0 if action == act.MoveHome else model.rowCount() - 1
            return model.index(row, max(self.currentIndex().column(), 0))
        return super().moveCursor(action, modifiers)

    def selected_paths(self) -> list[str]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()}) \
            if self.selectionModel() else []
        model = self.model()
        return [p for r in rows if (p := model.index(r, 0).data(PATH_ROLE))]

    def drag_mime(self) -> QMimeData:
        """What a drag of the current selection carries (tests read this)."""
        return self.model().mimeData(self.selectionModel().selectedRows())

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        md = self.drag_mime()
        if not md.urls():
            return
        drag = QDrag(self)
        drag.setMimeData(md)
        n = len(md.urls())
        drag.setPixmap(self._drag_pixmap(n))
        drag.exec(Qt.DropAction.CopyAction, Qt.DropAction.CopyAction)

    def _drag_pixmap(self, n: int) -> Any:
        from PySide6.QtGui import QColor, QPainter, QPixmap

        text = f"{n} samples" if n > 1 else os.path.basename(self.selected_paths()[0])
        fm = self.fontMetrics()
        pm = QPixmap(fm.horizontalAdvance(text) + 16, fm.height() + 8)
        pm.fill(QColor("#2b6cb0"))
        p = QPainter(pm)
        p.setPen(QColor("white"))
        p.drawText(8, fm.ascent() + 4, text)
        p.end()
        return pm


class NoteDelegate(QStyledItemDelegate):
    """The name, and right-aligned in a warm colour where in the file the match is."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Any) -> None:
        note = index.data(NOTE_ROLE)
        if not note:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        widget = opt.widget  # type: ignore[attr-defined]
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        fm = opt.fontMetrics  # type: ignore[attr-defined]
        rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        rect.adjust(3, 0, -3, 0)  # the text margin the style uses for the other columns
        note_w = fm.horizontalAdvance(note) + 10
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        group = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setPen(opt.palette.color(group))  # type: ignore[attr-defined]
        name_rect = rect.adjusted(0, 0, -note_w, 0)
        align = Qt.AlignmentFlag.AlignVCenter
        painter.drawText(name_rect, align | Qt.AlignmentFlag.AlignLeft,
                         fm.elidedText(text, Qt.TextElideMode.ElideRight, name_rect.width()))
        painter.setPen(QColor("#ffffff" if selected else NOTE_COLOUR))
        painter.drawText(rect, align | Qt.AlignmentFlag.AlignRight, note)
        painter.restore()
