"""Steps the window tests share: drop files, find a kit file, count result rows, search,
and add a folder of new kicks while results are on screen."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent


def drop(w: Any, paths: list[str]) -> None:
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(p) for p in paths])
    ev = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, md,
                    Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    w.dropEvent(ev)


def kit_file(lib: Any, name: str) -> str:
    root = Path(lib.roots()[0])
    return str(next(root.rglob(name)))


def rows(w: Any) -> int:
    return w.results.model.rowCount()


def search(w: Any, qtbot: Any, text: str = "kick", n: int = 3) -> None:
    w.search_bar.edit.setText(text)
    w.search_bar.flush()
    qtbot.waitUntil(lambda: rows(w) >= n and not w.searcher.busy(), timeout=5000)


def add_new_kicks(w: Any, qtbot: Any, tmp_path: Path, sample_folder: Path,
                  folder: str = "More Kicks", prefix: str = "NEW ") -> Path:
    """Add a folder of the demo kicks renamed "NEW …" (or `prefix` …) and wait for its index
    run to end; the folder."""
    extra = tmp_path / folder
    shutil.copytree(sample_folder / "Kicks", extra)
    for f in extra.iterdir():
        f.rename(extra / (prefix + f.name))
    w.add_folder(str(extra))
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=30000)
    return extra


def new_kicks_shown(w: Any) -> bool:
    return any(h.name.startswith("NEW ") for h in w.results.model.hits)


def expand_listed(tree: Any, index: Any, qtbot: Any) -> None:
    """Expand a library-tree folder and wait until its rows are in (it is listed on a worker)."""
    from studio.ui.library_tree import LISTING_ROLE

    tree.expand(index)
    qtbot.waitUntil(lambda: not index.data(LISTING_ROLE), timeout=5000)
