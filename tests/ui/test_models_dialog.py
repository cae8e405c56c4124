"""Library → Models…: state, offline download, licence prompt, linking a folder, back-fill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.core.search import Query
from studio.ui.models import status_text


def _open(w: Any, qtbot: Any) -> Any:
    d = w.show_models()
    qtbot.waitUntil(lambda: set(w.models.ctl.infos) == {"mert", "clap"}, timeout=5000)
    return d


def _click(qtbot: Any, button: Any) -> None:
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.fixture(scope="session")
def tiny_clap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tiny_models import build_tiny_clap

    return build_tiny_clap(tmp_path_factory.mktemp("models") / "larger_clap_music")


def test_menu_and_status_text_open_the_dialog(make_window: Any, empty_library: Any,
                                              qtbot: Any) -> None:
    w = make_window(empty_library)
    assert w.commands.models in w.commands.library_menu.actions()
    qtbot.waitUntil(lambda: "MERT not downloaded" in w.status.models.text(), timeout=5000)
    assert w.status.models.text() == "MERT not downloaded · CLAP not downloaded"
    qtbot.mouseClick(w.status.models, Qt.MouseButton.LeftButton)
    assert w.models.dialog is not None and w.models.dialog.isVisible()


def test_dialog_lists_both_models_as_missing(make_window: Any, empty_library: Any,
                                             qtbot: Any) -> None:
    w = make_window(empty_library)
    d = _open(w, qtbot)
    for name, row in d.rows.items():
        assert w.models.ctl.infos[name].state == "missing"
        assert row.state.text() == "Not downloaded"
        assert row.download.isEnabled() and row.link.isEnabled()
        assert not row.unlink.isEnabled()
    assert "CC-BY-NC-4.0" in d.rows["mert"].detail.text()


def test_offline_download_says_to_link_a_folder(make_window: Any, empty_library: Any,
                                                qtbot: Any, monkeypatch: Any) -> None:
    asked: list[str] = []

    def accept(_parent: Any, _title: str, text: str, *_a: Any) -> Any:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", accept)
    w = make_window(empty_library)
    d = _open(w, qtbot)
    row = d.rows["clap"]
    _click(qtbot, row.download)
    qtbot.waitUntil(lambda: row.message.isVisibleTo(d) and "offline" in row.message.text(),
                    timeout=5000)
    text = row.message.text()
    assert "studio models link clap" in text and "Link folder…" in text
    assert "Apache-2.0" in asked[0]
    qtbot.waitUntil(lambda: not w.models.ctl.downloads, timeout=5000)
    qtbot.waitUntil(lambda: w.models.ctl.infos["clap"].state == "missing", timeout=5000)
    assert not row.progress.isVisible()
    assert "CLAP not downloaded" in w.status.models.text()


def test_mert_licence_prompt_decline_does_nothing(make_window: Any, empty_library: Any,
                                                  qtbot: Any, monkeypatch: Any) -> None:
    asked: list[str] = []

    def decline(_parent: Any, _title: str, text: str, *_a: Any) -> Any:
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", decline)
    w = make_window(empty_library)
    d = _open(w, qtbot)
    _click(qtbot, d.rows["mert"].download)
    assert len(asked) == 1
    assert "CC-BY-NC-4.0" in asked[0] and "non-commercial" in asked[0]
    assert not w.models.ctl.downloads and not d.rows["mert"].message.text()
    assert w.models.ctl.infos["mert"].state == "missing"
    assert not (Path(empty_library.data_dir) / "models" / "mert.download.json").exists()


def test_bad_folder_shows_the_error(make_window: Any, empty_library: Any, qtbot: Any,
                                    monkeypatch: Any, tmp_path: Path) -> None:
    bad = tmp_path / "not-a-model"
    bad.mkdir()
    (bad / "readme.txt").write_text("nothing here")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_a, **_k: str(bad))
    w = make_window(empty_library)
    d = _open(w, qtbot)
    row = d.rows["mert"]
    _click(qtbot, row.link)
    qtbot.waitUntil(lambda: "is missing config.json" in row.message.text(), timeout=5000)
    assert str(bad) in row.message.text()
    qtbot.waitUntil(lambda: row.link.isEnabled(), timeout=5000)
    assert w.models.ctl.infos["mert"].state == "missing"


def test_link_folder_makes_clap_ready_and_back_fills(make_window: Any, library: Any,
                                                     qtbot: Any, monkeypatch: Any,
                                                     tiny_clap: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_a, **_k: str(tiny_clap))
    w = make_window(library, load_models=True)
    d = _open(w, qtbot)
    row = d.rows["clap"]
    _click(qtbot, row.link)
    qtbot.waitUntil(lambda: w.models.ctl.infos["clap"].state == "loaded"
                    and not w.indexer.running(), timeout=60000)
    assert "CLAP ready" in w.status.models.text()
    assert row.unlink.isEnabled() and str(tiny_clap) in row.state.text()
    res = library.search(Query(text="punchy kick", k=5))
    assert "clap" in res.embedders
    _click(qtbot, row.unlink)
    qtbot.waitUntil(lambda: w.models.ctl.infos["clap"].state == "missing", timeout=5000)
    assert "until Studio restarts" in row.message.text()


def test_status_text() -> None:
    assert status_text({"mert": "loaded", "clap": "missing"}, {"clap": (42, 100)}, None) \
        == "MERT ready · CLAP 42%"
    assert status_text({"mert": "ready", "clap": "loaded"}, {}, ("clap", 1200, 5000)) \
        == "MERT ready · CLAP embedding 1,200 / 5,000"
    assert status_text({"mert": "failed: bad weights", "clap": "loading"}, {}, None) \
        == "MERT failed · CLAP loading…"


def test_download_progress_and_cancel(make_window: Any, empty_library: Any, qtbot: Any,
                                      monkeypatch: Any) -> None:
    import time

    from studio.core.models.download import DownloadCancelled
    from studio.core.models.manager import ModelManager

    def fake_download(self: Any, name: str, progress: Any = None, should_stop: Any = None) -> Any:
        while not should_stop():
            progress(42, 100)
            time.sleep(0.01)
        raise DownloadCancelled("download cancelled")

    monkeypatch.setattr(ModelManager, "download", fake_download)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *_a: QMessageBox.StandardButton.Yes)
    w = make_window(empty_library)
    d = _open(w, qtbot)
    row = d.rows["mert"]
    _click(qtbot, row.download)
    qtbot.waitUntil(lambda: row.progress.value() == 42, timeout=5000)
    assert row.progress.isVisibleTo(d) and row.download.text() == "Cancel download"
    assert w.status.models.text().startswith("MERT 42%")
    assert w.status.model_progress.isVisibleTo(w) and w.status.model_progress.value() == 42
    _click(qtbot, row.download)
    qtbot.waitUntil(lambda: not w.models.ctl.downloads, timeout=5000)
    assert "cancelled" in row.message.text()
    assert not w.status.model_progress.isVisibleTo(w)


def test_a_stalled_download_cancels_and_quits_at_once(make_window: Any, empty_library: Any,
                                                      qtbot: Any, monkeypatch: Any) -> None:
    """A connection that stalls blocks where no cancel check reaches: Cancel did nothing,
    and quitting froze the window for 60 s, then aborted the process (a QThread destroyed
    while running). Now Cancel frees the model at once and closing does not wait."""
    import threading
    import time

    from studio.core.models.manager import ModelManager

    release = threading.Event()
    started = threading.Event()

    def stalled(self: Any, name: str, progress: Any = None, should_stop: Any = None) -> Any:
        progress(10, 100)
        started.set()
        release.wait(30)  # a read that never returns, and never looks at should_stop
        raise ConnectionError("timed out")

    monkeypatch.setattr(ModelManager, "download", stalled)
    monkeypatch.setattr(QMessageBox, "question", lambda *_a: QMessageBox.StandardButton.Yes)
    w = make_window(empty_library)
    d = _open(w, qtbot)
    row = d.rows["mert"]
    _click(qtbot, row.download)
    assert started.wait(5)
    qtbot.waitUntil(lambda: row.progress.value() == 10, timeout=5000)
    _click(qtbot, row.download)  # Cancel download
    assert not w.models.ctl.downloads and "cancelled" in row.message.text()
    qtbot.waitUntil(lambda: row.download.text() != "Cancel download", timeout=2000)
    t = time.monotonic()
    w.close()
    assert time.monotonic() - t < 2.0
    release.set()  # the stalled read gives up; its late error reaches nobody
    time.sleep(0.1)
    assert "timed out" not in row.message.text()
