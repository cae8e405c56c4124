"""Audition: one output stream kept open; the audio callback only copies slices.

Friture's rule: decode into memory first (done off the GUI thread by the preview job), then
the callback copies from a preloaded float32 buffer. No allocation, logging or signals happen
in the callback; requests reach it through one atomically replaced tuple, and the GUI reads the
playhead with a QTimer. A new sound cuts the last one off with a 5 ms fade (no click).

The output is injectable: `Player(output_factory=...)` takes anything with `samplerate`,
`channels`, `start(render)` and `close()`; tests pass a fake that pulls blocks by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

FADE_SECONDS = 0.005
# A fixed block (~5-11 ms): the callback takes the GIL once a block, not for every tiny
# period the host offers; short enough that a new selection is heard at once.
BLOCK_FRAMES = 512
RenderFn = Callable[[np.ndarray, int], None]


class Output(Protocol):
    samplerate: int
    channels: int

    def start(self, render: RenderFn) -> None: ...

    def close(self) -> None: ...


class SoundDeviceOutput:
    """A PortAudio stream through sounddevice; raises OSError when there is no device."""

    def __init__(self, device: str = "") -> None:
        import sounddevice as sd  # OSError here when PortAudio is missing

        self._sd = sd
        dev: Any = device or None
        try:
            info = sd.query_devices(dev, "output")
        except (ValueError, sd.PortAudioError) as e:
            raise OSError(f"no audio output ({e})") from None
        self.samplerate = int(info["default_samplerate"]) or 48000
        self.channels = max(1, min(2, int(info["max_output_channels"])))
        self.name = str(info["name"])
        self._dev = dev
        self._stream: Any = None

    def start(self, render: RenderFn) -> None:
        def callback(outdata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
            render(outdata, frames)

        try:
            self._stream = self._sd.OutputStream(
                device=self._dev, samplerate=self.samplerate, channels=self.channels,
                dtype="float32", latency="low", blocksize=BLOCK_FRAMES, callback=callback)
            self._stream.start()
        except self._sd.PortAudioError as e:
            raise OSError(f"cannot open audio output ({e})") from None

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close(ignore_errors=True)
            finally:
                self._stream = None


class PacedOutput:
    """A stand-in sound card with a real clock: a thread pulls one block per block period.

    For benchmarks on machines whose only "device" is ALSA's null sink, which has no clock
    and calls the callback as fast as it can (it would measure a spinning audio thread,
    not the app)."""

    def __init__(self, device: str = "", samplerate: int = 48000, channels: int = 2) -> None:
        self.samplerate, self.channels = samplerate, channels
        self._stop = False
        self._thread: Any = None

    def start(self, render: RenderFn) -> None:
        import threading
        import time

        def run() -> None:
            out = np.zeros((BLOCK_FRAMES, self.channels), np.float32)
            period = BLOCK_FRAMES / self.samplerate
            due = time.perf_counter()
            while not self._stop:
                render(out, BLOCK_FRAMES)
                due += period
                time.sleep(max(0.0, due - time.perf_counter()))

        self._thread = threading.Thread(target=run, name="paced-output", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(timeout=1.0)


def output_devices() -> list[str]:
    """Names of the output devices, [] when PortAudio is unavailable."""
    try:
        import sounddevice as sd

        return [str(d["name"]) for d in sd.query_devices() if d["max_output_channels"] > 0]
    except Exception:  # noqa: BLE001 - no PortAudio, no devices
        return []


class Player(QObject):
    position = Signal(float)  # seconds into the sound, while playing
    stopped = Signal()
    availability = Signal(str)  # "" when playback works, else why it does not

    def __init__(self, output_factory: Callable[[str], Output] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._factory = output_factory or SoundDeviceOutput
        self._out: Output | None = None
        self.error = "not started"
        self.open_error = ""  # why the last open() failed
        self.gain = 0.9  # the volume, 0-1 (read by the audio thread as it is)
        self.path: str | None = None
        self.offset = 0.0  # seconds into the file where the playing buffer starts
        # state shared with the audio callback
        self._req: tuple[int, np.ndarray | None] = (0, None)
        self._seen = 0
        self._buf: np.ndarray | None = None
        self._pos = 0
        self._playing = False
        self._ramp = np.zeros(1, np.float32)
        self._ext: tuple[np.ndarray, np.ndarray] | None = None  # (head, whole) to swap in
        self._stopped = False  # stop() since the last play(): a late rest stays out
        self._timer = QTimer(self)
        self._timer.setInterval(25)
        self._timer.timeout.connect(self._tick)

    # ---- device --------------------------------------------------------------------------
    @property
    def samplerate(self) -> int | None:
        return self._out.samplerate if self._out is not None else None

    def available(self) -> bool:
        return self._out is not None

    def open(self, device: str = "") -> bool:
        """Play through `device` ("" the system default). The output playing now is closed
        only once the new one has started: a busy or unplugged interface leaves playback as
        it was (False, and `open_error` says why)."""
        try:
            out = self._factory(device)
            n = max(1, int(out.samplerate * FADE_SECONDS))
            ramp = np.linspace(1.0, 0.0, n, dtype=np.float32)
            out.start(self._render)
        except (OSError, ImportError) as e:
            self.open_error = str(e)
            if self._out is None:
                self.error = f"Playback off: {e}"
                self.availability.emit(self.error)
            return False
        self.close()
        self._ramp = ramp
        self._out, self.error, self.open_error = out, "", ""
        self.availability.emit("")
        return True

    def close(self) -> None:
        self._timer.stop()
        if self._out is not None:
            self._out.close()
            self._out = None

    # ---- GUI-side control ------------------------------------------------------------------
    def play(self, samples: np.ndarray, path: str | None = None,
             start: float = 0.0) -> np.ndarray | None:
        """Play float32 `samples` (at `samplerate`; mono, or (frames, 2) stereo) from `start`
        seconds, cutting off what plays now; the reported position counts from the file's
        beginning."""
        if self._out is None:
            return None
        skip = int(max(start, 0.0) * self._out.samplerate)
        if 0 < skip < len(samples):
            samples = samples[skip:]
        else:
            start = 0.0
        self.path, self.offset = path, start
        buf = np.ascontiguousarray(samples, dtype=np.float32)
        self._req = (self._req[0] + 1, buf)
        self._ext = None
        self._stopped = False
        self._timer.start()
        return buf

    def extend(self, head: np.ndarray, whole: np.ndarray) -> None:
        """`whole` (read from the file's start, as `head` was) takes the place of `head`, the
        buffer play() returned, where it plays: the sound goes on past the head's end with
        no gap. Nothing happens once another sound was asked for."""
        sr = self.samplerate
        if sr is None or self._stopped:
            return
        skip = int(max(self.offset, 0.0) * sr)  # as play() cut the head
        rest = np.ascontiguousarray(whole[skip:], dtype=np.float32)
        if len(rest) > len(head):
            self._ext = (head, rest)  # swapped in by the audio thread, which owns _buf
            self._timer.start()  # the head may have run out meanwhile: it plays on

    def replay(self) -> bool:
        seq, nxt = self._req
        # What was asked for last, or once the audio thread took it, what it played (a long
        # take's whole buffer, swapped in for its head).
        buf = nxt if nxt is not None and seq != self._seen else self._buf
        if buf is None:
            buf = nxt
        ext = self._ext
        if ext is not None and buf is ext[0]:
            buf = ext[1]
        if buf is None:
            return False
        offset = self.offset  # the buffer already starts there
        self.play(buf, self.path)
        self.offset = offset
        return True

    def stop(self) -> None:
        self._ext = None  # the rest of a long take must not start it again
        self._stopped = True
        if self._out is not None and (self._playing or self._req[0] != self._seen):
            self._req = (self._req[0] + 1, None)

    def is_playing(self) -> bool:
        ext = self._ext  # a long take's rest, waiting to go on where its head ran out
        return (self._playing or (self._req[0] != self._seen and self._req[1] is not None)
                or (ext is not None and self._buf is ext[0]))

    def position_seconds(self) -> float:
        sr = self.samplerate
        return self.offset + self._pos / sr if sr and self._playing else 0.0

    def _tick(self) -> None:
        if self.is_playing():
            self.position.emit(self.position_seconds())
        else:
            self._timer.stop()
            self.stopped.emit()

    # ---- audio thread ------------------------------------------------------------------------
    def _render(self, out: np.ndarray, frames: int) -> None:
        out.fill(0.0)
        seq, nxt = self._req
        ext = self._ext
        if ext is not None:  # the rest of a long file arrived: it continues the head
            if self._buf is ext[0]:
                self._buf, self._ext = ext[1], None
                if not self._playing and seq == self._seen and self._pos >= len(ext[0]):
                    self._playing = True  # the head ran out before the rest came: go on
            elif nxt is ext[0]:
                nxt, self._ext = ext[1], None
        cur, pos = self._buf, self._pos
        if seq != self._seen:
            self._seen = seq
            if self._playing and cur is not None:
                n = min(frames, len(self._ramp), len(cur) - pos)
                if n > 0:
                    self._write(out, cur[pos:pos + n], self._ramp[:n])
                self._playing = False
                if nxt is not None:  # the new sound starts with the next block
                    self._buf, self._pos, self._playing = nxt, 0, True
                return
            if nxt is None:
                self._playing = False
                return
            self._buf, self._pos, self._playing = nxt, 0, True
            cur, pos = nxt, 0
        if self._playing and cur is not None:
            n = min(frames, len(cur) - pos)
            if n > 0:
                self._write(out, cur[pos:pos + n])
            self._pos = pos + max(n, 0)
            if self._pos >= len(cur):
                self._playing = False

    def _write(self, out: np.ndarray, block: np.ndarray, ramp: np.ndarray | None = None) -> None:
        """`block` (mono, or stereo as (n, 2)) into the first rows of `out`, at the volume,
        faded by `ramp`, and held within full scale (a float file may go over it)."""
        n, chans = len(block), out.shape[1]
        g = np.float32(self.gain)
        if block.ndim == 2 and chans >= 2:
            dst = out[:n, :2]
            np.multiply(block[:, :2], g, out=dst)
            if ramp is not None:
                dst *= ramp[:, None]
            np.clip(dst, -1.0, 1.0, out=dst)
            return
        col = out[:n, 0]
        if block.ndim == 2:  # a stereo sound on a one-channel output: its mix
            np.multiply(block.mean(axis=1), g, out=col)
        else:
            np.multiply(block, g, out=col)
        if ramp is not None:
            col *= ramp
        np.clip(col, -1.0, 1.0, out=col)
        if chans > 1:
            out[:n, 1:] = col[:, None]
