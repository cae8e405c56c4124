"""The results area: a header saying what was asked, the results table, or the welcome page.

With no library yet it shows the welcome page, inviting the user to add a folder or to try
the demo kit.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.ui import style
from studio.ui.results import ResultsModel, ResultsView


class WelcomePage(QWidget):
    add_requested = Signal()
    demo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        title = QLabel("Find drum samples by how they sound")
        title.setObjectName("welcomeTitle")
        text = QLabel("Add the folders where your samples live. Studio indexes them in the "
                      "background — nothing is uploaded, nothing is changed.\nThen drop a "
                      "sample anywhere on this window to find the ones that sound like it, or "
                      "describe a sound in the search field.")
        text.setObjectName("welcomeText")
        text.setWordWrap(True)
        # Why the page is back: a search asked of a library with no folders (review 12: a
        # drop on it showed an empty table, "0 results", and nothing more).
        self.notice = QLabel()
        self.notice.setObjectName("welcomeNotice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.add_button = QPushButton(style.icon("add"), "Add folder…")
        self.add_button.setObjectName("primary")
        self.add_button.clicked.connect(self.add_requested)
        self.demo_button = QPushButton(style.icon("play"), "Try the demo kit")
        self.demo_button.setToolTip("Synthesise 29 drum one-shots into Studio's data folder "
                                    "and index them")
        self.demo_button.clicked.connect(self.demo_requested)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.demo_button)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(32, 32, 32, 32)
        lay.addStretch(1)
        lay.addWidget(self.notice)
        lay.addWidget(title)
        lay.addWidget(text)
        lay.addSpacing(12)
        lay.addLayout(row)
        lay.addStretch(2)


class ResultsArea(QStackedWidget):
    clear_like_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.welcome = WelcomePage()
        self.model = ResultsModel(self)
        self.view = ResultsView()
        self.view.setModel(self.model)
        self.view.set_column_widths()
        self.view.horizontalHeader().setSortIndicator(3, Qt.SortOrder.DescendingOrder)
        self.header = QLabel("Drop a sample anywhere, or describe a sound")
        self.header.setObjectName("resultsHeader")
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        self.clear_like = QToolButton()
        self.clear_like.setIcon(style.icon("cancel"))
        self.clear_like.setToolTip("Forget the dropped sample (search by words only)")
        policy = self.clear_like.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # the header must not jump when it appears
        self.clear_like.setSizePolicy(policy)
        self.clear_like.setVisible(False)
        self.clear_like.clicked.connect(self.clear_like_requested)
        self.message = QLabel("")
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.header, 1)
        head.addWidget(self.clear_like)
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(head)
        lay.addWidget(self.message)
        lay.addWidget(self.view, 1)
        self.results_page = page
        self.addWidget(self.welcome)
        self.addWidget(page)

    def show_welcome(self, on: bool, notice: str = "") -> None:
        self.welcome.notice.setText(notice)
        self.welcome.notice.setVisible(bool(notice))
        self.setCurrentWidget(self.welcome if on else self.results_page)

    def set_hits(self, hits: list, keep: tuple[list[str], str | None] | None = None) -> None:
        """New results arrive ranked by match: show them so, whatever the last sort was.

        `keep` (selected paths, current path): the same query again after the library
        changed; the user's sort, selection and current row stay where they were, for the
        sounds still there."""
        header = self.view.horizontalHeader()
        sort = (header.sortIndicatorSection(), header.sortIndicatorOrder())
        self.model.set_hits(hits)
        if keep is None:
            header.setSortIndicator(3, Qt.SortOrder.DescendingOrder)
            return
        self.model.sort(*sort)
        selected, current = keep
        rows = {h.path: r for r, h in enumerate(self.model.hits)}
        sm = self.view.selectionModel()
        flags = QItemSelectionModel.SelectionFlag
        if current in rows:
            sm.setCurrentIndex(self.model.index(rows[current], 0), flags.NoUpdate)
        for p in selected:
            if p in rows:
                sm.select(self.model.index(rows[p], 0), flags.Select | flags.Rows)

    def set_header(self, text: str, like_active: bool = False) -> None:
        self.header.setText(text)
        self.clear_like.setVisible(like_active)

    def set_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
