"""The main window end to end: drop, type, audition, drag out, first run, settings."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from ui_helpers import drop, expand_listed, kit_file, rows

from studio.ui import settings as S
from studio.ui.results import PATH_ROLE


def test_drop_gives_similar_results(make_window: Any, library: Any, qtbot: Any) -> None:
    w = make_window(library)
    kick = kit_file(library, "Demo Kick 01.wav")
    drop(w, [kick])
    qtbot.waitUntil(lambda: rows(w) > 0, timeout=5000)
    assert w.results.header.text().startswith('Like "Demo Kick 01.wav" — ')
    paths = [h.path for h in w.results.model.hits]
    assert kick not in paths  # the query itself is left out
    assert all(os.path.isabs(p) for p in paths)


def test_drop_with_words_searches_like_this_but(make_window: Any, library: Any,
                                                qtbot: Any) -> None:
    w = make_window(library)
    w.search_bar.edit.setText("bright")
    drop(w, [kit_file(library, "Demo Snare 02.wav")])
    qtbot.waitUntil(lambda: 'but "bright"' in w.results.header.text(), timeout=5000)
    assert rows(w) > 0


def test_non_audio_drop_gives_a_message(make_window: Any, library: Any, tmp_path: Path) -> None:
    w = make_window(library)
    note = tmp_path / "notes.txt"
    note.write_text("not a sound")
    drop(w, [str(note)])
    assert w.results.message.isVisibleTo(w)
    assert "notes.txt is not an audio file" in w.results.message.text()
    assert rows(w) == 0


def test_typing_runs_a_text_search(make_window: Any, library: Any, qtbot: Any) -> None:
    w = make_window(library)
    qtbot.keyClicks(w.search_bar.edit, "kick")
    qtbot.waitUntil(lambda: rows(w) > 0, timeout=5000)
    assert w.results.header.text().startswith('"kick" — ')


def test_newest_query_wins(make_window: Any, library: Any, qtbot: Any) -> None:
    w = make_window(library)
    for text in ("snare", "hat", "tom", "kick"):
        w.search_bar.edit.setText(text)
        w.search_bar.flush()
    qtbot.waitUntil(lambda: not w.searcher.busy() and rows(w) > 0, timeout=5000)
    assert w.results.header.text().startswith('"kick"')


def _search(w: Any, qtbot: Any, text: str = "kick") -> None:
    w.search_bar.edit.setText(text)
    w.search_bar.flush()
    qtbot.waitUntil(lambda: rows(w) >= 3, timeout=5000)


def test_selection_plays_on_the_fake_output(make_window: Any, library: Any, qtbot: Any) -> None:
    w = make_window(library)
    _search(w, qtbot)
    out = w.fake_outputs[-1]
    w.results.view.setCurrentIndex(w.results.model.index(0, 0))
    first = w.results.model.hits[0].path
    qtbot.waitUntil(lambda: w.player.path == first, timeout=5000)
    block = out.pull(1024)
    assert np.abs(block).max() > 0.01
    assert np.array_equal(block[:, 0], block[:, 1])  # mono to both channels
    qtbot.waitUntil(lambda: w.preview.data is not None and w.preview.data.path == first,
                    timeout=5000)


def test_arrow_key_moves_and_plays(make_window: Any, library: Any, qtbot: Any) -> None:
    w = make_window(library)
    _search(w, qtbot)
    view = w.results.view
    view.setFocus()
    view.setCurrentIndex(w.results.model.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().row() == 1
    second = w.results.model.index(1, 0).data(PATH_ROLE)
    qtbot.waitUntil(lambda: w.player.path == second, timeout=5000)
    w.fake_outputs[-1].pull(256)
    assert w.player.is_playing()
    w.commands.stop.trigger()  # Esc
    out = w.fake_outputs[-1].pull(256)  # the cut fades out over 5 ms, then silence
    assert np.abs(out[-16:]).max() == 0.0
    assert not w.player.is_playing()


def test_cut_off_fades_instead_of_clicking(fake_output: Any) -> None:
    from studio.ui.player import Player

    out = fake_output
    p = Player(lambda _d: out)
    p.open()
    p.play(np.ones(48000, np.float32))
    out.pull(64)
    p.play(np.full(48000, -1.0, np.float32))
    block = out.pull(512)[:, 0]
    fade = block[: int(0.005 * 48000)]
    assert fade[0] > 0.8 and abs(fade[-1]) < 0.05 and np.all(np.diff(fade) <= 1e-6)
    assert np.all(out.pull(64)[:, 0] < -0.8)  # the new sound follows
    p.close()


def test_drag_carries_file_urls(make_window: Any, library: Any, qtbot: Any) -> None:
    w = make_window(library)
    _search(w, qtbot)
    view, model = w.results.view, w.results.model
    view.selectRow(0)
    from PySide6.QtCore import QItemSelectionModel

    view.selectionModel().select(model.index(2, 0), QItemSelectionModel.SelectionFlag.Select
                                 | QItemSelectionModel.SelectionFlag.Rows)
    md = view.drag_mime()
    assert md.hasUrls() and "text/uri-list" in md.formats()
    assert [u.toLocalFile() for u in md.urls()] == [model.hits[0].path, model.hits[2].path]
    assert model.supportedDragActions() == Qt.DropAction.CopyAction


def test_find_similar_from_the_library_tree(make_window: Any, library: Any, qtbot: Any) -> None:
    w = make_window(library)
    tree = w.library.view
    root = w.library.model.index(0, 0)
    expand_listed(tree, root, qtbot)
    kicks = next(w.library.model.index(r, 0, root) for r in range(w.library.model.rowCount(root))
                 if w.library.model.index(r, 0, root).data() == "Kicks")
    expand_listed(tree, kicks, qtbot)
    first = w.library.model.index(0, 0, kicks)
    tree.setFocus()
    tree.setCurrentIndex(first)
    qtbot.keyClick(tree, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: rows(w) > 0, timeout=5000)
    assert w.results.header.text().startswith(f'Like "{first.data()}"')


def test_no_audio_device_still_runs(make_window: Any, library: Any) -> None:
    def broken(_device: str) -> Any:
        raise OSError("PortAudio library not found")

    w = make_window(library, output_factory=broken)
    assert not w.player.available()
    assert "Playback off" in w.status.playback.text()
    w.audition.toggle()  # nothing to play on, nothing breaks


def test_skipped_files_are_counted(make_window: Any, library: Any) -> None:
    w = make_window(library)
    assert w.status.skipped.isVisibleTo(w)
    assert w.status.skipped.text() == "1 skipped"
    assert any(p.endswith("broken.wav") for p, _ in library.catalog.errors())


def test_first_run_welcome_and_demo_kit(make_window: Any, empty_library: Any,
                                        qtbot: Any) -> None:
    w = make_window(empty_library)
    assert w.results.currentWidget() is w.results.welcome
    qtbot.mouseClick(w.results.welcome.demo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(empty_library.roots()), timeout=10000)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    kit = Path(empty_library.data_dir) / "demo-kit"
    assert len(list(kit.rglob("*.wav"))) >= 25
    assert empty_library.catalog.stats()["files_ok"] >= 25
    assert w.results.currentWidget() is not w.results.welcome


def test_settings_are_remembered(make_window: Any, library: Any) -> None:
    w = make_window(library)
    w.commands.auto_play.trigger()  # off
    w.resize(900, 600)
    w.close()
    st = S.Settings(library.data_dir)
    assert st.path.parent == Path(library.data_dir)
    assert st.get(S.AUTO_PLAY) is False
    assert not st.get(S.GEOMETRY).isEmpty()
    w2 = make_window(library)
    assert w2.audition.auto_play is False
    assert w2.commands.auto_play.isChecked() is False


def test_a_quiet_sample_is_drawn_to_its_peak_and_the_title_gives_the_level(
    make_window: Any, empty_library: Any, tmp_path: Path
) -> None:
    import soundfile as sf

    from studio.ui.preview_data import load_preview

    w = make_window(empty_library)
    t = np.arange(22050) / 44100
    quiet = tmp_path / "quiet hat.wav"
    sf.write(quiet, 0.1 * np.sin(2 * np.pi * 3000 * t) * np.exp(-t * 8), 44100)
    w.preview.ensure_plots()
    w.preview.show_data(load_preview(str(quiet)))
    lo, hi = w.preview._wave.getPlotItem().viewRange()[1]
    assert 0.09 < hi < 0.12 and -0.12 < lo < -0.09  # not the full scale of +-1
    assert "peak -20.0 dB" in w.preview.title.full_text()


def test_closing_hides_the_window_before_waiting_for_workers(make_window: Any, library: Any,
                                                             monkeypatch: Any) -> None:
    """Quitting while MERT/CLAP load blocked for the load (seconds) with the window still up
    and unpainted; it is now off the screen before any worker is waited for."""
    w = make_window(library)
    w.show()
    seen: list[bool] = []
    real = w.indexer.shutdown
    monkeypatch.setattr(w.indexer, "shutdown", lambda *a: (seen.append(w.isVisible()), real(*a)))
    w.close()
    assert seen == [False]


def test_model_loading_stops_between_models(library: Any, monkeypatch: Any) -> None:
    """A stop asked for while models load is honoured before the next model loads."""
    from studio.core.models.manager import ModelManager

    loaded: list[str] = []
    monkeypatch.setattr(ModelManager, "status",
                        lambda self, name: type("S", (), {"state": "ready"})())
    monkeypatch.setattr(library, "embedder", lambda name: loaded.append(name))
    stops = iter([False, True])
    assert library.try_load_ready_models(lambda: next(stops)) == {}
    assert loaded == ["mert"]


def test_a_result_that_cannot_play_stops_the_one_before(make_window: Any, library: Any,
                                                        qtbot: Any, tmp_path: Path) -> None:
    """A deleted or broken result left the previous sample playing, as if it were the one
    selected (review 9)."""
    w = make_window(library)
    _search(w, qtbot)
    view, out = w.results.view, w.fake_outputs[-1]
    view.setCurrentIndex(w.results.model.index(0, 0))
    first = w.results.model.hits[0].path
    qtbot.waitUntil(lambda: w.player.path == first, timeout=5000)
    out.pull(256)
    assert w.player.is_playing()
    second = Path(w.results.model.hits[1].path)
    second.write_bytes(b"RIFF\x00\x00cut short")  # broken since it was indexed
    view.setCurrentIndex(w.results.model.index(1, 0))
    qtbot.waitUntil(lambda: "Cannot play" in w.status.message.text(), timeout=5000)
    out.pull(1024)  # the cut fades out, then silence
    assert not w.player.is_playing()
    assert np.abs(out.pull(256)).max() == 0.0


def test_clicking_the_current_row_or_return_plays_it_again(make_window: Any, library: Any,
                                                           qtbot: Any) -> None:
    """Clicking the row that is already selected did nothing, and Return neither: only a
    double-click or Space played it again (review 9)."""
    w = make_window(library)
    _search(w, qtbot)
    view = w.results.view
    view.setFocus()
    view.setCurrentIndex(w.results.model.index(0, 0))
    first = w.results.model.hits[0].path
    qtbot.waitUntil(lambda: w.player.path == first, timeout=5000)
    w.audition.stop()
    assert not w.player.is_playing()
    rect = view.visualRect(w.results.model.index(0, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(w.player.is_playing, timeout=5000)
    assert w.player.path == first
    w.audition.stop()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(w.player.is_playing, timeout=5000)
    assert view.currentIndex().row() == 0 and w.player.path == first
    # A click on another row plays that one, once (through the current-row change).
    played: list[str] = []
    real = w.audition.play
    w.audition.play = lambda path=None: (played.append(path or w.audition.current), real(path))
    rect = view.visualRect(w.results.model.index(2, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    third = w.results.model.hits[2].path
    qtbot.waitUntil(lambda: w.player.path == third, timeout=5000)
    assert played == [third]


def test_a_long_file_name_does_not_widen_the_window(make_window: Any, library: Any,
                                                    qtbot: Any, tmp_path: Path) -> None:
    """A 115-character name pushed a 1100 px window to 1261 px (review 9): the title is cut
    with "…" and whole in its tooltip."""
    from studio.ui.preview_data import load_preview

    w = make_window(library)
    w.resize(1100, 700)
    qtbot.wait(50)
    before = w.minimumSizeHint().width()
    long_name = tmp_path / ("Very Long Sample Name " * 5 + "Kick.wav")
    shutil.copy(kit_file(library, "Demo Kick 01.wav"), long_name)
    w.preview.show_data(load_preview(str(long_name)), "kick")
    qtbot.wait(50)
    assert w.minimumSizeHint().width() <= before and w.width() == 1100
    assert w.preview.title.full_text().startswith(long_name.name)
    assert w.preview.title.text().endswith("…") and long_name.name in w.preview.title.toolTip()


def test_a_copy_of_the_dropped_sample_is_marked_same_file(make_window: Any, library: Any,
                                                         qtbot: Any, tmp_path: Path) -> None:
    """Exact copies looked like close matches (review 9): 'same file' in the name column
    and why in the tooltip."""
    from studio.ui.results import NOTE_ROLE

    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    outside = tmp_path / "Downloads" / "what is this.wav"
    outside.parent.mkdir()
    shutil.copy(kit_file(library, "Demo Kick 01.wav"), outside)
    drop(w, [str(outside)])
    qtbot.waitUntil(lambda: rows(w) > 0, timeout=5000)
    first = w.results.model.index(0, 0)
    assert w.results.model.hits[0].path == kit_file(library, "Demo Kick 01.wav")
    assert first.data(NOTE_ROLE) == "same file"
    assert "you have this already" in first.data(Qt.ItemDataRole.ToolTipRole)
    assert w.results.model.index(1, 0).data(NOTE_ROLE) != "same file"


def test_volume_slider_sets_the_level_and_is_remembered(make_window: Any, library: Any,
                                                       qtbot: Any) -> None:
    """There was no volume control (review 9): the gain was fixed at 0.9."""
    w = make_window(library)
    _search(w, qtbot)
    out = w.fake_outputs[-1]
    w.results.view.setCurrentIndex(w.results.model.index(0, 0))
    qtbot.waitUntil(lambda: w.player.path == w.results.model.hits[0].path, timeout=5000)
    loud = np.abs(out.pull(4096)).max()
    w.preview.volume.setValue(50)  # a quarter of the gain: -12 dB
    assert abs(w.player.gain - 0.25) < 1e-6 and w.settings.get(S.VOLUME) == 0.25
    w.audition.stop()
    out.pull(1024)  # the cut fades out
    w.audition.play()
    qtbot.waitUntil(w.player.is_playing, timeout=5000)
    quiet = np.abs(out.pull(4096)).max()
    assert abs(quiet - 0.25 / 0.9 * loud) < 0.02 * loud  # the same start, a quarter as loud
    w.preview.volume.setValue(100)
    assert w.player.gain == 1.0
    w.commands.quieter.trigger()
    assert w.preview.volume.value() == 95
    w2 = make_window(library)
    assert w2.preview.volume.value() == 95 and abs(w2.player.gain - 0.95 ** 2) < 1e-6


def test_a_stereo_sample_is_auditioned_in_stereo(make_window: Any, library: Any, qtbot: Any,
                                                 tmp_path: Path) -> None:
    """A hat panned hard left played in the middle, 6 dB down (review 9)."""
    import soundfile as sf

    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    mono, sr = sf.read(kit_file(library, "Demo Kick 01.wav"), dtype="float32")
    left = tmp_path / "left.wav"
    sf.write(left, np.stack([mono, np.zeros_like(mono)], axis=1), sr)
    w.audition.select(str(left))
    qtbot.waitUntil(lambda: w.player.path == str(left), timeout=5000)
    block = w.fake_outputs[-1].pull(4096)
    assert np.abs(block[:, 0]).max() > 0.1 and np.abs(block[:, 1]).max() == 0.0


def test_player_holds_full_scale_and_mixes_stereo_for_one_channel(fake_output: Any) -> None:
    from studio.ui.player import Player

    out = fake_output
    p = Player(lambda _d: out)
    p.open()
    p.gain = 1.0
    p.play(np.full((48000, 2), [3.0, -0.5], np.float32))  # a float file far over 0 dBFS
    block = out.pull(256)
    assert np.allclose(block[:, 0], 1.0) and np.allclose(block[:, 1], -0.5)
    p.stop()
    out.pull(1024)
    out.channels = 1
    mono_out = np.zeros((256, 1), np.float32)
    p.play(np.full((48000, 2), [0.5, 0.1], np.float32))
    assert out.render is not None
    out.render(mono_out, 256)
    assert np.allclose(mono_out[:, 0], 0.3)
    p.close()


def test_scrolling_to_the_end_brings_the_next_page(make_window: Any, library: Any,
                                                   qtbot: Any) -> None:
    """The header always said the cap ('200 results') and nothing past row 200 could be
    reached (review 9): it says how many match, and the end of the list asks for more,
    keeping the place."""
    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    w.settings.set(S.RESULT_COUNT, 2)
    w.search_bar.edit.setText("snare")
    w.search_bar.flush()
    qtbot.waitUntil(lambda: rows(w) == 2, timeout=5000)
    total = w.searcher.last.total
    assert total is not None and total > 2
    assert w.results.header.text().endswith(f"2 of {total} results")
    view = w.results.view
    view.setFocus()
    view.setCurrentIndex(w.results.model.index(0, 0))
    first = w.results.model.hits[0].path
    qtbot.keyClick(view, Qt.Key.Key_Down)  # to the last row: the next page comes
    qtbot.waitUntil(lambda: rows(w) == min(4, total), timeout=5000)
    assert w.results.model.hits[0].path == first and view.currentIndex().row() == 1
    # A new question starts from the first page again.
    w.search_bar.edit.setText("kick")
    w.search_bar.flush()
    qtbot.waitUntil(lambda: w.searcher.last.query.text == "kick" and not w.searcher.busy(),
                    timeout=5000)
    assert w.searcher.last.query.k == 2 and rows(w) == 2


def test_show_in_folder_selects_every_file_and_opens_each_folder_once(tmp_path: Path) -> None:
    """Show in folder opened only the first file's folder, with nothing selected, and the
    other selected files' folders were ignored (review 9)."""
    from studio.ui.actions import MAX_REVEALED_FOLDERS, reveal_plan

    a, b = tmp_path / "Kicks", tmp_path / "Snares"
    a.mkdir()
    b.mkdir()
    files = [str(a / "k1.wav"), str(b / "s1.wav"), str(a / "k2.wav")]
    got_files, folders = reveal_plan(files)
    assert got_files == files and folders == [str(a), str(b)]
    many = [str(tmp_path / f"f{i}" / "x.wav") for i in range(20)]
    assert len(reveal_plan(many)[1]) == MAX_REVEALED_FOLDERS
    assert reveal_plan([str(a)]) == ([], [str(a)])


def test_a_long_take_starts_from_its_head_and_plays_on(make_window: Any, library: Any,
                                                      qtbot: Any, tmp_path: Path) -> None:
    """A 4-minute take waited 190-400 ms for its first 30 s to decode before any sound
    (review 9): the first seconds play at once and the rest follows without a gap; the
    title says how much is shown."""
    import soundfile as sf

    from studio.ui.preview_data import HEAD_SECONDS, MAX_SECONDS

    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    sr = 48000
    t = np.arange(int(sr * 40)) / sr
    take = tmp_path / "take.wav"
    sf.write(take, (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    w.audition.select(str(take))
    qtbot.waitUntil(lambda: w.player.path == str(take), timeout=5000)
    first = w.player._req[1]
    assert first is not None and len(first) == int(HEAD_SECONDS * sr)
    qtbot.waitUntil(lambda: w.player._ext is not None or (
        w.player._buf is not None and len(w.player._buf) > len(first)), timeout=5000)
    out = w.fake_outputs[-1]
    pulled = np.concatenate([out.pull(4800)[:, 0] for _ in range(40)])  # 4 s: past the head
    assert len(w.player._buf) == int(MAX_SECONDS * sr)
    # No gap where the head ended: the sine goes on (every 5 ms holds a peak near 0.45).
    blocks = np.abs(pulled[: sr * 4]).reshape(-1, 240).max(axis=1)
    assert blocks.min() > 0.4
    qtbot.waitUntil(lambda: w.preview.data is not None and w.preview.data.path == str(take),
                    timeout=5000)
    assert "(first 30 s shown)" in w.preview.title.full_text()


def test_pressing_to_drag_the_current_row_does_not_replay_it(make_window: Any, library: Any,
                                                             qtbot: Any) -> None:
    """A press on the current row (every drag into the DAW starts so) restarted it (review
    11): the replay is on the click's release, on the same row."""
    w = make_window(library)
    _search(w, qtbot)
    view = w.results.view
    view.setFocus()
    view.setCurrentIndex(w.results.model.index(0, 0))
    qtbot.waitUntil(lambda: not w.audition.busy(), timeout=5000)
    fired: list[int] = []
    view.play_requested.connect(lambda: fired.append(1))
    rect = view.visualRect(w.results.model.index(0, 0))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert fired == []
    other = view.visualRect(w.results.model.index(2, 0))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=other.center())
    assert fired == []  # released elsewhere: no click
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.visualRect(view.currentIndex()).center())
    assert fired == [1]


def test_space_presses_a_focused_button_and_plays_elsewhere(
    make_window: Any, library: Any, qtbot: Any
) -> None:
    """Review 12: Space on a focused button or list box played the sample instead."""
    from PySide6.QtWidgets import QPushButton

    w = make_window(library)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)
    _search(w, qtbot)
    view = w.results.view
    view.setFocus()
    view.setCurrentIndex(w.results.model.index(0, 0))
    qtbot.waitUntil(lambda: w.player.path is not None, timeout=5000)
    w.audition.stop()
    button = QPushButton("x", w.centralWidget())
    button.show()
    button.setFocus(Qt.FocusReason.TabFocusReason)  # reached with Tab
    clicks: list[bool] = []
    button.clicked.connect(lambda: clicks.append(True))
    qtbot.keyClick(button, Qt.Key.Key_Space)
    assert clicks and not w.player.is_playing()
    view.setFocus()
    played: list[bool] = []
    w.commands.play.triggered.connect(lambda: played.append(True))
    qtbot.keyClick(view, Qt.Key.Key_Space)  # on the results, Space plays
    assert played
    qtbot.waitUntil(w.player.is_playing, timeout=5000)
    # Review 13: a list box clicked with the mouse (a category picked) keeps focus, and
    # Space must still audition, not open it.
    w.audition.stop()
    combo = w.search_bar.length
    combo.setFocus(Qt.FocusReason.MouseFocusReason)
    played.clear()
    qtbot.keyClick(combo, Qt.Key.Key_Space)
    assert played and not combo.view().isVisible()


def test_a_filter_alone_browses_and_the_header_names_every_filter(
    make_window: Any, library: Any, qtbot: Any
) -> None:
    """Review 12: a category with an empty search field showed nothing, and the header named
    only the category while a length or word filter hid most results."""
    w = make_window(library)
    bar = w.search_bar
    bar.category.setCurrentIndex(bar.category.findData("kick"))
    qtbot.waitUntil(lambda: rows(w) >= 3, timeout=5000)
    cats = {w.results.model.hits[r].category for r in range(rows(w))}
    assert cats == {"kick"}, cats
    assert w.results.header.text().startswith("All sounds · ")
    bar.length.setCurrentIndex(1)  # "< 0.25 s"
    qtbot.waitUntil(lambda: "< 0.25 s" in w.results.header.text(), timeout=5000)
    w.commands.clear_filters.trigger()
    assert not bar.filters().active()
    qtbot.waitUntil(lambda: rows(w) == 0, timeout=5000)  # nothing asked: the list empties


def test_a_drop_on_an_empty_library_says_to_add_a_folder(
    make_window: Any, empty_library: Any, qtbot: Any, sample_folder: Any
) -> None:
    """Review 12: a drop with no library showed an empty table and '0 results'."""
    w = make_window(empty_library)
    kick = next(str(p) for p in sorted(sample_folder.rglob("*.wav")))
    drop(w, [kick])
    assert w.results.currentWidget() is w.results.welcome
    assert "library is empty" in w.results.welcome.notice.text()
    assert w.results.welcome.notice.isVisibleTo(w.results.welcome)


def test_the_layout_is_saved_soon_after_it_changes_not_only_on_close(
    make_window: Any, library: Any, qtbot: Any
) -> None:
    """Review 12: after a kill, the window's size and splitters were lost (saved only in
    closeEvent)."""
    from studio.ui.settings import Settings

    w = make_window(library)
    w.split.setSizes([333, 700])
    w.split.splitterMoved.emit(333, 1)  # what dragging the handle sends
    qtbot.waitUntil(lambda: Settings(library.data_dir).get(S.SPLIT_MAIN)[:1] == [w.split.sizes()[0]],
                    timeout=5000)


def test_the_text_table_is_built_after_indexing_not_by_the_first_search(
    make_window: Any, library: Any, qtbot: Any
) -> None:
    """Review 14: the first text search of a session parsed every analysis (~1.4 s at 20k
    sounds) while the user waited."""
    library._table = None
    w = make_window(library)
    qtbot.waitUntil(lambda: not w.indexer.running(), timeout=20000)
    qtbot.waitUntil(lambda: library._table is not None, timeout=5000)
