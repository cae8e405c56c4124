"""The window's geometry, dock state and splitter sizes, restored on start and saved on close."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QMainWindow, QSplitter

from studio.ui import settings as S

DEFAULT_SIZE = (1180, 740)  # a DAW browser's size; never more than 90 % of the screen
_SPLIT_KEYS = (S.SPLIT_MAIN, S.SPLIT_RIGHT)


def restore(w: QMainWindow, st: S.Settings, splits: Sequence[QSplitter]) -> None:
    if not st.get(S.GEOMETRY).isEmpty():
        w.restoreGeometry(st.get(S.GEOMETRY))
    else:  # first launch
        screen = w.screen().availableGeometry() if w.screen() else None
        width, height = DEFAULT_SIZE
        if screen is not None:
            width = min(width, int(screen.width() * 0.9))
            height = min(height, int(screen.height() * 0.9))
        w.resize(width, height)
    if not st.get(S.STATE).isEmpty():
        w.restoreState(st.get(S.STATE))
    for split, key in zip(splits, _SPLIT_KEYS, strict=True):
        sizes = st.get(key)
        if len(sizes) == split.count() and all(s >= 0 for s in sizes):
            split.setSizes(sizes)


def save(w: QMainWindow, st: S.Settings, splits: Sequence[QSplitter]) -> None:
    st.set(S.GEOMETRY, w.saveGeometry())
    st.set(S.STATE, w.saveState())
    for split, key in zip(splits, _SPLIT_KEYS, strict=True):
        st.set(key, split.sizes())
    st.sync()
