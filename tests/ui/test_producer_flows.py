"""Producer flows a cold review of the window found broken (each failed before its fix):
a dropped unreadable file, sorting, a library that changes under the results, models that
fail to load, long takes, folders that go away, the tree, output devices, focus, errors."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from ui_helpers import (
    add_new_kicks,
    drop,
    expand_listed,
    kit_file,
    new_kicks_shown,
    rows,
    search,
)

from studio.ui import settings as S
from studio.ui.library_tree import PATH_ROLE as Qt_PATH


class _Out:
    """A sound card that works (the fixture's FakeOutput, reduced)."""

    samplerate = 48000
    channels = 2

    def __init__(self, device: str = "") -> None:
        self.closed = False

    def start(self, render: Any) -> None:
        self.render = render

    def close(self) -> None:
        self.closed = True


# test_drop_unreadable.py: Dropping an unreadable .wav replaces the working 'like' query and leaves the window stuck:
# every later typed search fails with the same error, and the button to forget the dropped
# sample is not shown (the header still describes the old, successful search).
def test_unreadable_drop_does_not_poison_later_searches(make_window: Any, library: Any,
                                                        qtbot: Any, tmp_path: Path) -> None:
    w = make_window(library)
    search(w, qtbot, "kick", 3)                       # a working word search
    w.results.header.text()
    bad = tmp_path / "download.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    drop(w, [str(bad)])
    qtbot.waitUntil(lambda: not w.searcher.busy(), timeout=5000)
    qtbot.wait(100)
    # the user now types something else
    w.search_bar.edit.setText("snare")
    w.search_bar.flush()
    qtbot.waitUntil(lambda: not w.searcher.busy(), timeout=5000)
    qtbot.wait(100)
    assert w.results.clear_like.isVisibleTo(w) or not w.like, \
        "a failed dropped sample is kept as the query with no visible way to drop it"
    assert "snare" in w.results.header.text(), "typed search never runs"


# test_sort_selection.py: Sorting the results by a column leaves the selection/current row on the same ROW NUMBER,
# so it now points at a different sample than the one the user picked (and the preview shows).
def test_sorting_keeps_the_selected_sample(make_window: Any, library: Any, qtbot: Any) -> None:
    w = make_window(library)
    search(w, qtbot, "snare", 5)
    view, model = w.results.view, w.results.model
    view.setFocus()
    view.selectRow(0)                     # pick the best match
    picked = model.hits[0].path
    qtbot.waitUntil(lambda: w.audition.current == picked, timeout=3000)
    # user clicks the "Name" header to sort by name
    view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # = header click
    qtbot.wait(50)
    assert view.selected_paths() == [picked], "selection now points at another sample"


# test_stale_results.py: Results are not refreshed when the library changes: (a) removing a library folder leaves its
# samples listed (and draggable) in the results; (b) adding/indexing a folder while results are
# shown never brings its samples in.
def test_removed_folder_leaves_results(make_window: Any, library: Any, qtbot: Any,
                                       tmp_path: Path, sample_folder: Path) -> None:
    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    add_new_kicks(w, qtbot, tmp_path, sample_folder, "Old Kicks", "OLD ")
    search(w, qtbot, "kick", 3)
    root = next(r for r in library.roots() if r.endswith("Old Kicks"))
    w.remove_folder(root)
    qtbot.waitUntil(lambda: not w.removing(), timeout=10000)
    qtbot.wait(300)
    stale = [h.name for h in w.results.model.hits if h.path.startswith(root)]
    assert not stale, f"{len(stale)} results from the removed folder are still listed"


def test_new_folder_never_reaches_shown_results(make_window: Any, library: Any, qtbot: Any,
                                                tmp_path: Path, sample_folder: Path) -> None:
    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    search(w, qtbot, "kick", 3)
    add_new_kicks(w, qtbot, tmp_path, sample_folder)
    qtbot.wait(500)
    new = [h for h in w.results.model.hits if h.name.startswith("NEW ")]
    # the same query run fresh does include them
    w.run_query()
    qtbot.waitUntil(lambda: not w.searcher.busy(), timeout=5000)
    qtbot.wait(200)
    fresh = [h for h in w.results.model.hits if h.name.startswith("NEW ")]
    assert fresh and len(new) == len(fresh), "results shown are stale after indexing finished"


# test_model_failure_hidden.py: A linked model whose weights cannot load (corrupt/truncated model.safetensors) is reported
# 'failed: …' by the index run, but the status refresh that follows the run overwrites it with the
# shallow check's 'ready' (ModelsController._set_infos): the status bar and the Models dialog say
# 'MERT ready' while MERT is not in use, and every index run tries (and fails) to load it again.
def test_failed_model_load_is_not_shown_as_ready(make_window: Any, library: Any, qtbot: Any,
                                                 tmp_path: Path) -> None:
    mert = tmp_path / "MERT-v1-95M"
    mert.mkdir()
    (mert / "config.json").write_text(json.dumps({"model_type": "mert_model"}))
    (mert / "preprocessor_config.json").write_text("{}")
    (mert / "model.safetensors").write_bytes(b"\x00" * 64)          # truncated download
    (Path(library.data_dir) / "models.json").write_text(
        json.dumps({"version": 1, "links": {"mert": str(mert)}}))
    seen = []
    w = make_window(library, load_models=True)
    w.indexer.models.connect(lambda st: seen.append(dict(st)))
    w.commands.rescan.trigger()
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=30000)
    qtbot.waitUntil(lambda: not w.models.ctl._status.busy(), timeout=10000)
    qtbot.wait(300)
    dlg = w.show_models()
    dlg.close()
    assert "mert" not in [e.name for e in library.loaded_embedders()]
    assert "ready" not in w.status.models.text().split("·")[0].lower(), \
        "MERT failed to load but the window says it is ready"


# test_long_file_match.py: Loops are indexed (windowed) up to 60 s in (core/analysis.py MAX_ANALYSED_SECONDS), but the
# UI decodes only the first 30 s (ui/preview_data.py MAX_SECONDS) for audition and preview. A match
# found at 40 s inside a loop is auditioned from 0 s (Player.play drops a start beyond the
# buffer), and the shaded match region lies outside the drawn 30 s.
def test_match_late_in_a_loop_is_auditioned_at_the_match(make_window: Any, library: Any,
                                                         qtbot: Any, tmp_path: Path) -> None:
    snare = kit_file(library, "Demo Snare 01.wav")
    y, sr = sf.read(snare, dtype="float32")
    kick, _ = sf.read(kit_file(library, "Demo Kick 01.wav"), dtype="float32")
    hat, _ = sf.read(kit_file(library, "Demo Closed Hat 01.wav"), dtype="float32")
    loop = np.zeros(int(56 * sr), np.float32)

    def put(x: np.ndarray, t: float, g: float = 1.0) -> None:
        i = int(t * sr)
        n = min(len(x), len(loop) - i)
        loop[i:i + n] += g * x[:n]
    for k in range(112):          # hats at 120 bpm throughout
        put(hat, k * 0.5, 0.4)
    for k in range(12):           # snares only in the last part of the take, from 40 s on
        put(y, 40.25 + k)
    folder = tmp_path / "Loops"
    folder.mkdir()
    sf.write(folder / "long_take.wav", loop, sr)
    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    w.add_folder(str(folder))
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=60000)
    drop(w, [snare])
    qtbot.waitUntil(lambda: rows(w) > 0 and not w.searcher.busy(), timeout=10000)
    hits = w.results.model.hits
    row = next(i for i, h in enumerate(hits) if h.name == "long_take.wav")
    h = hits[row]
    w.results.view.selectRow(row)
    qtbot.waitUntil(lambda: w.player.path is not None and w.player.path.endswith("long_take.wav"),
                    timeout=5000)
    qtbot.waitUntil(lambda: w.preview.data is not None and w.preview.data.path.endswith("long_take.wav"), timeout=5000)
    assert h.start > 30
    assert abs(w.player.offset - h.start) < 0.01, "audition does not start at the match"


# test_folder_gone_while_indexing.py: A library folder that disappears (external drive unplugged mid-index, share dropped): the
# window never says so. IndexReport.unreadable_dirs is ignored by the UI; the status bar says
# 'N samples in the library' + 'M skipped' (reason: No such file or directory), and the results
# keep offering samples from the missing folder, which then fail with 'file not found'.
def test_missing_library_folder_is_reported(make_window: Any, empty_library: Any,
                                            qtbot: Any, tmp_path: Path) -> None:
    drive = tmp_path / "drive" / "Samples"
    shutil.copytree("/tmp/corpus_anon", drive)
    w = make_window(empty_library)
    lib = empty_library
    w.add_folder(str(drive))
    qtbot.waitUntil(lambda: lib.catalog.stats().get("files_ok", 0) > 50, timeout=60000)
    os.rename(drive, tmp_path / "drive" / "unplugged")          # drive goes away mid-run
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=60000)
    reps = []
    w.indexer.finished.connect(reps.append)
    w.commands.rescan.trigger()                                   # Ctrl+R while unplugged
    qtbot.waitUntil(lambda: not w.indexer.running() and bool(reps), timeout=60000)
    qtbot.wait(200)
    w.search_bar.edit.setText("kick")
    w.search_bar.flush()
    qtbot.wait(300)
    qtbot.waitUntil(lambda: not w.searcher.busy(), timeout=5000)
    # Its samples are kept but hidden (README): nothing listed that cannot play.
    assert w.results.model.rowCount() == 0
    w.status.message.setText("")  # whatever the window said about the run is gone now? re-check:
    w._index_finished(reps[-1])
    assert "Samples" in w.status.message.text(), \
        "the finished-run message never mentions the unreadable library folder"


# test_tree_state.py: The library tree is rebuilt from scratch (LibraryModel.clear) whenever a folder is added or
# removed, so every expanded folder collapses and the user's place is lost; and it is never
# refreshed after indexing, so samples that arrived on disk (and are now indexed and found by
# search) never show in an already-expanded folder, even after Library → Rescan.
def _child(m: Any, parent: Any, name: str) -> Any:
    return next(m.index(r, 0, parent) for r in range(m.rowCount(parent))
                if m.index(r, 0, parent).data() == name)


def _open_kicks(w: Any, qtbot: Any) -> tuple[Any, Any, Any]:
    """Once the first index run ends, the library folder and its Kicks folder expanded:
    (tree view, model, the Kicks index)."""
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    tree, m = w.library.view, w.library.model
    root = m.index(0, 0)
    expand_listed(tree, root, qtbot)
    kicks = _child(m, root, "Kicks")
    expand_listed(tree, kicks, qtbot)
    return tree, m, kicks


def test_adding_a_folder_keeps_the_tree_open(make_window: Any, library: Any, qtbot: Any,
                                             tmp_path: Path, sample_folder: Path) -> None:
    w = make_window(library)
    tree, m, kicks = _open_kicks(w, qtbot)
    tree.setCurrentIndex(m.index(2, 0, kicks))
    other = tmp_path / "Other"
    shutil.copytree(sample_folder / "Toms", other)
    w.add_folder(str(other))
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=30000)
    root = next(m.index(r, 0) for r in range(m.rowCount()) if m.index(r, 0).data() == "kit")
    assert tree.isExpanded(root), "the tree collapsed and the selection was lost"


def test_rescan_shows_new_files_in_the_tree(make_window: Any, library: Any, qtbot: Any) -> None:
    w = make_window(library)
    tree, m, kicks = _open_kicks(w, qtbot)
    folder = Path(kicks.data(Qt_PATH))
    shutil.copy(folder / "Demo Kick 01.wav", folder / "Fresh Kick.wav")
    w.commands.rescan.trigger()
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=30000)
    qtbot.wait(200)
    names = [m.index(r, 0, kicks).data() for r in range(m.rowCount(kicks))]
    assert library.catalog.file_by_path(str(folder / "Fresh Kick.wav")) is not None
    assert "Fresh Kick.wav" in names


# test_device_switch.py: Choosing an output device that cannot be opened (interface unplugged, busy in the DAW)
# closes the working output first (Player.open calls close() before trying), saves the bad
# choice, and leaves playback off — also on every later start, until the user finds the menu.
def test_bad_device_keeps_the_working_output(make_window: Any, library: Any, qtbot: Any) -> None:
    outs = []

    def factory(device: str) -> Any:
        if device == "Focusrite USB (busy)":
            raise OSError("cannot open audio output (Device unavailable [PaErrorCode -9985])")
        o = _Out(device)
        outs.append(o)
        return o

    w = make_window(library, output_factory=factory)
    assert w.player.available()
    w.commands._set_device("Focusrite USB (busy)")
    assert w.player.available(), "a failed switch leaves no sound at all"
    assert not outs[0].closed and w.settings.get(S.OUTPUT_DEVICE) != "Focusrite USB (busy)"
    assert "Cannot play through Focusrite USB (busy)" in w.status.message.text()
    w.commands._set_device("Other")  # a device that opens: switched, and kept
    assert outs[0].closed and w.player.available()
    assert w.settings.get(S.OUTPUT_DEVICE) == "Other"


# test_find_similar_last_focus.py: Actions.selected_paths promises 'the samples selected in whichever list has (or last had) the
# focus', but only checks whether the library tree has focus *now*: pick a file in the tree, click
# into the search field (to add words) and press Ctrl+Shift+F — it searches like the row selected
# in the results list instead of the file just picked in the tree.
def test_find_similar_uses_the_list_that_last_had_focus(make_window: Any, library: Any,
                                                       qtbot: Any) -> None:
    w = make_window(library)
    search(w, qtbot, "snare", 3)
    w.results.view.selectRow(0)
    tree, m, kicks = _open_kicks(w, qtbot)
    tree.setFocus()
    tree.setCurrentIndex(m.index(0, 0, kicks))       # the user picks a kick in the tree
    picked = m.index(0, 0, kicks).data()
    w.search_bar.edit.setFocus()
    qtbot.keyClick(w.search_bar.edit, Qt.Key.Key_F,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert [p.rsplit('/', 1)[-1] for p in w.like] == [picked]


# test_error_button.py: status.show_error() makes the ⚠ button visible, but only notifier errors set
# _last_error: after 'Cannot add that folder' the ⚠ button does nothing when clicked (or, if an
# earlier background task failed, opens THAT old unrelated error).
def test_warning_button_shows_the_error_it_announces(make_window: Any, library: Any,
                                                     qtbot: Any, tmp_path: Any) -> None:
    w = make_window(library)
    from studio.ui.worker import notifier
    notifier.error.emit("Drawing waveform", "old failure from an hour ago", "Traceback ...")
    w.add_folder(str(tmp_path / "does-not-exist"))
    seen = []

    def grab() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.close()
    QTimer.singleShot(200, grab)
    qtbot.mouseClick(w.status.error, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(seen), timeout=3000)
    assert "Cannot add" in seen[0] or "does-not-exist" in seen[0], \
        "⚠ shows a stale unrelated error, not the one in the status bar"


# test_welcome_lost.py: On a first run (no library folders), typing in the search field switches to an empty
# '0 results' page; clearing the field again never brings the welcome page (with its Add folder /
# Try the demo kit buttons) back: MainWindow.run_query's 'nothing asked' branch does not call
# show_welcome(not roots).
def test_clearing_the_search_brings_the_welcome_back(make_window: Any, empty_library: Any,
                                                     qtbot: Any) -> None:
    w = make_window(empty_library)
    assert w.results.currentWidget() is w.results.welcome
    w.search_bar.edit.setText("kick")
    w.search_bar.flush()
    qtbot.waitUntil(lambda: not w.searcher.busy(), timeout=5000)
    qtbot.wait(100)
    w.search_bar.edit.clear()
    w.search_bar.flush()
    qtbot.wait(100)
    assert w.results.currentWidget() is w.results.welcome, "welcome page gone for good"


# test_home_end.py: In the results list (whole-row selection) Home/End do nothing visible: QTableView maps them
# to first/last *column* of the current row, so a producer cannot jump to the top or bottom of the
# results with Home/End (only Ctrl+Home/Ctrl+End work).
def test_home_and_end_jump_to_first_and_last_result(make_window: Any, library: Any,
                                                    qtbot: Any) -> None:
    w = make_window(library)
    search(w, qtbot, "punchy", 10)  # sound words rank every sample
    v = w.results.view
    v.setFocus()
    v.setCurrentIndex(w.results.model.index(5, 0))
    qtbot.keyClick(v, Qt.Key.Key_End)
    after_end = v.currentIndex().row()
    qtbot.keyClick(v, Qt.Key.Key_Home)
    after_home = v.currentIndex().row()
    n = w.results.model.rowCount()
    assert after_end == n - 1 and after_home == 0


def test_refresh_after_indexing_keeps_selection_sort_and_does_not_replay(
    make_window: Any, library: Any, qtbot: Any, tmp_path: Path, sample_folder: Path
) -> None:
    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    search(w, qtbot, "kick", 3)
    view = w.results.view
    view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # by name
    view.setFocus()
    view.selectRow(1)
    picked = w.results.model.hits[1].path
    qtbot.waitUntil(lambda: w.audition.current == picked, timeout=3000)
    plays = []
    w.audition.select = lambda *a, **k: plays.append(a)  # type: ignore[method-assign]
    add_new_kicks(w, qtbot, tmp_path, sample_folder)
    qtbot.waitUntil(lambda: new_kicks_shown(w), timeout=5000)
    assert view.selected_paths() == [picked]
    assert view.currentIndex().data(Qt.ItemDataRole.UserRole + 1) == picked
    assert view.horizontalHeader().sortIndicatorSection() == 0
    names = [h.name for h in w.results.model.hits]
    assert names == sorted(names, key=str.lower) or names == sorted(names)
    assert plays == []  # the same sample back in place is not selected (played) again


def test_refresh_does_not_take_over_what_plays(
    make_window: Any, library: Any, qtbot: Any, tmp_path: Path, sample_folder: Path
) -> None:
    """An index run that ends while the user auditions a file from the tree must not
    re-select (and play) the results' old current row."""
    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    search(w, qtbot, "kick", 3)
    view = w.results.view
    view.setFocus()
    view.selectRow(1)
    picked = w.results.model.hits[1].path
    qtbot.waitUntil(lambda: w.audition.current == picked, timeout=3000)
    tree_file = next(str(p) for p in Path(library.roots()[0]).rglob("*.wav") if str(p) != picked)
    w.library.file_selected.emit(tree_file)
    qtbot.waitUntil(lambda: w.audition.current == tree_file, timeout=3000)
    add_new_kicks(w, qtbot, tmp_path, sample_folder)
    qtbot.waitUntil(lambda: new_kicks_shown(w), timeout=5000)
    qtbot.wait(200)
    assert w.audition.current == tree_file


def test_a_query_typed_during_a_refresh_is_ranked_by_match(
    make_window: Any, library: Any, qtbot: Any
) -> None:
    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    search(w, qtbot, "kick", 3)
    hdr = w.results.view.horizontalHeader()
    hdr.setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # by name
    w.refresh_results()  # an index run just ended
    w.search_bar.edit.setText("snare")
    w.search_bar.flush()
    qtbot.waitUntil(lambda: not w.searcher.busy() and bool(w.results.model.hits)
                    and "snare" in w.results.header.text(), timeout=5000)
    qtbot.wait(200)
    scores = [h.score for h in w.results.model.hits]
    assert hdr.sortIndicatorSection() == 3 and scores == sorted(scores, reverse=True)


def test_a_cleared_sample_stays_cleared_after_a_failed_drop(
    make_window: Any, library: Any, qtbot: Any, tmp_path: Path
) -> None:
    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    a = str(next(Path(library.roots()[0]).rglob("*Kick*.wav")))
    w.find_similar([a])
    qtbot.waitUntil(lambda: rows(w) > 0 and not w.searcher.busy(), timeout=5000)
    w.clear_like()
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00not a wave")
    w.find_similar([str(bad)])
    qtbot.waitUntil(lambda: not w.searcher.busy(), timeout=5000)
    qtbot.wait(200)
    assert w.like == []


def test_tree_refresh_lists_only_folders_that_changed(qtbot: Any, tmp_path: Path,
                                                      monkeypatch: Any) -> None:
    """Re-listing an open folder of 20k files took ~120 ms of the GUI thread at the end of
    every index run; a folder whose mtime did not change is not read again."""
    from studio.ui import library_tree as lt

    (tmp_path / "sub").mkdir()
    (tmp_path / "a.wav").write_bytes(b"")
    m = lt.LibraryModel()
    m.set_roots([str(tmp_path)])
    with qtbot.waitSignal(m.folder_listed, timeout=5000):
        m.populate(m.index(0, 0))
    import threading

    listed: list[str] = []
    on_gui: list[bool] = []
    real = lt._listing

    def spy(f: str) -> Any:
        listed.append(f)
        on_gui.append(threading.current_thread() is threading.main_thread())
        return real(f)

    monkeypatch.setattr(lt, "_listing", spy)
    m.refresh_loaded()
    assert listed == []
    (tmp_path / "b.wav").write_bytes(b"")
    with qtbot.waitSignal(m.folder_listed, timeout=5000):
        m.refresh_loaded()
    assert listed == [str(tmp_path)] and m.item(0).rowCount() == 3
    assert on_gui == [False]  # read on the listing worker, not the GUI thread


def test_a_word_ticked_during_a_refresh_is_ranked_by_match(
    make_window: Any, library: Any, qtbot: Any
) -> None:
    def act(word: str) -> Any:
        return next(a for a in w.search_bar._word_actions if a.text() == word)

    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    act("bright").setChecked(True)
    search(w, qtbot, "punchy", 3)
    hdr = w.results.view.horizontalHeader()
    hdr.setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # by name
    w.refresh_results()  # an index run just ended
    act("bright").setChecked(False)
    act("dark").setChecked(True)  # another question, asked while the refresh runs
    w.search_bar.flush()
    qtbot.waitUntil(lambda: not w.searcher.busy() and w.searcher.last is not None
                    and bool(w.searcher.last.query.filters.words)
                    and "bright" not in w.searcher.last.query.filters.words, timeout=5000)
    qtbot.wait(200)
    scores = [h.score for h in w.results.model.hits]
    assert hdr.sortIndicatorSection() == 3 and scores == sorted(scores, reverse=True)


def test_a_folder_that_failed_to_list_once_is_listed_again(qtbot: Any, tmp_path: Path,
                                                           monkeypatch: Any) -> None:
    from studio.ui import library_tree as lt

    (tmp_path / "a.wav").write_bytes(b"")
    m = lt.LibraryModel()
    m.set_roots([str(tmp_path)])
    real = lt._listing
    monkeypatch.setattr(lt, "_listing", lambda f: "Input/output error")
    with qtbot.waitSignal(m.folder_listed, timeout=5000):
        m.populate(m.index(0, 0))
    assert m.item(0).child(0).text() == "cannot read: Input/output error"
    monkeypatch.setattr(lt, "_listing", real)
    with qtbot.waitSignal(m.folder_listed, timeout=5000):
        m.refresh_loaded()
    assert [m.item(0).child(r).text() for r in range(m.item(0).rowCount())] == ["a.wav"]


def test_adding_a_parent_folder_leaves_one_root_in_the_tree(make_window: Any, library: Any,
                                                           qtbot: Any, tmp_path: Path,
                                                           sample_folder: Path) -> None:
    """A pack, then its parent added: the catalog folds the pack into the parent, but the
    tree kept both, and removing the phantom said 'Removed' and removed nothing."""
    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    parent = tmp_path / "Samples"
    shutil.copytree(sample_folder / "Kicks", parent / "Pack")
    w.add_folder(str(parent / "Pack"))
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=30000)
    # The parent arrives as it does mid-run, or from `studio index` in a terminal: in the
    # catalog, folded by the next index run.
    library.catalog.add_root(str(parent))
    w.indexer.start()
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=30000)
    qtbot.wait(200)
    top = [w.library.model.item(r).data(Qt_PATH) for r in range(w.library.model.rowCount())]
    assert str(parent) in top and str(parent / "Pack") not in top
    assert sorted(top) == sorted(library.roots())


def test_removing_a_folder_runs_off_the_gui_thread(make_window: Any, library: Any, qtbot: Any,
                                                   tmp_path: Path, sample_folder: Path,
                                                   monkeypatch: Any) -> None:
    """Removing a 12k-file folder blocked the window 0.3-0.5 s (growing with its size); a
    path that is not a library folder was 'Removed' while nothing was."""
    import threading

    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    second = add_new_kicks(w, qtbot, tmp_path, sample_folder)
    root = next(r for r in library.roots() if r.endswith("More Kicks"))
    n = library.catalog.stats()["files_ok"]
    w.remove_folder(str(second / "sub"))  # not a root
    assert "not a library folder" in w.status.message.text()
    assert library.catalog.stats()["files_ok"] == n and root in library.roots()
    on: list[str] = []
    real = library.remove_root
    monkeypatch.setattr(library, "remove_root",
                        lambda r: (on.append(threading.current_thread().name), real(r))[1])
    said: list[str] = []
    real_say = w.status.say
    monkeypatch.setattr(w.status, "say", lambda t, *a: (said.append(t), real_say(t, *a))[1])
    w.remove_folder(root)
    w.indexer.start()  # a rescan asked for meanwhile waits for the removal
    assert not w.indexer.running()
    qtbot.waitUntil(lambda: not w.removing(), timeout=10000)
    assert on and on[0] != threading.main_thread().name
    assert root not in library.roots() and any(t.startswith("Removed") for t in said)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=30000)  # then it ran
    assert library.catalog.stats()["files_ok"] < n


def test_a_big_folder_is_listed_off_the_gui_thread(qtbot: Any, tmp_path: Path,
                                                   monkeypatch: Any) -> None:
    """Expanding a folder of 20k files blocked the window ~300 ms (scandir and the rows made
    on the GUI thread). The listing runs on a worker; the folder reads "listing…" meanwhile,
    and a folder that leaves the tree before its listing is done takes no rows."""
    import threading
    import time

    from studio.ui import library_tree as lt
    from studio.ui.worker import live_workers

    for name in ("b.wav", "a.WAV", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "Sub").mkdir()
    gate = threading.Event()
    real = lt._listing

    def slow(folder: str) -> Any:
        assert threading.current_thread() is not threading.main_thread()
        gate.wait(5)
        return real(folder)

    monkeypatch.setattr(lt, "_listing", slow)
    m = lt.LibraryModel()
    m.set_roots([str(tmp_path)])
    t0 = time.perf_counter()
    m.populate(m.index(0, 0))
    assert time.perf_counter() - t0 < 0.5
    assert m.item(0).child(0).text() == "listing…"
    m.populate(m.index(0, 0))  # asked again while listing: one listing
    with qtbot.waitSignal(m.folder_listed, timeout=5000):
        gate.set()
    names = [m.item(0).child(r).text() for r in range(m.item(0).rowCount())]
    assert names == ["Sub", "a.WAV", "b.wav"]

    gate.clear()
    other = tmp_path / "Sub"
    m.set_roots([str(tmp_path), str(other)])
    sub = next(m.index(r, 0) for r in range(m.rowCount()) if m.index(r, 0).data() == "Sub")
    m.populate(sub)
    m.set_roots([str(tmp_path)])  # removed while its listing runs
    with qtbot.waitSignal(m.folder_listed, timeout=5000, raising=False) as blocker:
        gate.set()
    assert not blocker.signal_triggered
    assert [m.item(r).text() for r in range(m.rowCount())] == [tmp_path.name]
    qtbot.waitUntil(lambda: not live_workers(), timeout=5000)


def test_a_folder_removed_while_it_is_indexed_stops_the_pass(
    make_window: Any, library: Any, qtbot: Any, tmp_path: Path, sample_folder: Path,
    monkeypatch: Any
) -> None:
    """Removing a folder while indexing ran only said "Wait for indexing to stop": the folder
    added by mistake (a whole drive) could not be taken out while it was being read. Now the
    pass stops, the folder goes, and the rest of the library is indexed again."""
    import threading

    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    big = tmp_path / "Whole Drive"
    shutil.copytree(sample_folder / "Kicks", big)
    started, stopped = threading.Event(), threading.Event()
    real = library.index

    def slow_index(**kw: Any) -> Any:
        started.set()
        while not kw["should_stop"]():  # a long pass, until it is told to stop
            threading.Event().wait(0.01)
        stopped.set()
        monkeypatch.setattr(library, "index", real)  # the pass after the removal runs fully
        return real(**kw)

    monkeypatch.setattr(library, "index", slow_index)
    w.add_folder(str(big))
    qtbot.waitUntil(started.is_set, timeout=10000)
    root = next(r for r in library.roots() if r.endswith("Whole Drive"))
    w.remove_folder(root)
    assert "Stopping indexing" in w.status.message.text()
    qtbot.waitUntil(lambda: not w.removing(), timeout=20000)
    assert stopped.is_set() and root not in library.roots()
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=30000)  # the library re-indexed
    assert w.indexer.worker is None and not w.indexer._held
    paths = [r[0] for r in library.catalog.db.execute("SELECT path FROM files")]
    assert paths and not any(p.startswith(root) for p in paths)


def test_folders_are_listed_one_at_a_time_in_the_order_asked(qtbot: Any, tmp_path: Path,
                                                            monkeypatch: Any) -> None:
    """Expanding a whole tree ("*") started a thread per folder (review 11)."""
    import threading
    import time

    from studio.ui import library_tree as lt

    names = [f"Pack {i}" for i in range(6)]
    for n in names:
        (tmp_path / n).mkdir()
        (tmp_path / n / "a.wav").write_bytes(b"")
    m = lt.LibraryModel()
    m.set_roots([str(tmp_path / n) for n in names])
    running, most, order = [0], [0], []
    lock = threading.Lock()
    real = lt._listing

    def counted(folder: str) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        order.append(os.path.basename(folder))
        with lock:
            running[0] -= 1
        return real(folder)

    monkeypatch.setattr(lt, "_listing", counted)
    for r in range(m.rowCount()):
        m.populate(m.index(r, 0))
    qtbot.waitUntil(lambda: len(order) == 6 and not m._listing, timeout=10000)
    assert most[0] == 1 and order == names
    assert all(m.item(r).child(0).text() == "a.wav" for r in range(m.rowCount()))


def test_a_folder_that_hangs_does_not_hold_the_others(qtbot: Any, tmp_path: Path,
                                                      monkeypatch: Any) -> None:
    """A dead network share's scandir hangs: the folders asked for after it are listed."""
    import threading

    from studio.ui import library_tree as lt

    for n in ("A Share", "B Pack"):
        (tmp_path / n).mkdir()
        (tmp_path / n / "a.wav").write_bytes(b"")
    gate = threading.Event()
    real = lt._listing

    def hang(folder: str) -> Any:
        if folder.endswith("A Share"):
            gate.wait(10)
        return real(folder)

    monkeypatch.setattr(lt, "_listing", hang)
    monkeypatch.setattr(lt, "SLOW_LISTING_MS", 200)
    m = lt.LibraryModel()
    m.set_roots([str(tmp_path / "A Share"), str(tmp_path / "B Pack")])
    m.populate(m.index(0, 0))
    m.populate(m.index(1, 0))
    with qtbot.waitSignal(m.folder_listed, timeout=5000) as first:
        pass
    assert first.args == [str(tmp_path / "B Pack")]
    assert m.item(0).child(0).text() == "listing…"
    with qtbot.waitSignal(m.folder_listed, timeout=5000):
        gate.set()  # the share answers at last
    assert m.item(0).child(0).text() == "a.wav"


def test_quitting_does_not_wait_for_a_listing_that_hangs(qtbot: Any, tmp_path: Path,
                                                        monkeypatch: Any) -> None:
    """A folder on a share that stopped answering kept its listing thread in scandir(), and
    quitting waited 30 s for it."""
    import threading
    import time

    from studio.ui import library_tree as lt
    from studio.ui import worker

    release = threading.Event()
    entered = threading.Event()

    def hung(folder: str) -> Any:
        entered.set()
        release.wait(20)
        return []

    monkeypatch.setattr(lt, "_listing", hung)
    m = lt.LibraryModel()
    m.set_roots([str(tmp_path)])
    m.populate(m.index(0, 0))
    assert entered.wait(5)
    t = time.monotonic()
    worker.stop_all(timeout_ms=30000)
    took = time.monotonic() - t
    release.set()
    assert took < 2.0, f"quitting waited {took:.1f} s for a hung listing"
