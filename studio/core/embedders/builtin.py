"""The built-in embedder: DSP features tuned for drum one-shots, no weights to download.

PLACEHOLDER front end (log-mel time/frequency patch); being tuned in bench/quality.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from studio.core.embedders.base import Embedder, l2_normalize

SAMPLE_RATE = 22050
N_FFT = 1024
HOP = 256
N_MELS = 40
N_SEG = 8
MAX_SECONDS = 1.5
EMBEDDER_ID = "builtin-v0"


@lru_cache(maxsize=4)
def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mels = np.linspace(hz_to_mel(np.array(30.0)), hz_to_mel(np.array(sr / 2)), n_mels + 2)
    hz = mel_to_hz(mels)
    fb = np.zeros((n_mels, len(freqs)), dtype=np.float32)
    for i in range(n_mels):
        lo, c, hi = hz[i], hz[i + 1], hz[i + 2]
        up = (freqs - lo) / max(c - lo, 1e-9)
        down = (hi - freqs) / max(hi - c, 1e-9)
        fb[i] = np.maximum(0, np.minimum(up, down))
    return fb


def features(y: np.ndarray) -> np.ndarray:
    """Mono float32 at SAMPLE_RATE -> unit vector of built-in features."""
    n = int(MAX_SECONDS * SAMPLE_RATE)
    y = np.asarray(y, dtype=np.float32)[:n]
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0:
        y = y / peak
    if y.size < N_FFT:
        y = np.pad(y, (0, N_FFT - y.size))
    n_frames = 1 + (y.size - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    frames = y[idx] * np.hanning(N_FFT).astype(np.float32)
    spec = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    mel = spec @ mel_filterbank().T
    logmel = np.log10(mel + 1e-8)
    logmel = np.maximum(logmel, logmel.max() - 8.0)
    mean = logmel.mean(axis=0)
    std = logmel.std(axis=0)
    segs = np.array_split(logmel, N_SEG, axis=0) if n_frames >= N_SEG else [logmel] * N_SEG
    seg = np.concatenate([s.mean(axis=0) for s in segs])
    vec = np.concatenate([mean - mean.mean(), std, (seg - seg.mean()) * 0.5])
    return l2_normalize(vec)


class BuiltinEmbedder(Embedder):
    id = EMBEDDER_ID
    name = "default"
    sample_rate = SAMPLE_RATE
    max_seconds = MAX_SECONDS
    batch_size = 64

    def __init__(self) -> None:
        self.dim = int(features(np.zeros(SAMPLE_RATE // 10, dtype=np.float32)).shape[0])

    def embed_audio(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        if not clips:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([features(c) for c in clips])
