"""The waveform and spectrogram of the selected sample, with a moving playhead.

pyqtgraph costs ~300 ms to import, so the plots are built after the window is on screen
(`ensure_plots`); until then the panel shows a plain placeholder.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget

from studio.ui.preview_data import SPEC_BINS, PreviewData

WAVE_COLOUR = "#4fd1c5"
BACKGROUND = "#14161a"
PLAYHEAD = "#f6e05e"
REGION_BRUSH = (246, 173, 85, 60)  # where a search matched inside a longer file
REGION_EDGE = (246, 173, 85, 170)


class ElidedLabel(QLabel):
    """One line that is cut with "…" to the width it is given, never widening the window
    (a 115-character file name pushed a 1100 px window to 1261 px); the whole text is its
    tooltip and `full_text()`."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._full = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight,
                                              max(self.width(), 1))
        super().setText(shown)


class PreviewPanel(QWidget):
    volume_changed = Signal(float)  # the audition gain, 0-1 linear

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preview")
        self.title = ElidedLabel("Select a sample to see and hear it")
        self.title.setObjectName("previewTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The audition volume, as every sampler browser has one: 0-100 on a square law (half
        # way is -12 dB), so the travel feels even to the ear.
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setObjectName("volume")
        self.volume.setRange(0, 100)
        self.volume.setFixedWidth(110)
        self.volume.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the arrow keys stay the list's
        self.volume.valueChanged.connect(self._volume_moved)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title, 1)
        self._volume_label = QLabel("Volume")
        self._volume_label.setObjectName("volumeLabel")
        head.addWidget(self._volume_label)
        head.addWidget(self.volume)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(6, 4, 6, 4)
        self._layout.setSpacing(2)
        self._layout.addLayout(head)
        self._placeholder = QWidget()
        self._layout.addWidget(self._placeholder, 1)
        self._wave: Any = None
        self._spec: Any = None
        self._pending: tuple[PreviewData, str, tuple[float, float] | None] | None = None
        self.region: tuple[float, float] | None = None
        self.data: PreviewData | None = None
        self.peak = 1.0  # of the sample shown, linear: the waveform is drawn to it

    def set_gain(self, gain: float) -> None:
        """Show `gain` (0-1, linear) on the volume slider (volume_changed follows)."""
        self.volume.setValue(round(100 * float(np.sqrt(min(max(gain, 0.0), 1.0)))))

    def gain(self) -> float:
        return (self.volume.value() / 100.0) ** 2

    def _volume_moved(self, _value: int) -> None:
        g = self.gain()
        db = f"{20 * np.log10(g):.0f} dB" if g > 0 else "off"
        self.volume.setToolTip(f"Audition volume: {db} (Ctrl+Alt+Up / Down)")
        self.volume_changed.emit(g)

    def plots_ready(self) -> bool:
        """Whether the waveform and spectrogram are built (the window builds them once
        pyqtgraph's import, on a thread after launch, is done)."""
        return self._wave is not None

    def ensure_plots(self) -> None:
        if self._wave is not None:
            return
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=False, background=BACKGROUND, foreground="#8b949e")
        self._placeholder.setParent(None)
        self._placeholder.deleteLater()
        wave = pg.PlotWidget()
        spec = pg.PlotWidget()
        for w in (wave, spec):
            w.setMenuEnabled(False)
            w.setMouseEnabled(x=False, y=False)
            w.hideButtons()
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            w.getPlotItem().hideAxis("left")
            w.getPlotItem().setContentsMargins(0, 0, 0, 0)
        wave.getPlotItem().hideAxis("bottom")
        wave.setYRange(-1.0, 1.0, padding=0.02)
        spec.setXLink(wave)
        bottom = spec.getPlotItem().getAxis("bottom")
        bottom.setLabel("seconds")
        bottom.enableAutoSIPrefix(False)  # "seconds (x0.001)" reads badly
        self._curve = pg.PlotDataItem(pen=pg.mkPen(WAVE_COLOUR, width=1), connect="pairs")
        self._zero = pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen("#2d333b"))
        wave.addItem(self._zero)
        wave.addItem(self._curve)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setColorMap(pg.colormap.get("inferno"))
        spec.addItem(self._image)
        spec.setYRange(0, SPEC_BINS, padding=0)
        self._heads = [pg.InfiniteLine(pos=0.0, angle=90, pen=pg.mkPen(PLAYHEAD, width=1))
                       for _ in range(2)]
        wave.addItem(self._heads[0])
        spec.addItem(self._heads[1])
        for h in self._heads:
            h.setVisible(False)
        self._region = pg.LinearRegionItem(values=(0.0, 0.0), movable=False,
                                           brush=pg.mkBrush(*REGION_BRUSH),
                                           pen=pg.mkPen(REGION_EDGE, width=1))
        self._region.setZValue(-10)  # under the waveform
        self._region.setVisible(False)
        wave.addItem(self._region)
        self._layout.addWidget(wave, 3)
        self._layout.addWidget(spec, 2)
        self._wave, self._spec = wave, spec
        if self._pending is not None:
            self.show_data(*self._pending)

    def clear(self, message: str = "Select a sample to see and hear it") -> None:
        self.data = None
        self.region = None
        self.title.setText(message)
        if self._wave is not None:
            self._region.setVisible(False)
            self._curve.setData([], [])
            self._image.clear()
            self.set_playhead(None)

    def show_data(self, d: PreviewData, info: str = "",
                  region: tuple[float, float] | None = None) -> None:
        """Draw `d`; `info` (category, words) goes after the file name in the title;
        `region` (start, end seconds) is shaded: where a search matched inside the file."""
        self.data = d
        self.region = region
        peak = 0.0
        if not d.error and d.env_lo is not None and d.env_hi is not None and len(d.env_hi):
            peak = max(float(np.max(np.abs(d.env_lo))), float(np.max(np.abs(d.env_hi))))
        self.peak = min(peak, 1.0) if peak > 1e-6 else 1.0  # silence: the full scale
        name = d.path.rsplit("/", 1)[-1]
        if d.error:
            self.title.setText(f"{name} — cannot show: {d.error}")
        else:
            extra = f"  ·  {info}" if info else ""
            where = f"  ·  match at {region[0]:.2f}–{region[1]:.2f} s" if region else ""
            level = f"  ·  peak {20 * np.log10(peak):.1f} dB" if peak > 1e-6 else ""
            # A long take is drawn and played as far as it was read: say so.
            cut = (f" (first {d.shown_seconds:.0f} s shown)"
                   if d.duration > d.shown_seconds + 0.05 else "")
            self.title.setText(f"{name}  ·  {d.duration:.2f} s{cut}{level}{where}{extra}")
        if self._wave is None:
            self._pending = (d, info, region)
            return
        self._pending = None
        self._region.setVisible(region is not None and not d.error)
        if region is not None:
            self._region.setRegion(region)
        if d.error or d.env_t is None or d.env_lo is None or d.env_hi is None:
            self._curve.setData([], [])
            self._image.clear()
            self.set_playhead(None)
            self._wave.setXRange(0, 1.0, padding=0)
            return
        if d.env_lo is d.env_hi:  # envelope() returns the samples themselves so
            # Samples, not buckets (a short sound): a line through them. As min/max pairs
            # each would be a segment of no length, and nothing would show.
            self._curve.setData(d.env_t, d.env_lo, connect="all")
        else:
            x = np.repeat(d.env_t, 2)
            y = np.empty(len(x), np.float32)
            y[0::2], y[1::2] = d.env_lo, d.env_hi
            self._curve.setData(x, y, connect="pairs")
        span = max(d.shown_seconds, 1e-3)
        self._wave.setXRange(0, span, padding=0)
        # Drawn to its own peak, as the spectrogram is: a quiet hat fills the view as a loud
        # kick does (the title gives the level).
        self._wave.setYRange(-self.peak, self.peak, padding=0.04)
        if d.spec is not None:
            self._image.setImage(d.spec.T, autoLevels=False, levels=(-80.0, 0.0))
            self._image.setRect(QRectF(0.0, 0.0, span, float(SPEC_BINS)))

    def set_playhead(self, seconds: float | None) -> None:
        if self._wave is None:
            return
        for h in self._heads:
            if seconds is None:
                h.setVisible(False)
            else:
                h.setVisible(True)
                h.setValue(seconds)
