"""The preview panel draws what the sample holds, however short it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtGui import QColor

from studio.ui.preview import WAVE_COLOUR, PreviewPanel
from studio.ui.preview_data import ENVELOPE_POINTS, SPEC_FRAMES, load_preview


def _wave_pixels(panel: PreviewPanel) -> int:
    """How many pixels of the waveform plot are in the waveform's colour."""
    assert panel._wave is not None
    img = panel._wave.grab().toImage()
    want = QColor(WAVE_COLOUR)
    n = 0
    for y in range(0, img.height(), 2):
        for x in range(0, img.width(), 2):
            c = img.pixelColor(x, y)
            if (
                abs(c.red() - want.red()) < 40
                and abs(c.green() - want.green()) < 40
                and abs(c.blue() - want.blue()) < 40
            ):
                n += 1
    return n


@pytest.mark.parametrize("seconds", [0.03, 0.06, 0.11, 1.0])
def test_waveform_is_drawn_for_short_and_long_sounds(
    qtbot: Any, tmp_path: Path, seconds: float
) -> None:
    """A one-shot under 2 x ENVELOPE_POINTS samples (a 60 ms click at 44.1 kHz) was drawn as
    min/max pairs of one sample each: segments of no length, an empty waveform."""
    sr = 44100
    n = int(seconds * sr)
    t = np.arange(n) / sr
    y = (0.8 * np.exp(-t / (seconds / 4)) * np.sin(2 * np.pi * 180 * t)).astype(np.float32)
    p = tmp_path / "hit.wav"
    sf.write(p, y, sr, subtype="FLOAT")
    d = load_preview(str(p))
    assert d.env_lo is not None and d.spec is not None
    if n < 2 * ENVELOPE_POINTS:
        assert np.array_equal(d.env_lo, y)  # the samples themselves
    # columns enough to see the attack and the decay of even the shortest hit
    assert d.spec.shape[0] >= min(SPEC_FRAMES // 4, n // 16)
    panel = PreviewPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.show()
    panel.ensure_plots()
    panel.show_data(d)
    qtbot.wait(50)
    assert _wave_pixels(panel) > 150


def test_silence_draws_a_flat_line_not_a_crash(qtbot: Any, tmp_path: Path) -> None:
    p = tmp_path / "quiet.wav"
    sf.write(p, np.zeros(500, np.float32), 44100)
    panel = PreviewPanel()
    qtbot.addWidget(panel)
    panel.ensure_plots()
    panel.show_data(load_preview(str(p)))
    assert panel.peak == 1.0
    assert "peak" not in panel.title.full_text()
