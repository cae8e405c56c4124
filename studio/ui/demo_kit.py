"""A small drum kit synthesised with numpy, so a newcomer sees Studio work in seconds.

~30 one-shots (kicks, snares, hats, claps, toms), deterministic, written as 16-bit WAVs into
<data_dir>/demo-kit/<Category>/. Qt-free: the window calls `make_demo_kit` on a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 44100
FOLDER_NAME = "demo-kit"


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SR), dtype=np.float64) / SR


def _band(noise: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Brick-wall band-pass in the frequency domain (fine for synthesis)."""
    spec = np.fft.rfft(noise)
    f = np.fft.rfftfreq(len(noise), 1.0 / SR)
    spec[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spec, len(noise))


def kick(rng: np.random.Generator, f_hi: float, f_lo: float, decay: float, drive: float) -> np.ndarray:
    t = _t(decay * 6)
    freq = f_lo + (f_hi - f_lo) * np.exp(-t / 0.012)
    phase = 2 * np.pi * np.cumsum(freq) / SR
    y = np.sin(phase) * np.exp(-t / decay)
    click = _band(rng.standard_normal(len(t)), 1500, 8000) * np.exp(-t / 0.002) * 0.5
    return np.tanh(drive * (y + click)) / np.tanh(drive)


def snare(rng: np.random.Generator, tone: float, snap: float, decay: float) -> np.ndarray:
    t = _t(decay * 6)
    body = np.sin(2 * np.pi * tone * t) * np.exp(-t / 0.05)
    noise = _band(rng.standard_normal(len(t)), 1200, 9000)
    noise /= np.max(np.abs(noise)) or 1
    return 0.6 * body + snap * noise * np.exp(-t / decay)


def hat(rng: np.random.Generator, decay: float, brightness: float) -> np.ndarray:
    t = _t(max(decay * 6, 0.08))
    metal = sum(np.sign(np.sin(2 * np.pi * f * t)) for f in (205.3, 304.4, 369.6, 522.7, 540, 800))
    noise = 0.5 * rng.standard_normal(len(t)) + metal
    y = _band(noise, 7000 * brightness, 18000)
    return y / (np.max(np.abs(y)) or 1) * np.exp(-t / decay) * np.minimum(1.0, t / 0.0005)


def clap(rng: np.random.Generator, spread: float, tail: float) -> np.ndarray:
    t = _t(0.4)
    env = np.zeros(len(t))
    for k in range(4):
        start = int(k * spread * SR)
        env[start:] += np.exp(-(t[: len(t) - start]) / (0.004 if k < 3 else tail))
    y = _band(rng.standard_normal(len(t)), 900, 2500) * env
    return y / (np.max(np.abs(y)) or 1)


def tom(rng: np.random.Generator, pitch: float, decay: float) -> np.ndarray:
    t = _t(decay * 6)
    freq = pitch * (1 + 0.5 * np.exp(-t / 0.02))
    y = np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t / decay)
    y += 0.1 * _band(rng.standard_normal(len(t)), 200, 3000) * np.exp(-t / 0.01)
    return y


def _recipes() -> list[tuple[str, str, Callable[[np.random.Generator], np.ndarray]]]:
    r: list[tuple[str, str, Callable[[np.random.Generator], np.ndarray]]] = []
    for i, (hi, lo, dec, drv) in enumerate([(260, 50, 0.09, 1.5), (300, 45, 0.14, 1.2),
                                            (220, 42, 0.13, 1.3), (350, 55, 0.06, 3.0),
                                            (240, 48, 0.11, 2.0), (200, 40, 0.16, 1.2)]):
        r.append(("Kicks", f"Demo Kick {i + 1:02d}", partial(kick, f_hi=hi, f_lo=lo, decay=dec, drive=drv)))
    for i, (tone, snap, dec) in enumerate([(190, 0.8, 0.12), (220, 1.0, 0.08), (170, 0.6, 0.2),
                                           (240, 1.2, 0.06), (200, 0.9, 0.15), (160, 0.7, 0.25)]):
        r.append(("Snares", f"Demo Snare {i + 1:02d}", partial(snare, tone=tone, snap=snap, decay=dec)))
    for i, (dec, br) in enumerate([(0.015, 1.0), (0.012, 1.2), (0.025, 0.8), (0.02, 1.1),
                                   (0.18, 1.0), (0.25, 0.9)]):
        kind = "Open Hat" if dec > 0.1 else "Closed Hat"
        r.append(("Hats", f"Demo {kind} {i + 1:02d}", partial(hat, decay=dec, brightness=br)))
    for i, (spread, tail) in enumerate([(0.010, 0.05), (0.012, 0.07), (0.008, 0.04),
                                        (0.014, 0.08), (0.011, 0.06)]):
        r.append(("Claps", f"Demo Clap {i + 1:02d}", partial(clap, spread=spread, tail=tail)))
    for i, (pitch, dec) in enumerate([(90, 0.3), (120, 0.25), (150, 0.22), (190, 0.18),
                                      (240, 0.15), (75, 0.4)]):
        r.append(("Toms", f"Demo Tom {i + 1:02d}", partial(tom, pitch=pitch, decay=dec)))
    return r


def _trim(y: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Cut the silent tail (below -60 dB of the peak), keeping 10 ms after the last sound."""
    loud = np.flatnonzero(np.abs(y) > floor * (np.max(np.abs(y)) or 1.0))
    end = int(loud[-1]) + int(0.01 * SR) if len(loud) else len(y)
    return y[: min(len(y), end)]


def make_demo_kit(data_dir: str | Path) -> Path:
    """Write the kit under data_dir/demo-kit (again, if it exists) and return that folder."""
    root = Path(data_dir) / FOLDER_NAME
    for i, (group, name, make) in enumerate(_recipes()):
        rng = np.random.default_rng(1000 + i)
        y = make(rng)
        y = _trim(0.89 * y / (np.max(np.abs(y)) or 1.0))
        fade = min(len(y), int(0.005 * SR))
        y[-fade:] *= np.linspace(1, 0, fade)
        (root / group).mkdir(parents=True, exist_ok=True)
        sf.write(root / group / f"{name}.wav", y.astype(np.float32), SR, subtype="PCM_16")
    return root
