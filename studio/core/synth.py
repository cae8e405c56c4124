"""Drum sounds Studio synthesises itself: the demo kit, and real audio for the tests.

Each voice is a few lines of classic drum-machine synthesis (pitched sine with a falling
pitch for kicks and toms, tone + filtered noise for snares, band-passed noise for hats and
claps) with per-variant jitter, so a kit has kicks that sound like kicks but not like each
other.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

SR = 44100
VOICES = ("kick", "snare", "hihat_closed", "hihat_open", "clap", "tom")


def _env(n: int, decay_s: float, sr: int = SR, attack_s: float = 0.001) -> np.ndarray:
    t = np.arange(n) / sr
    env = np.exp(-t / max(decay_s, 1e-4))
    a = max(1, int(attack_s * sr))
    env[:a] *= np.linspace(0.0, 1.0, a)
    return env


def _noise(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def _bandpass_fft(x: np.ndarray, lo: float, hi: float, sr: int = SR) -> np.ndarray:
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / sr)
    spec[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spec, n=len(x))


def voice(kind: str, variant: int = 0, sr: int = SR) -> np.ndarray:
    """One hit of `kind`; `variant` changes pitch, decay and colour deterministically."""
    rng = np.random.default_rng(zlib.crc32(f"{kind}/{variant}".encode()))
    j = lambda lo, hi: float(rng.uniform(lo, hi))  # noqa: E731
    if kind == "kick":
        n = int(j(0.35, 0.7) * sr)
        t = np.arange(n) / sr
        f0, f1 = j(110, 180), j(42, 60)
        freq = f1 + (f0 - f1) * np.exp(-t / j(0.03, 0.06))
        y = np.sin(2 * np.pi * np.cumsum(freq) / sr) * _env(n, j(0.15, 0.35), sr)
        y += 0.3 * _noise(n, rng) * _env(n, 0.004, sr)
    elif kind == "tom":
        n = int(j(0.4, 0.8) * sr)
        t = np.arange(n) / sr
        f = j(90, 240)
        freq = f * (1 + 0.3 * np.exp(-t / 0.05))
        y = np.sin(2 * np.pi * np.cumsum(freq) / sr) * _env(n, j(0.15, 0.3), sr)
        y += 0.1 * _noise(n, rng) * _env(n, 0.01, sr)
    elif kind == "snare":
        n = int(j(0.25, 0.45) * sr)
        t = np.arange(n) / sr
        tone = np.sin(2 * np.pi * j(170, 240) * t) * _env(n, 0.05, sr)
        noise = _bandpass_fft(_noise(n, rng), j(1500, 2500), 9000, sr) * _env(n, j(0.08, 0.16), sr)
        y = 0.6 * tone + 1.2 * noise / (np.abs(noise).max() + 1e-9)
    elif kind in ("hihat_closed", "hihat_open"):
        n = int((j(0.06, 0.12) if kind == "hihat_closed" else j(0.5, 0.9)) * sr)
        decay = j(0.015, 0.03) if kind == "hihat_closed" else j(0.18, 0.35)
        metal = sum(
            np.sign(np.sin(2 * np.pi * f * np.arange(n) / sr))
            for f in (205.3, 304.4, 369.6, 522.7, 540, 800) * np.array(j(0.95, 1.1))
        )
        y = _bandpass_fft(0.5 * metal + _noise(n, rng), j(6000, 8000), 16000, sr)
        y = y * _env(n, decay, sr)
    elif kind == "clap":
        n = int(j(0.25, 0.4) * sr)
        env = np.zeros(n)
        for k, off in enumerate((0.0, 0.011, 0.022, 0.031)):
            s = int(off * sr)
            env[s:] += _env(n - s, 0.008 if k < 3 else j(0.06, 0.12), sr)
        y = _bandpass_fft(_noise(n, rng), 900, j(2500, 3500), sr) * env
    else:
        raise ValueError(f"unknown voice {kind!r}; choose from {', '.join(VOICES)}")
    y = y / (np.max(np.abs(y)) + 1e-9) * j(0.5, 0.9)
    return y.astype(np.float32)


def write_kit(
    folder: str | Path, per_voice: int = 5, sr: int = SR, voices: tuple[str, ...] = VOICES
) -> list[Path]:
    """Write `per_voice` WAVs of each voice into `folder`; returns their paths."""
    import soundfile as sf

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    names = {"hihat_closed": "Closed Hat", "hihat_open": "Open Hat"}
    paths = []
    for kind in voices:
        for v in range(per_voice):
            p = out / f"{names.get(kind, kind.title())} {v + 1:02d}.wav"
            sf.write(p, voice(kind, v, sr), sr, subtype="PCM_16")
            paths.append(p)
    return paths
