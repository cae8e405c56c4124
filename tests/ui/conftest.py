"""Fixtures for the app's tests: offscreen Qt, a tiny indexed library, a fake audio output,
and a window fixture that fails the test if threads or top-level widgets leak (napari-style).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from studio.core.library import Library  # noqa: E402
from studio.ui.compat import guard_singleton_refcounts  # noqa: E402
from studio.ui.demo_kit import make_demo_kit  # noqa: E402

guard_singleton_refcounts()  # PySide6 6.12.0 drops references to None/True (see studio.ui.compat)


class FakeOutput:
    """Stands in for the sound card: the test pulls blocks through the player's callback."""

    samplerate = 48000
    channels = 2

    def __init__(self, device: str = "") -> None:
        self.render: Callable[[np.ndarray, int], None] | None = None
        self.closed = False

    def start(self, render: Callable[[np.ndarray, int], None]) -> None:
        self.render = render

    def pull(self, frames: int = 512) -> np.ndarray:
        out = np.zeros((frames, self.channels), np.float32)
        assert self.render is not None
        self.render(out, frames)
        return out

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_output() -> FakeOutput:
    return FakeOutput()


@pytest.fixture(scope="session")
def sample_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """29 synthetic drums (kicks, snares, hats, claps, toms) plus one unreadable file."""
    base = tmp_path_factory.mktemp("samples")
    kit = make_demo_kit(base)
    (kit / "Snares" / "broken.wav").write_bytes(b"RIFF\x00\x00not really a wave file")
    return kit


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def library(data_dir: Path, sample_folder: Path, tmp_path: Path) -> Iterator[Library]:
    folder = tmp_path / "kit"
    shutil.copytree(sample_folder, folder)
    lib = Library(data_dir)
    lib.index([str(folder)], workers=1)
    yield lib
    lib.close()


@pytest.fixture
def empty_library(data_dir: Path) -> Iterator[Library]:
    lib = Library(data_dir)
    yield lib
    lib.close()


@pytest.fixture
def make_window(qtbot: Any) -> Iterator[Callable[..., Any]]:
    """Build MainWindows on a fake output; at teardown close them and check nothing leaked."""
    from PySide6.QtWidgets import QApplication

    from studio.ui.main_window import MainWindow
    from studio.ui.settings import Settings
    from studio.ui.worker import live_workers

    made: list[Any] = []
    outputs: list[FakeOutput] = []

    def make(lib: Library, output_factory: Callable[[str], Any] | None = None,
             show: bool = True, **kw: Any) -> Any:
        def fake(device: str) -> FakeOutput:
            out = FakeOutput(device)
            outputs.append(out)
            return out

        kw.setdefault("index_workers", 1)
        kw.setdefault("load_models", False)
        w = MainWindow(lib, Settings(lib.data_dir), output_factory=output_factory or fake, **kw)
        w.fake_outputs = outputs
        made.append(w)
        if show:
            w.show()
            qtbot.waitUntil(lambda: w.player.error != "not started", timeout=5000)
            qtbot.waitUntil(w.preview.plots_ready, timeout=10000)
        return w

    yield make
    for w in made:
        w.close()
    qtbot.waitUntil(lambda: not live_workers(), timeout=10000)
    QApplication.processEvents()
    leaked = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert not leaked, f"top-level widgets left open: {leaked}"
    for w in made:
        w.deleteLater()
    QApplication.processEvents()
