"""Sound words from measured quantities, note names, one-shot/loop and tempo, windows.

Every word is a logistic curve over one or two measurements from `features.measure`; the
curve is 0.5 at the documented threshold and never saturates hard, so words still order
sounds within a category (a "bright kick" is a kick brighter than other kicks).
Opposite words are exact complements (dark = 1 - bright).
"""

from __future__ import annotations

import math

import numpy as np

from studio.core.drums.features import ENV_HOP, envelope

WORD_DEFINITIONS: dict[str, str] = {
    "bright": "spectral centroid of the first 1.5 s; 0.5 at 2.5 kHz, +-1 octave moves it ~0.73/0.27",
    "dark": "1 - bright (spectral centroid below 2.5 kHz)",
    "punchy": "fast attack and high crest: attack (-20 dB to peak) under 8 ms and peak/RMS of the first 100 ms over 10 dB",
    "soft": "1 - punchy (slow attack, low crest)",
    "short": "decay time T-20dB (peak to last moment within 20 dB of it); 0.5 at 250 ms",
    "long": "1 - short (T-20dB over 250 ms)",
    "roomy": "late tail: time from -20 dB to -40 dB (T40 - T20); 0.5 at 300 ms",
    "tight": "1 - roomy (late tail T40 - T20 under 300 ms)",
    "noisy": "'dusty': a steady noise floor after the hit (last quarter within +-4 dB, above -55 dB of peak), weighted up by a flat (hiss-like) tail spectrum",
    "clean": "1 - noisy (no steady noise floor)",
    "lofi": "band-limited (spectrum ends in a cliff below ~9 kHz: 60 dB edge with > 20 dB drop) or bit-reduced (samples on an 8/10/12-bit grid)",
    "distorted": "share of the loud part's samples within 5% of the peak (flat, clipped tops); 0.5 at 2%",
    "tonal": "share of body energy (15 ms after the peak) within +-20 Hz of its strongest 30-1500 Hz partial; 0.5 at 35%",
    "boomy": "share of energy below 150 Hz (0.5 at 40%), weighted by long",
}

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def _sig(z: float) -> float:
    return float(1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0))))


def words(m: dict) -> dict[str, float]:
    bright = _sig(math.log2(max(m["centroid"], 20.0) / 2500.0) / 1.0)
    punchy = _sig(0.8 * math.log2(0.008 / max(m["attack"], 1e-4)) + (m["crest_db"] - 10.0) / 6.0)
    short = _sig(math.log2(0.25 / max(m["t20"], 1e-3)) / 0.7)
    roomy = _sig(math.log2(max(m["t40"] - m["t20"], 1e-3) / 0.3) / 0.7)
    steady = _sig((4.0 - m["tail_std"]) / 1.0)
    noisy = steady * _sig((m["tail_db"] + 55.0) / 5.0) * (0.6 + 0.4 * min(m["tail_flat"] * 2, 1.0))
    band = _sig((m["cliff_db"] - 20.0) / 5.0) * _sig(
        math.log2(9000.0 / max(m["edge_hz"], 50.0)) / 0.3
    )
    bits = {4: 1.0, 6: 1.0, 8: 0.95, 10: 0.7, 12: 0.4}.get(int(m["bits"]), 0.0)
    lofi = max(band, bits)
    distorted = _sig(math.log10(max(m["clip_frac"], 1e-5) / 0.02) / 0.25)
    tonal = _sig((m.get("pitch_share", 0.0) - 0.35) / 0.08)
    boomy = _sig((m["low_frac"] - 0.4) / 0.1) * (0.5 + 0.5 * (1.0 - short))
    w = {
        "bright": bright,
        "dark": 1.0 - bright,
        "punchy": punchy,
        "soft": 1.0 - punchy,
        "short": short,
        "long": 1.0 - short,
        "roomy": roomy,
        "tight": 1.0 - roomy,
        "noisy": noisy,
        "clean": 1.0 - noisy,
        "lofi": lofi,
        "distorted": distorted,
        "tonal": tonal,
        "boomy": boomy,
    }
    return {k: round(v, 4) for k, v in w.items()}


def note_name(hz: float) -> str | None:
    if not hz or hz <= 0 or not math.isfinite(hz):
        return None
    midi = int(round(69 + 12 * math.log2(hz / 440.0)))
    if midi < 0 or midi > 127:
        return None
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def onset_envelope(y: np.ndarray, sr: int) -> tuple[np.ndarray, float]:
    """Half-wave rectified log-energy rise per ~11.6 ms frame, and the frame period."""
    env = envelope(y)
    n = env.size // 4 * 4
    e = env[:n].reshape(-1, 4).max(axis=1)
    loge = np.log10(e * e + 1e-10)
    onset = np.maximum(np.diff(loge, prepend=loge[:1]), 0.0)
    return onset, 4 * ENV_HOP / sr


def onset_count(onset: np.ndarray, period: float) -> int:
    """Onsets: local maxima above 30% of the strongest rise, at least 70 ms apart."""
    if onset.size < 3 or float(onset.max()) <= 0:
        return 0
    thr = 0.3 * float(onset.max())
    c = onset[1:-1]
    peaks = np.flatnonzero((c > thr) & (c >= onset[:-2]) & (c > onset[2:])) + 1
    gap = max(int(0.07 / period), 1)
    count, last = 0, -gap
    for p in peaks.tolist():
        if p - last >= gap:
            count += 1
            last = p
    return count


def strong_onsets(y: np.ndarray, sr: int) -> int:
    """How many hits start a new sound (see strong_onset_starts)."""
    return len(strong_onset_starts(y, sr))


def strong_onset_starts(y: np.ndarray, sr: int) -> list[int]:
    """Where hits start a new sound (sample positions, 256-sample frames): the RMS level rises
    >= 8 dB within 50 ms, to within 18 dB of the loudest moment, at least 80 ms after the
    last hit. A cymbal's shimmer or a room's flutter moves the level by a few dB and never
    counts; each hit of a loop does."""
    hop = 256
    n = y.size // hop
    if n < 8:
        return [0] if n else []
    frames = y[: n * hop].reshape(n, hop).astype(np.float32)
    db = 10.0 * np.log10(np.einsum("ij,ij->i", frames, frames) / hop + 1e-12)
    look = max(1, int(0.05 * sr / hop))
    padded = np.concatenate([np.full(look, db.min()), db])
    before = np.lib.stride_tricks.sliding_window_view(padded[:-1], look).min(axis=1)
    rise = db - before
    ok = (rise >= 8.0) & (db >= db.max() - 18.0)
    gap = max(1, int(0.08 * sr / hop))
    starts: list[int] = []
    last = -gap
    for i in np.flatnonzero(ok).tolist():
        if i - last >= gap:
            starts.append(i * hop)
            last = i
    return starts


def tempo(onset: np.ndarray, period: float) -> tuple[float | None, float]:
    """Beats per minute from the onset autocorrelation (70-180 BPM), and its strength 0..1."""
    x = onset - onset.mean()
    if x.size < 16 or float(np.dot(x, x)) <= 0:
        return None, 0.0
    nfft = 1 << int(2 * x.size - 1).bit_length()
    f = np.fft.rfft(x, nfft)
    ac = np.fft.irfft(f.real**2 + f.imag**2, nfft)[: x.size]
    ac /= ac[0]
    lo = int(60.0 / 180.0 / period)
    hi = min(int(60.0 / 70.0 / period) + 1, x.size - 2)
    if hi <= lo + 2:
        return None, 0.0
    lags = np.arange(lo, hi)
    # A lag that also explains its double (the bar's half) is the beat; mild prior near 115 BPM.
    dbl = ac[np.minimum(2 * lags, x.size - 1)]
    prior = np.exp(-0.5 * (np.log2(60.0 / (lags * period) / 115.0) / 0.9) ** 2)
    s = (ac[lags] + 0.5 * dbl) * prior
    k = int(np.argmax(s))
    lag = float(lags[k])
    i = lags[k]
    if 0 < i < ac.size - 1:
        a, b, c = ac[i - 1], ac[i], ac[i + 1]
        den = a - 2 * b + c
        if den < 0:
            lag += 0.5 * (a - c) / den
    return round(float(60.0 / (lag * period)), 2), float(max(ac[i], 0.0))


def windows(duration: float, win: float = 2.0, hop: float = 1.0) -> list[tuple[float, float]]:
    """Overlapping (start, end) windows covering a long file; one window for a one-shot."""
    if not duration or not math.isfinite(duration) or duration <= 0:
        return [(0.0, 0.0)]
    if duration <= max(2.5, win):
        return [(0.0, float(duration))]
    hop = max(min(hop, win), 0.05)
    out: list[tuple[float, float]] = []
    start = 0.0
    while start + win < duration - 1e-9:
        out.append((round(start, 4), round(start + win, 4)))
        start += hop
    out.append((round(max(duration - win, 0.0), 4), round(float(duration), 4)))
    return out
