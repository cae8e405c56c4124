"""Every command of the window as a QAction with its shortcut, in the menus and context menus.

Shortcuts: Ctrl+O add folder · Ctrl+F / Ctrl+L search field · F or Ctrl+Shift+F find similar ·
Space play/stop · Esc stop · ↑/↓ move and play · Ctrl+1 library · Ctrl+2 results ·
Ctrl+Shift+P auto-play · Ctrl+Alt+Up/Down volume · Ctrl+C copy paths · Ctrl+Shift+R show in
folder · Ctrl+Shift+Backspace clear filters · Ctrl+R rescan · Ctrl+. stop indexing ·
Ctrl+Q quit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QUrl
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QApplication, QComboBox, QMenu

from studio.ui import settings as S
from studio.ui import style
from studio.ui.player import output_devices

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


MAX_REVEALED_FOLDERS = 5  # a selection over many folders opens the first few, not fifty


def reveal_plan(paths: list[str]) -> tuple[list[str], list[str]]:
    """What "Show in folder" shows: the files (to be selected in the file manager) and, for
    a file manager that cannot select them, the distinct folders that hold them, in the
    order of the selection (at most MAX_REVEALED_FOLDERS)."""
    files = [p for p in paths if not os.path.isdir(p)]
    folders = list(dict.fromkeys(p if os.path.isdir(p) else os.path.dirname(p) for p in paths))
    return files, folders[:MAX_REVEALED_FOLDERS]


def reveal(paths: list[str]) -> None:
    """Each file shown selected in its folder, as Finder's Reveal and Explorer's /select do;
    on Linux through the freedesktop FileManager1 interface (Nautilus, Dolphin, Nemo,
    Thunar...), else the folders are opened."""
    files, folders = reveal_plan(paths)
    if sys.platform == "darwin":
        subprocess.Popen(["open", "-R", *(files or folders)])
        return
    if sys.platform == "win32":
        for f in (files or folders)[:MAX_REVEALED_FOLDERS]:
            subprocess.Popen(["explorer", "/select,", os.path.normpath(f)])
        return
    if files and _show_items([QUrl.fromLocalFile(f).toString() for f in files], folders):
        return
    _open_folders(folders)


def _open_folders(folders: list[str]) -> None:
    for folder in folders:
        QDesktopServices.openUrl(QUrl.fromLocalFile(folder))


_pending_reveals: set[Any] = set()  # watchers of ShowItems calls in flight


def _show_items(uris: list[str], folders: list[str]) -> bool:
    """Ask the freedesktop file manager to select `uris`, without waiting for it (a file
    manager that is slow to start must not freeze the window): if the call fails, the
    folders are opened instead. False when there is no session bus to ask."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusMessage, QDBusPendingCallWatcher
    except ImportError:
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    msg = QDBusMessage.createMethodCall("org.freedesktop.FileManager1",
                                        "/org/freedesktop/FileManager1",
                                        "org.freedesktop.FileManager1", "ShowItems")
    msg.setArguments([uris, ""])
    watcher = QDBusPendingCallWatcher(bus.asyncCall(msg, 5000))
    _pending_reveals.add(watcher)

    def done(w: Any) -> None:
        _pending_reveals.discard(w)
        if w.isError():
            _open_folders(folders)
        w.deleteLater()

    watcher.finished.connect(done)
    return True


class SpaceForControls(QObject):
    """Space plays and stops, except on a control the keyboard moved to: a button, check box
    or list box reached with Tab gets its Space (review 12: Tab to "Add folder…", Space, and
    the sample played instead of the dialog opening). One focused by a click (picking a
    category with the mouse) leaves Space to audition (review 13)."""

    _KEYBOARD = (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason,
                 Qt.FocusReason.ShortcutFocusReason)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._by_keyboard: QObject | None = None  # the control the keyboard focused last

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 (Qt's name)
        t = ev.type()
        if t == QEvent.Type.FocusIn and isinstance(obj, (QAbstractButton, QComboBox)):
            reason = ev.reason()  # type: ignore[attr-defined]
            if reason in self._KEYBOARD:
                self._by_keyboard = obj
            elif reason not in (Qt.FocusReason.ActiveWindowFocusReason,
                                Qt.FocusReason.PopupFocusReason):
                self._by_keyboard = None  # a click (a window coming back keeps it)
        elif (
            t == QEvent.Type.ShortcutOverride
            and ev.key() == Qt.Key.Key_Space  # type: ignore[attr-defined]
            and not ev.modifiers()  # type: ignore[attr-defined]
            and obj is self._by_keyboard
        ):
            ev.accept()
        return False


class Actions:
    def __init__(self, w: MainWindow) -> None:
        self.w = w
        act = self._action
        self.add_folder = act("&Add folder…", "Ctrl+O", w.add_folder_dialog, "add")
        self.demo = act("Try the &demo kit", None, w.try_demo_kit)
        self.quit = act("&Quit", "Ctrl+Q", w.close)
        self.focus_search = act("&Search", ["Ctrl+F", "Ctrl+L"], self._focus_search, "search")
        self.find_similar = act("&Find similar", ["F", "Ctrl+Shift+F"], self._find_similar,
                                "similar")
        self.clear_like = act("Search by &words only", None, w.clear_like)
        self.clear_filters = act("C&lear filters", "Ctrl+Shift+Backspace",
                                 w.search_bar.clear_filters)
        self.copy = act("&Copy paths", QKeySequence.StandardKey.Copy, self._copy)
        self.reveal = act("Show in &folder", "Ctrl+Shift+R", self._reveal)
        self.focus_library = act("&Library", "Ctrl+1", lambda: w.library.view.setFocus())
        self.focus_results = act("&Results", "Ctrl+2", w.focus_results)
        self.play = act("&Play / stop", "Space", w.audition.toggle, "play")
        self._space = SpaceForControls(w)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._space)
        self.stop = act("S&top", "Esc", w.audition.stop, "stop")
        self.louder = act("Volume &up", "Ctrl+Alt+Up", lambda: w.step_volume(1))
        self.quieter = act("Volume do&wn", "Ctrl+Alt+Down", lambda: w.step_volume(-1))
        self.auto_play = act("&Auto-play on select", "Ctrl+Shift+P", self._auto_play)
        self.auto_play.setCheckable(True)
        self.auto_play.setChecked(w.audition.auto_play)
        self.rescan = act("&Rescan library", "Ctrl+R", lambda: w.indexer.start(None))
        self.cancel = act("S&top indexing", "Ctrl+.", w.indexer.cancel, "cancel")
        self.skipped = act("S&kipped files…", None, w.show_skipped)
        self.models = act("&Models…", None, w.show_models)
        self.backfill = act("Embed with &MERT/CLAP when downloaded", None, self._backfill)
        self.backfill.setCheckable(True)
        self.backfill.setChecked(w.settings.get(S.BACKFILL_MODELS))
        w.indexer.running_changed.connect(self.cancel.setEnabled)
        self.cancel.setEnabled(False)

        mb = w.menuBar()
        self._menu(mb.addMenu("&File"), self.add_folder, self.demo, None, self.quit)
        self._menu(mb.addMenu("&Search"), self.focus_search, self.find_similar, self.clear_like,
                   self.clear_filters,
                   None, self.copy, self.reveal, None, self.focus_library, self.focus_results)
        self.audition_menu = self._menu(mb.addMenu("&Audition"), self.play, self.stop,
                                        self.auto_play, None, self.louder, self.quieter)
        self.device_menu = self.audition_menu.addMenu("Output &device")
        self.device_menu.aboutToShow.connect(self._fill_devices)
        self.library_menu = self._menu(mb.addMenu("&Library"), self.rescan, self.cancel,
                                       self.skipped, None, self.models, self.backfill)
        gear = QMenu(w)
        self._menu(gear, self.auto_play, None, self.rescan, self.skipped, self.models,
                   self.backfill)
        gear.addMenu(self.device_menu)
        w.search_bar.settings_button.setMenu(gear)

    def _action(self, text: str, keys: Any, slot: Any, icon: str | None = None) -> QAction:
        a = QAction(text, self.w)
        if icon:
            a.setIcon(style.icon(icon))
        if keys is not None:
            seqs = [QKeySequence(k) for k in keys] if isinstance(keys, list) else \
                QKeySequence.keyBindings(keys) if isinstance(keys, QKeySequence.StandardKey) \
                else [QKeySequence(keys)]
            a.setShortcuts(seqs)
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.triggered.connect(lambda _checked=False: slot())
        self.w.addAction(a)
        return a

    @staticmethod
    def _menu(menu: QMenu, *items: QAction | None) -> QMenu:
        for it in items:
            if it is None:
                menu.addSeparator()
            else:
                menu.addAction(it)
        return menu

    # ---- what the actions do ---------------------------------------------------------------
    def selected_paths(self) -> list[str]:
        """The samples selected in whichever list has (or last had) the focus."""
        w = self.w
        if w.library.view.hasFocus() or (
            w.last_list is w.library.view and not w.results.view.hasFocus()
        ):
            return w.library.selected_paths() or w.results.view.selected_paths()
        paths = w.results.view.selected_paths()
        return paths or w.library.selected_paths()

    def _focus_search(self) -> None:
        self.w.search_bar.edit.setFocus()
        self.w.search_bar.edit.selectAll()

    def _find_similar(self, paths: list[str] | None = None) -> None:
        paths = paths if paths is not None else self.selected_paths()
        if paths:
            self.w.find_similar(paths)

    def _copy(self) -> None:
        paths = self.selected_paths()
        if paths:
            QGuiApplication.clipboard().setText("\n".join(paths))

    def _reveal(self, paths: list[str] | None = None) -> None:
        paths = paths if paths is not None else self.selected_paths()
        if paths:
            reveal(paths)

    def _auto_play(self) -> None:
        self.w.audition.auto_play = self.auto_play.isChecked()
        self.w.settings.set(S.AUTO_PLAY, self.w.audition.auto_play)

    def _backfill(self) -> None:
        self.w.settings.set(S.BACKFILL_MODELS, self.backfill.isChecked())
        self.w.indexer.load_models = self.backfill.isChecked()
        if self.backfill.isChecked() and self.w.lib.roots():
            self.w.indexer.start(None)  # loads the ready models and back-fills what they lack

    def _fill_devices(self) -> None:
        menu, current = self.device_menu, self.w.settings.get(S.OUTPUT_DEVICE)
        menu.clear()
        group = QActionGroup(menu)
        for name in ["", *output_devices()]:
            a = menu.addAction(name or "System default")
            a.setCheckable(True)
            a.setChecked(name == current)
            group.addAction(a)
            a.triggered.connect(lambda _c=False, n=name: self._set_device(n))

    def _set_device(self, name: str) -> None:
        """Switch output; the choice is kept only when the device opens (a bad one saved
        would leave the next launch silent too)."""
        w = self.w
        if w.player.open(name):
            w.settings.set(S.OUTPUT_DEVICE, name)
            return
        now = "nothing" if not w.player.available() else (
            w.settings.get(S.OUTPUT_DEVICE) or "the system default")
        w.status.show_error(f"Cannot play through {name or 'the system default'}: "
                            f"{w.player.open_error} — still playing through {now}.")

    def show_context_menu(self, pos: QPoint, paths: list[str]) -> None:
        if not paths:
            return
        m = QMenu(self.w)
        audio = [p for p in paths if not os.path.isdir(p)]
        if audio:
            m.addAction(self.find_similar.icon(), "Find similar",
                        lambda: self._find_similar(audio))
            m.addAction(self.play)
        m.addAction("Show in folder", lambda: self._reveal(paths))
        m.addAction("Copy paths", lambda: QGuiApplication.clipboard().setText("\n".join(paths)))
        root = self.w.library.selected_root()
        if root and root in paths:
            m.addSeparator()
            m.addAction("Remove folder from library", lambda: self.w.remove_folder(root))
        m.exec(pos)


def build_actions(w: MainWindow) -> Actions:
    return Actions(w)
