"""The main window: lays the panels out and connects them. The work happens elsewhere.

Search bar on top; library tree | (results over waveform + spectrogram); status bar below.
Dropping audio files anywhere on the window searches for similar samples.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QMoveEvent,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.core import drums
from studio.core.audio import is_audio_path
from studio.core.library import Library, LibraryError
from studio.core.search import Query
from studio.ui import settings as S
from studio.ui import window_state
from studio.ui.actions import build_actions
from studio.ui.audition import Audition
from studio.ui.dialogs import SkippedDialog, error_box
from studio.ui.indexing import IndexController
from studio.ui.labels import hit_info, match_window
from studio.ui.library_tree import LibraryPanel
from studio.ui.models_dialog import ModelsDialog, ModelsUi
from studio.ui.player import Output, Player
from studio.ui.preview import PreviewPanel
from studio.ui.results import PATH_ROLE
from studio.ui.results_panel import ResultsArea
from studio.ui.search_bar import SearchBar
from studio.ui.searching import SearchController
from studio.ui.status import StatusPanel
from studio.ui.worker import notifier, start_worker


def _import_plotting(_job: object) -> None:
    import pyqtgraph  # noqa: F401


def _warm_text_table(_job: object, lib: Library) -> None:
    lib.content_table()


LAYOUT_SAVE_MS = 1500
WARM_TABLE_DELAY_MS = 1000
EMPTY_LIBRARY_NOTICE = ("Nothing to search yet: the library is empty. Add the folders where "
                        "your samples live (or try the demo kit), then ask again.")
NOT_AUDIO = ("{name} is not an audio file Studio can read. Drop WAV, AIFF, FLAC, MP3 or "
             "OGG files to find similar samples, or a folder to add it to the library.")


class MainWindow(QMainWindow):
    def __init__(self, lib: Library, settings: S.Settings,
                 output_factory: Callable[[str], Output] | None = None,
                 index_workers: int | None = None, load_models: bool = True,
                 index_on_start: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Studio")
        self.lib, self.settings = lib, settings
        self.like: list[str] = []
        self._good_like: list[str] = []  # the like-samples of the last search that worked
        # A re-run because the library changed keeps the user's place (selection, current
        # row, sort): (its query, selected paths, current path) while one is on its way;
        # only the answer to that very query uses it.
        self._keep_place: tuple[Query, list[str], str | None] | None = None
        self._restoring = False
        self.last_list: QWidget | None = None  # the library tree or the results, last focused
        self._index_on_start = index_on_start
        self._shown_once = False
        self._closed = False
        self._demo: Any = None
        # Results shown past the first page (scrolled to the end): for this query only.
        self._more_for: Query | None = None
        self._more = 0
        self._scroll_back: int | None = None
        self._removing: Any = None  # the worker removing a folder
        self._to_remove: str | None = None  # a folder to remove once the index pass stops
        self._last_error: tuple[str, str, str] | None = None
        self.setAcceptDrops(True)

        self.search_bar = SearchBar()
        self.library = LibraryPanel()
        self.results = ResultsArea()
        self.preview = PreviewPanel()
        self.status = StatusPanel()
        self.player = Player(output_factory, self)
        self.audition = Audition(self.player, self.preview, self)
        self.audition.auto_play = settings.get(S.AUTO_PLAY)
        self.preview.volume_changed.connect(self._volume_changed)
        self.preview.set_gain(settings.get(S.VOLUME))
        self.player.gain = self.preview.gain()
        self.searcher = SearchController(lib, self)
        self.indexer = IndexController(lib, load_models and settings.get(S.BACKFILL_MODELS),
                                       index_workers, self)
        self.models = ModelsUi(self)

        self.right = QSplitter(Qt.Orientation.Vertical)
        self.right.addWidget(self.results)
        self.right.addWidget(self.preview)
        self.right.setStretchFactor(0, 3)
        self.right.setStretchFactor(1, 2)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.library)
        self.split.addWidget(self.right)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([240, 760])
        self.right.setSizes([420, 260])
        # The layout is saved soon after it changes, not only on close: a crash, a kill or a
        # logout lost it (review 12).
        self._layout_timer = QTimer(self)
        self._layout_timer.setSingleShot(True)
        self._layout_timer.setInterval(LAYOUT_SAVE_MS)
        self._layout_timer.timeout.connect(self.save_settings)
        for sp in (self.split, self.right):
            sp.splitterMoved.connect(lambda *_a: self._layout_changed())
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.search_bar)
        lay.addWidget(self.split, 1)
        self.setCentralWidget(central)
        self.setStatusBar(self.status)
        self.search_bar.edit.setAcceptDrops(False)  # a dropped file searches, not types its URL
        self.commands = build_actions(self)
        self._connect()
        self._restore()
        self.refresh_library()

    # ---- wiring ------------------------------------------------------------------------------
    def _connect(self) -> None:
        sb, res, lib = self.search_bar, self.results, self.library
        sb.changed.connect(self.run_query)
        sb.down_pressed.connect(self.focus_results)
        res.clear_like_requested.connect(self.clear_like)
        res.welcome.add_requested.connect(self.add_folder_dialog)
        res.welcome.demo_requested.connect(self.try_demo_kit)
        res.view.selectionModel().currentRowChanged.connect(self._result_current)
        res.view.context_requested.connect(self.commands.show_context_menu)
        res.view.doubleClicked.connect(lambda _i: self.audition.play())
        res.view.play_requested.connect(lambda: self.audition.play())
        res.view.more_wanted.connect(self.show_more)
        lib.add_requested.connect(self.add_folder_dialog)
        lib.remove_requested.connect(self.remove_folder)
        lib.file_selected.connect(lambda p: self.audition.select(p))
        lib.context_requested.connect(self.commands.show_context_menu)
        self.searcher.results.connect(self._show_results)
        self.searcher.failed.connect(self._search_failed)
        self.audition.message.connect(self.status.say)
        self.player.availability.connect(self.status.set_playback)
        self.indexer.progress.connect(self.status.set_indexing)
        self.indexer.finished.connect(self._index_finished)
        self.status.cancel_requested.connect(self.indexer.cancel)
        self.status.skipped_clicked.connect(self.show_skipped)
        self.status.error_clicked.connect(self.show_last_error)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)
        notifier.error.connect(self._on_error)

    def _restore(self) -> None:
        window_state.restore(self, self.settings, (self.split, self.right))

    def save_settings(self) -> None:
        self.settings.set(S.AUTO_PLAY, self.audition.auto_play)
        window_state.save(self, self.settings, (self.split, self.right))

    def _layout_changed(self) -> None:
        if self._shown_once and not self._closed:
            self._layout_timer.start()

    def resizeEvent(self, ev: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(ev)
        self._layout_changed()

    def moveEvent(self, ev: QMoveEvent) -> None:  # noqa: N802 (Qt's name)
        super().moveEvent(ev)
        self._layout_changed()

    def showEvent(self, ev: QShowEvent) -> None:
        super().showEvent(ev)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(40, self._after_show)  # after the first frame

    def _after_show(self) -> None:
        """Everything that may take time waits until the window is on screen."""
        self.player.open(self.settings.get(S.OUTPUT_DEVICE))
        # pyqtgraph's import takes 0.3-0.45 s: on a thread, the window keeps being served in
        # the interpreter's 5 ms slices (review 12 measured a 0.3-0.4 s freeze right after
        # launch); the plots are built when it is in (a preview asked for sooner builds them
        # then, waiting for the import to finish).
        start_worker(_import_plotting, title="Loading the waveform view", notify=False,
                     parent=self, on_done=self.preview.ensure_plots)
        self.results.view.setFocus()
        self.models.ctl.refresh()
        if self._index_on_start and self.lib.roots():
            self.indexer.start(None)  # picks up what changed since last time; resumes
        else:
            self._index_finished(None)

    def closeEvent(self, ev: QCloseEvent) -> None:
        self.save_settings()
        self._closed = True  # results still queued are dropped (see worker.start_worker)
        # Gone from the screen at once: the workers below may take a moment to stop (a model
        # load in progress cannot be cut short), and a window that stays up unpainted
        # looks frozen. Indexing resumes next time; nothing is lost.
        self.hide()
        QApplication.processEvents()
        self.models.shutdown()
        self.indexer.shutdown()
        self.searcher.shutdown()
        self.audition.shutdown()
        if self._demo is not None:
            self._demo.stop_and_wait()
        if self._removing is not None:
            self._removing.stop_and_wait()  # database work: it finishes, it is not cut short
        self.player.close()
        super().closeEvent(ev)

    # ---- library -----------------------------------------------------------------------------
    def refresh_library(self) -> None:
        roots = self.lib.roots()
        self.library.set_roots(roots)
        self.results.show_welcome(not roots)
        self.status.set_skipped(len(self.lib.catalog.errors()))

    def add_folder_dialog(self) -> None:
        start = self.settings.get(S.LAST_FOLDER) or os.path.expanduser("~")
        path = QFileDialog.getExistingDirectory(self, "Add a folder of samples", start)
        if path:
            self.add_folder(path)

    def add_folder(self, path: str) -> None:
        try:
            root = self.lib.add_root(path)
        except LibraryError as e:
            self._show_error("Add folder", f"Cannot add that folder: {e}")
            return
        self.settings.set(S.LAST_FOLDER, os.path.dirname(root))
        self.refresh_library()
        self.indexer.start([root])

    def removing(self) -> bool:
        """Whether a folder is being removed (or waits for the index pass to stop)."""
        return self._removing is not None or self._to_remove is not None

    def remove_folder(self, root: str) -> None:
        if self.removing():
            return
        if root not in self.lib.roots():
            self.refresh_library()  # the tree was behind the catalog
            self.status.say(f"{root} is not a library folder (it is part of one).")
            return
        # Dropping a big folder's rows and vectors takes a while (0.3-0.5 s for 12k files):
        # on a worker, with indexing held back until it is done. A running pass (the folder
        # added by mistake is the one being indexed, often) is stopped first and the rest of
        # the library is indexed again once the folder is out.
        self.indexer.hold()
        if self.indexer.running():
            self._to_remove = root
            self.status.say(f"Stopping indexing to remove {root}…")
            self.indexer.interrupt()
            self.indexer.running_changed.connect(self._remove_when_stopped)
            return
        self._start_removal(root)

    def _remove_when_stopped(self, running: bool) -> None:
        if running or self._to_remove is None:
            return
        self.indexer.running_changed.disconnect(self._remove_when_stopped)
        root, self._to_remove = self._to_remove, None
        self._start_removal(root)

    def _start_removal(self, root: str) -> None:
        self.status.say(f"Removing {root} from the library…")
        self._removing = start_worker(
            lambda _job: self.lib.remove_root(root),
            on_result=lambda _r: self.status.say(
                f"Removed {root} from the library (the files are untouched)."),
            on_error=lambda e: self._show_error("Remove folder", f"Cannot remove {root}: {e}"),
            on_done=self._removed, title="Remove folder", notify=False, parent=self)

    def _removed(self) -> None:
        self._removing = None
        self.indexer.release()
        self.refresh_library()
        self.refresh_results()  # its samples leave the results on screen

    def try_demo_kit(self) -> None:
        from studio.ui.demo_kit import make_demo_kit

        self.results.welcome.demo_button.setEnabled(False)
        self.status.say("Making the demo kit…")
        self._demo = start_worker(lambda _job: make_demo_kit(self.lib.data_dir),
                     on_result=lambda root: self.add_folder(str(root)),
                     on_done=self._demo_done,
                     title="Demo kit", parent=self)

    def _demo_done(self) -> None:
        self._demo = None
        self.results.welcome.demo_button.setEnabled(True)

    def _index_finished(self, rep: Any) -> None:
        self.status.set_indexing(None)
        self.refresh_library_counts(rep)
        # Roots as the catalog has them now: a folder added inside another was folded into
        # it, and another process (`studio index`) may have added some.
        self.library.set_roots(self.lib.roots())
        self.library.model.refresh_loaded()  # files that arrived show in open folders
        changed = rep is not None and bool(
            rep.indexed or rep.removed or rep.moved or rep.reanalysed
            or any(rep.embedded.values())
        )
        if changed or (rep is not None and not self.results.model.hits):
            # What is on screen was ranked before this run: new, gone or re-embedded sounds.
            self.refresh_results()
        # The table text search and filters rank, built soon rather than by the first search:
        # parsing 20k analyses made the first "kick" of a session take ~1.4 s (review 14).
        # A build only parses what changed; it waits for the end-of-run burst to pass.
        if self.lib.roots() and not self._closed:
            QTimer.singleShot(WARM_TABLE_DELAY_MS, self, self._warm_text_table)

    def _warm_text_table(self) -> None:
        if self._closed or self.indexer.running():
            return  # a new run ends with its own warm-up
        if self.searcher.busy():  # not alongside a search (the GIL: the window's slices)
            QTimer.singleShot(WARM_TABLE_DELAY_MS, self, self._warm_text_table)
            return
        start_worker(_warm_text_table, self.lib, title="Preparing text search",
                     notify=False, parent=self)

    def refresh_library_counts(self, rep: Any) -> None:
        info = self.lib.catalog.stats()
        n = info.get("files_ok", 0)
        self.status.set_skipped(len(self.lib.catalog.errors()))
        if rep is not None and rep.unreadable_dirs:
            # An unplugged drive or a folder gone: its samples are kept, and the user must
            # know why they do not play.
            path, why = rep.unreadable_dirs[0]
            more = len(rep.unreadable_dirs) - 1
            self._show_error(
                "Library folder unreadable",
                f"Cannot read {path}: {why}"
                + (f" (and {more} more folder{'s' * (more > 1)})" if more else "")
                + " — its samples are kept until it can be read again (click ⚠)",
                "\n".join(f"{p}: {r}" for p, r in rep.unreadable_dirs),
            )
        elif rep is not None and rep.cancelled:
            self.status.say(f"Indexing stopped — {n:,} samples ready; the rest resumes next time.")
        else:
            self.status.say(f"{n:,} samples in the library" if n else "")

    def show_models(self) -> ModelsDialog:
        return self.models.show()

    def show_skipped(self) -> None:
        SkippedDialog(self.lib.catalog.errors(), self).exec()

    # ---- search ------------------------------------------------------------------------------
    def query(self) -> Query | None:
        text = self.search_bar.text() or None
        filters = self.search_bar.filters()
        if not self.like and not text and not filters.active():
            return None  # filters alone browse what passes them (review 12: they showed nothing)
        q = Query(like=list(self.like), text=text, k=self.settings.get(S.RESULT_COUNT),
                  filters=filters)
        if self._more_for is None or not _same_query(self._more_for, q):
            self._more_for, self._more = q, 0  # another question: the first page again
        return replace(q, k=q.k + self._more)

    def run_query(self) -> None:
        q = self.query()
        if q is None:
            self.searcher.cancel()
            self._keep_place = None
            self._more_for, self._more = None, 0  # typed again, it starts at the first page
            self.results.set_hits([])
            self.results.set_header("Drop a sample anywhere, or describe a sound")
            self.results.show_welcome(not self.lib.roots())  # the first-run page comes back
            return
        if not self.lib.roots():
            self.searcher.cancel()
            self.results.set_hits([])
            self.results.show_welcome(True, EMPTY_LIBRARY_NOTICE)
            return
        self.results.show_welcome(False)
        self.searcher.search(q)

    def refresh_results(self) -> None:
        """The library changed under the results on screen: run their query again, keeping
        the selection, the current sample and the sort (nothing re-plays)."""
        q = self.query()
        if q is None:
            return
        cur = self.results.view.currentIndex()
        self._keep_place = (q, self.results.view.selected_paths(),
                            cur.data(PATH_ROLE) if cur.isValid() else None)
        self.run_query()

    def show_more(self) -> None:
        """The results reached their last row: the next page of the same query, the place,
        selection and sort kept (a 10k-kick library could not get past kick 200)."""
        res = self.searcher.last
        if res is None or self.searcher.busy() or self._keep_place is not None:
            return
        n = self.results.model.rowCount()
        more = (res.total > n) if res.total is not None else n >= res.query.k
        if not more or n != len(res.hits):
            return
        self._more += self.settings.get(S.RESULT_COUNT)
        self._scroll_back = self.results.view.verticalScrollBar().value()
        self.refresh_results()

    def find_similar(self, paths: list[str]) -> None:
        audio = [os.path.abspath(p) for p in paths if is_audio_path(p) and os.path.isfile(p)]
        if not audio:
            names = ", ".join(os.path.basename(p) for p in paths[:3]) or "That"
            self.results.set_message(NOT_AUDIO.format(name=names))
            self.status.say(f"Not an audio file: {names}")
            return
        self.results.set_message("")
        self.like = audio
        self._keep_place = None
        self.run_query()

    def clear_like(self) -> None:
        self.like = []
        self._good_like = []  # a later failed drop must not bring the cleared sample back
        self.run_query()

    def _show_results(self, res: Any, header: str) -> None:
        self._good_like = list(self.like)
        keep, self._keep_place = self._keep_place, None
        if keep is not None and not _same_query(keep[0], res.query):
            keep = None  # the answer to another query (typed since): ranked by match
        self.results.show_welcome(False)
        note = " ".join(res.notes)
        self.results.set_message("" if res.hits else note[:1].upper() + note[1:])
        self._restoring = keep is not None
        try:
            self.results.set_hits(res.hits, keep=keep[1:] if keep is not None else None)
        finally:
            self._restoring = False
        self.results.set_header(header, like_active=bool(self.like))
        if keep is not None and self._scroll_back is not None:
            self.results.view.verticalScrollBar().setValue(self._scroll_back)
        self._scroll_back = None
        n = len(res.hits)
        self.status.say(f"{n:,} {'result' if n == 1 else 'results'} in {res.ms:.0f} ms "
                        f"({', '.join(res.embedders)})")

    def _search_failed(self, why: str) -> None:
        self._keep_place = None
        self._scroll_back = None
        if self.like != self._good_like:
            # The sample just dropped cannot be searched with (unreadable, not audio): go
            # back to the query that worked, or every later search would fail the same way.
            self.like = list(self._good_like)
            self.results.clear_like.setVisible(bool(self.like))
        self.results.set_message(why)
        self.status.say(why)

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is self.library.view or new is self.results.view:
            self.last_list = new

    def focus_results(self) -> None:
        v = self.results.view
        v.setFocus()
        if not v.currentIndex().isValid() and self.results.model.rowCount():
            v.setCurrentIndex(self.results.model.index(0, 0))

    def _volume_changed(self, gain: float) -> None:
        self.player.gain = gain
        self.settings.set(S.VOLUME, gain)

    def step_volume(self, steps: int) -> None:
        """Ctrl+Alt+Up / Down: the volume slider by 5 of its 100 steps."""
        v = self.preview.volume
        v.setValue(v.value() + 5 * steps)
        self.status.say(f"Volume {v.value()} %")

    def _result_current(self, cur: QModelIndex, _prev: QModelIndex) -> None:
        path = cur.data(PATH_ROLE) if cur.isValid() else None
        if self._restoring:
            return  # a row back in its place after a refresh: what plays stays as it was
        if path:
            hit = self.results.model.hits[cur.row()]
            self.audition.select(path, hit_info(hit), region=match_window(hit))

    # ---- drops -------------------------------------------------------------------------------
    def dragEnterEvent(self, ev: QDragEnterEvent) -> None:
        if ev.mimeData().hasUrls():
            ev.setDropAction(Qt.DropAction.CopyAction)
            ev.accept()
        else:
            ev.ignore()

    def dropEvent(self, ev: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        ev.setDropAction(Qt.DropAction.CopyAction)
        ev.accept()
        self.handle_drop(paths)

    def handle_drop(self, paths: list[str]) -> None:
        folders = [p for p in paths if os.path.isdir(p)]
        files = [p for p in paths if not os.path.isdir(p)]
        for f in folders:
            self.add_folder(f)
        if files or not folders:
            self.find_similar(files)

    # ---- errors ------------------------------------------------------------------------------
    def _on_error(self, title: str, message: str, details: str) -> None:
        self._show_error(title, f"{title} failed: {message} (click ⚠ for details)", details,
                         message)

    def _show_error(self, title: str, text: str, details: str = "",
                    message: str | None = None) -> None:
        """`text` in the status bar with ⚠, which opens this error (never an older one)."""
        self._last_error = (title, text if message is None else message, details)
        self.status.show_error(text)

    def show_last_error(self) -> None:
        if self._last_error:
            error_box(self, *self._last_error).exec()


def _same_query(a: Query, b: Query) -> bool:
    """Whether `b` (as the searcher answered it: its word filters expanded) asks what `a`
    asked."""
    fa, fb = a.filters, b.filters
    return (a.like, a.text, a.k, fa.category, fa.min_seconds, fa.max_seconds) == (
        b.like, b.text, b.k, fb.category, fb.min_seconds, fb.max_seconds
    ) and _words(fa.words) == _words(fb.words)


def _words(words: list[str]) -> list[str]:
    """Word filters as the searcher reads them ('dusty' is noisy and lo-fi)."""
    try:
        return drums.filter_word_list(words)
    except ValueError:
        return list(words)
