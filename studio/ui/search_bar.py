"""The search field and its facets: category, length and sound words.

Typing is debounced (200 ms) before `changed` fires; a facet change fires at once. The window
decides what to search (text alone, or "like the dropped file, but <words>").
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QMenu, QToolButton, QWidget

from studio.core.search import Filters
from studio.ui import style
from studio.ui.labels import facet_entries

DEBOUNCE_MS = 200
LENGTHS = (("any length", None, None), ("< 0.25 s", None, 0.25), ("0.25 – 1 s", 0.25, 1.0),
           ("1 – 4 s", 1.0, 4.0), ("> 4 s", 4.0, None))
_FALLBACK_CATEGORIES = ("kick", "snare", "clap", "hihat", "tom", "cymbal", "perc")


def categories() -> tuple[str, ...]:
    try:
        from studio.core import drums

        return tuple(getattr(drums, "CATEGORIES", _FALLBACK_CATEGORIES))
    except Exception:  # noqa: BLE001 - the facet must never take the window down
        return _FALLBACK_CATEGORIES


def word_definitions() -> dict[str, str]:
    try:
        from studio.core import drums

        return dict(getattr(drums, "WORD_DEFINITIONS", {}))
    except Exception:  # noqa: BLE001
        return {}


class SearchBar(QWidget):
    changed = Signal()
    down_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchBar")
        self.edit = QLineEdit()
        self.edit.setObjectName("searchField")
        self.edit.setPlaceholderText("describe a sound, or drop a sample anywhere …")
        self.edit.setClearButtonEnabled(True)
        self.edit.addAction(style.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.edit.setToolTip("Type words (\"dusty lo-fi snare\") or drop a sample on the window.\n"
                             "With a sample dropped, the words refine it: like this, but …")
        self.edit.installEventFilter(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.changed)
        self.edit.textChanged.connect(lambda _t: self._timer.start())

        self.category = QComboBox()
        self.category.setToolTip("Only this category")
        self.category.addItem("any category", None)
        for label, cat in facet_entries(categories()):
            self.category.addItem(label, cat)
        self.category.currentIndexChanged.connect(lambda _i: self.changed.emit())

        self.length = QComboBox()
        self.length.setToolTip("Only samples of this length")
        for label, lo, hi in LENGTHS:
            self.length.addItem(label, (lo, hi))
        self.length.currentIndexChanged.connect(lambda _i: self.changed.emit())

        self.words = QToolButton()
        self.words.setText("words")
        self.words.setToolTip("Only samples described by every ticked word")
        self.words.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.words)
        self._word_actions: list[QAction] = []
        for word, meaning in word_definitions().items():
            act = menu.addAction(word)
            act.setCheckable(True)
            act.setToolTip(meaning)
            act.toggled.connect(self._words_toggled)
            self._word_actions.append(act)
        menu.setToolTipsVisible(True)
        self.words.setMenu(menu)
        self.words.setVisible(bool(self._word_actions))

        self.settings_button = QToolButton()
        self.settings_button.setIcon(style.icon("settings"))
        self.settings_button.setToolTip("Settings")
        self.settings_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)

        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 4)
        lay.setSpacing(6)
        lay.addWidget(self.edit, 1)
        lay.addWidget(self.category)
        lay.addWidget(self.length)
        lay.addWidget(self.words)
        lay.addWidget(self.settings_button)

    def text(self) -> str:
        return self.edit.text().strip()

    def filters(self) -> Filters:
        lo, hi = self.length.currentData() or (None, None)
        words = [a.text() for a in self._word_actions if a.isChecked()]
        return Filters(category=self.category.currentData(), min_seconds=lo, max_seconds=hi,
                       words=words)

    def clear_filters(self) -> bool:
        """Every filter back to 'any', in one change; whether any was set."""
        was = self.filters().active()
        for w in (self.category, self.length, *self._word_actions):
            w.blockSignals(True)
        self.category.setCurrentIndex(0)
        self.length.setCurrentIndex(0)
        for a in self._word_actions:
            a.setChecked(False)
        for w in (self.category, self.length, *self._word_actions):
            w.blockSignals(False)
        self.words.setText("words")
        if was:
            self.changed.emit()
        return was

    def flush(self) -> None:
        """Fire a pending debounced change now."""
        if self._timer.isActive():
            self._timer.stop()
            self.changed.emit()

    def _words_toggled(self, _on: bool) -> None:
        n = sum(a.isChecked() for a in self._word_actions)
        self.words.setText(f"words ({n})" if n else "words")
        self.changed.emit()

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if obj is self.edit and ev.type() == QEvent.Type.KeyPress and isinstance(ev, QKeyEvent):
            key = ev.key()
            if key == Qt.Key.Key_Down:
                self.down_pressed.emit()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.flush()
                return True
        return super().eventFilter(obj, ev)
