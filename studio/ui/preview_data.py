"""What the preview job computes off the GUI thread: envelope, spectrogram, playback buffer.

Pure numpy on top of studio.core.audio, so it can run on a worker thread and be tested alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from studio.core.analysis import MAX_ANALYSED_SECONDS
from studio.core.audio import DecodeError, decode

# What is decoded of a long file to show and play it (a take of minutes costs ~30 ms more
# for each 30 s read)...
MAX_SECONDS = 30.0
# ... unless a search matched further in: then up to where the index windows files, so a
# match 40 s into a take is auditioned from there and shaded where it is.
MAX_MATCH_SECONDS = MAX_ANALYSED_SECONDS
# What a first read gives the player (the rest follows, and it plays on seamlessly).
HEAD_SECONDS = 3.0
ENVELOPE_POINTS = 1600
SPEC_FRAMES = 600
SPEC_BINS = 160
SPEC_SAMPLES = 400_000
FLOOR_DB = -90.0


def seconds_to_read(until: float | None) -> float:
    """How much of a file to decode to show or play it through `until` seconds."""
    if until is None:
        return MAX_SECONDS
    return min(max(MAX_SECONDS, until + 2.0), MAX_MATCH_SECONDS)


@dataclass
class PreviewData:
    path: str
    duration: float = 0.0
    shown_seconds: float = 0.0
    env_t: np.ndarray | None = None
    env_lo: np.ndarray | None = None
    env_hi: np.ndarray | None = None
    spec: np.ndarray | None = None  # (frames, SPEC_BINS) in dB, log-frequency rows
    f_lo: float = 30.0
    f_hi: float = 11025.0
    error: str | None = None


def envelope(y: np.ndarray, sr: int, points: int = ENVELOPE_POINTS
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Min/max per bucket so a transient is never lost to decimation. A sound too short for
    buckets of two samples or more (under 2 x points samples: ~70 ms at 44.1 kHz) comes back
    as its samples, lo and hi the same array: the panel draws that as a line through them."""
    n = len(y)
    if n < 2 * points:
        t = np.arange(n, dtype=np.float32) / sr
        return t, y, y
    per = n // points
    m = y[: per * points].reshape(points, per)
    t = (np.arange(points, dtype=np.float32) * per + per / 2) / sr
    return t, m.min(axis=1), m.max(axis=1)


def spectrogram(y: np.ndarray, sr: int) -> tuple[np.ndarray, float, float]:
    """Magnitude in dB on log-spaced frequency rows; (frames x SPEC_BINS, f_lo, f_hi).

    A short sound gets as many columns as a long one (a 0.11 s snare ~480, where a fixed hop
    of a quarter frame gave it 6 blocks), and a frame no longer than a quarter of it (down
    to 256 samples) so that its attack is not smeared over its decay."""
    n_fft = 1024 if sr <= 24000 else 2048
    while n_fft > 256 and len(y) < 4 * n_fft:  # short sounds: a shorter frame, less smear
        n_fft //= 2
    if len(y) < n_fft:
        y = np.pad(y, (0, n_fft - len(y)))
    span = len(y) - n_fft
    # At most SPEC_FRAMES columns and SPEC_SAMPLES samples through the FFT (~15 ms of CPU
    # per sample shown, on the preview thread, as fast as the arrow keys move).
    hop = max(1, -(-span // (SPEC_FRAMES - 1)), -(-span * n_fft // SPEC_SAMPLES))
    starts = np.arange(0, len(y) - n_fft + 1, hop)
    idx = starts[:, None] + np.arange(n_fft)[None, :]
    frames = y[idx] * np.hanning(n_fft).astype(np.float32)
    mag = np.abs(np.fft.rfft(frames, axis=1)).astype(np.float32)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    f_lo, f_hi = 30.0, sr / 2
    centres = np.geomspace(f_lo, f_hi, SPEC_BINS)
    cols = mag @ _interp_matrix(freqs, centres)
    peak = float(cols.max()) or 1.0
    db = 20 * np.log10(np.maximum(cols / peak, 1e-6))
    return np.clip(db, FLOOR_DB, 0.0).astype(np.float32), f_lo, f_hi


def _interp_matrix(freqs: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """(len(freqs), len(centres)) weights doing np.interp on every row at once."""
    i = np.clip(np.searchsorted(freqs, centres) - 1, 0, len(freqs) - 2)
    w = np.clip((centres - freqs[i]) / (freqs[i + 1] - freqs[i]), 0.0, 1.0)
    m = np.zeros((len(freqs), len(centres)), np.float32)
    cols = np.arange(len(centres))
    m[i, cols] = 1 - w
    m[i + 1, cols] += w
    return m


def load_for_playback(path: str, out_sr: int, until: float | None = None,
                      head: bool = False) -> tuple[np.ndarray, bool]:
    """float32 at the output's rate, (frames,) or (frames, 2) for a stereo file (auditioned
    as it is, not folded to the middle), through `until` seconds at least (DecodeError when
    unreadable); and whether there is more to read.

    With `head`, only the first HEAD_SECONDS, so that a long take starts at once (its 30 s
    took 190-400 ms to decode before a sound came out); the rest is read after."""
    limit = seconds_to_read(until)
    read = min(limit, HEAD_SECONDS) if head else limit
    audio = decode(path, sr=out_sr, max_seconds=read, stereo=True)
    return audio.samples, read < limit and audio.duration > read + 1e-3


def load_preview(path: str, should_stop: Callable[[], bool] | None = None,
                 until: float | None = None) -> PreviewData:
    """Decode `path` (through `until` seconds at least) and derive the waveform envelope
    and the spectrogram."""
    try:
        audio = decode(path, sr=None, max_seconds=seconds_to_read(until))
    except DecodeError as e:
        return PreviewData(path, error=e.reason)
    y, sr = audio.samples, audio.sr
    d = PreviewData(path, duration=audio.duration, shown_seconds=len(y) / sr)
    d.env_t, d.env_lo, d.env_hi = envelope(y, sr)
    if should_stop is not None and should_stop():
        return d
    d.spec, d.f_lo, d.f_hi = spectrogram(y, sr)
    return d
