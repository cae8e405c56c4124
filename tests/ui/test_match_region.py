"""Where in a long file the match is (results note, shaded waveform, audition from there), and
category labels for people."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from studio.core.library import Library
from studio.core.synth import SR, voice
from studio.ui.labels import (
    category_cell,
    category_label,
    category_odds,
    facet_entries,
    match_note,
)
from studio.ui.results import NOTE_ROLE

BEAT = 0.5  # 120 BPM


def _loop() -> np.ndarray:
    """8 s: kick/snare on the beat, but 4–6 s is a fill of toms and claps."""
    y = np.zeros(int(8 * SR), np.float32)
    for i in range(16):
        t = i * BEAT
        kind = ("tom" if i % 2 == 0 else "clap") if 4.0 <= t < 6.0 else \
            ("kick" if i % 2 == 0 else "snare")
        hit = voice(kind, 0)
        s = int(t * SR)
        n = min(len(hit), len(y) - s)
        y[s:s + n] += hit[:n]
    return y / np.abs(y).max() * 0.9


@pytest.fixture
def loop_library(tmp_path: Path, data_dir: Path) -> Iterator[tuple[Library, Path]]:
    root = tmp_path / "Loops"
    root.mkdir()
    y = _loop()
    sf.write(root / "Fill Loop 120.wav", y, SR, subtype="PCM_16")
    for kind in ("kick", "snare", "hihat_closed", "clap"):
        for v in (1, 2):
            sf.write(root / f"{kind} {v}.wav", voice(kind, v), SR, subtype="PCM_16")
    query = tmp_path / "fill.wav"  # the fill alone, from outside the library
    sf.write(query, y[int(4.0 * SR):int(6.0 * SR)], SR, subtype="PCM_16")
    lib = Library(data_dir)
    lib.index([str(root)], workers=1)
    yield lib, query
    lib.close()


def test_match_inside_a_loop_is_shown_and_auditioned_from_there(
        make_window: Any, loop_library: tuple[Library, Path], qtbot: Any) -> None:
    lib, query = loop_library
    w = make_window(lib)
    w.find_similar([str(query)])
    qtbot.waitUntil(lambda: w.results.model.rowCount() > 0, timeout=5000)
    model = w.results.model
    row = next(i for i, h in enumerate(model.hits) if h.name == "Fill Loop 120.wav")
    hit = model.hits[row]
    assert hit.duration == pytest.approx(8.0, abs=0.01)
    assert 3.0 <= hit.start <= 5.0 and hit.end - hit.start < 8.0
    note = f"at {hit.start:.2f}–{hit.end:.2f} s"
    assert model.index(row, 0).data(NOTE_ROLE) == note
    assert note in model.index(row, 2).data(0x03)  # ToolTipRole
    one_shot = next(i for i, h in enumerate(model.hits) if h.duration and h.duration < 1.0)
    assert model.index(one_shot, 0).data(NOTE_ROLE) == ""

    w.results.view.setCurrentIndex(model.index(row, 0))
    qtbot.waitUntil(lambda: w.player.path == hit.path, timeout=5000)
    assert w.player.offset == pytest.approx(hit.start)
    w.fake_outputs[-1].pull(4800)
    assert w.player.position_seconds() >= hit.start  # the playhead counts from the file start
    qtbot.waitUntil(lambda: w.preview.data is not None and w.preview.data.path == hit.path,
                    timeout=5000)
    region = w.preview._region
    assert region.isVisible() and not region.movable
    assert region.getRegion() == pytest.approx((hit.start, hit.end))
    assert f"match at {hit.start:.2f}" in w.preview.title.full_text()

    w.results.view.setCurrentIndex(model.index(one_shot, 0))
    qtbot.waitUntil(lambda: w.preview.data is not None
                    and w.preview.data.path == model.hits[one_shot].path, timeout=5000)
    assert not w.preview._region.isVisible()
    assert w.player.offset == 0.0


def test_category_labels_in_results_preview_and_facet(make_window: Any, library: Any,
                                                      qtbot: Any) -> None:
    w = make_window(library)
    combo = w.search_bar.category
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert "closed hat" in labels and "open hat" in labels and "hihat_closed" not in labels
    combo.setCurrentIndex(labels.index("closed hat"))
    assert w.search_bar.filters().category == "hihat_closed"  # ids stay inside
    w.search_bar.edit.setText("hat")
    w.search_bar.flush()
    qtbot.waitUntil(lambda: w.results.model.rowCount() > 0, timeout=5000)
    assert "· closed hat —" in w.results.header.text()
    from PySide6.QtCore import Qt

    model = w.results.model
    # A filter keeps its category, and sounds the model thinks may well be one (>= 30 %);
    # a sound it is unsure of shows its runner-up too.
    for r, h in enumerate(model.hits):
        probs = h.analysis["probs"]
        assert h.category == "hihat_closed" or probs["hihat_closed"] >= 0.3
        cell = model.index(r, 1).data()
        assert cell == category_cell(h)
        assert category_label(h.category) in model.index(r, 0).data(Qt.ItemDataRole.ToolTipRole)
    w.results.view.setCurrentIndex(model.index(0, 0))
    qtbot.waitUntil(lambda: w.preview.data is not None, timeout=5000)
    assert "closed hat" in w.preview.title.full_text() and "hihat" not in w.preview.title.full_text()


def test_labels() -> None:
    assert category_label("hihat_open") == "open hat" and category_label(None) == ""
    assert category_label("new_thing") == "new thing"
    ids = [c for _label, c in facet_entries(("kick", "hihat_closed", "hihat_open", "ride"))]
    assert ids == ["kick", "hihat_closed", "hihat_open", "hihat", "ride", "cymbal"]

    class Hit:
        def __init__(self, category: str, probs: dict[str, float]) -> None:
            self.category, self.analysis = category, {"probs": probs}

    sure = Hit("kick", {"kick": 0.9, "tom": 0.08, "snare": 0.02})
    unsure = Hit("hihat_open", {"hihat_open": 0.48, "crash": 0.35, "ride": 0.1, "kick": 0.01})
    torn = Hit("snare", {"snare": 0.5, "clap": 0.2, "rim": 0.2, "perc": 0.1})
    assert category_cell(sure) == "kick"
    assert category_cell(unsure) == "open hat / crash"
    assert category_cell(torn) == "snare"  # no runner-up worth naming
    assert category_cell(Hit("", {})) == ""
    kick_loop = Hit("kick", {"kick": 0.9, "tom": 0.1})
    kick_loop.analysis["kind"] = "loop"
    beat = Hit("kick", {"kick": 0.35, "snare": 0.33, "hihat_closed": 0.32})
    beat.analysis["kind"] = "loop"
    assert category_cell(kick_loop) == "kick loop" and category_cell(beat) == "drum loop"
    assert category_odds(unsure) == "open hat 48 % · crash 35 % · ride 10 %"
    assert category_odds(Hit("kick", {})) == ""

    class H:
        start, end, duration = 0.0, 0.3, 0.3

    assert match_note(H()) == ""
    H.start, H.end, H.duration = 1.5, 2.5, 8.0
    assert match_note(H()) == "at 1.50–2.50 s"
