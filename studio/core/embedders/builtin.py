"""The built-in embedder: DSP features tuned for drum one-shots, no weights to download.

A clip is aligned to its onset and peak-normalised (so gain and leading silence do not
matter), then described by:

- a log-mel spectrogram (48 bands, 512-point frames, hop 256) pooled over 8 time segments
  of doubling length (the attack in fine steps, the decay in coarse ones), in dB below the
  clip's loudest band and floored at -40 dB so that added noise and cut tails move it little;
- the level and the spectral flatness (tonal vs noisy) of each segment;
- the attack envelope in 2.9 ms blocks over the first 70 ms;
- a fine 0-400 Hz spectrum of the first 93 ms (the pitch of kicks and toms);
- the drum classifier's measured features of the MAX_SECONDS it hears (studio.core.drums.features:
  band levels per attack/body/tail segment, decay times, pitch, and a log-spaced
  time-frequency patch out to 3.9 s), scaled by DRUM_WEIGHT. The spectrogram above stops at
  1.5 s; the patch hears the multi-second wash that tells a crash from an open hat. Added in
  builtin-v3: leave-one-kit-out same-class p@10 went from 0.843 to 0.85+ (bench/quality.py).

The embedder hears MAX_SECONDS from where the sound starts (`heard`: the first sample at
ONSET_FRACTION of the peak, found in the first DECODE_SECONDS) and nothing after, so a file's
vector, its vector made again by upkeep, and the vector of the same file dropped as a query
agree; a hit after 4 s of silence is heard, not the silence (review 13).

A learned linear map (resources/builtin/builtin_v3.npz, made by train_builtin.py next to it)
turns these raw features into two unit blocks joined with a weight: an LDA block that
separates drum classes and a block that keeps sounds apart while staying still under
re-gain, pitch, filtering, noise, trimming and lossy encoding. The result is L2-normalised,
so cosine similarity is a dot product. Runtime needs numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from studio.core.drums.features import feature_vector, measure
from studio.core.embedders.base import Embedder, EmbedderUnavailable, l2_normalize
from studio.core.resources import resource

SAMPLE_RATE = 22050
MAX_SECONDS = 4.0  # what the embedder hears of a sound (drums.ANALYSIS_SECONDS)
DECODE_SECONDS = 60.0  # a sound may start this far in (analysis.MAX_ANALYSED_SECONDS)
SPEC_SECONDS = 1.5  # of which the log-mel part reads this much from the onset
EMBEDDER_ID = "builtin-v3"
DRUM_WEIGHT = 10.0  # scale of the drum features against the dB-valued spectral ones

N_FFT = 512
HOP = 256
N_MELS = 48
FLOOR_DB = 40.0
# Segment edges in frames: 0,1,2,4,...,128 (128 frames of hop 256 = 1.49 s).
SEG_EDGES = (0, 1, 2, 4, 8, 16, 32, 64, 128)
N_FRAMES = SEG_EDGES[-1]
ONSET_FRACTION = 0.05  # onset: first sample at 5% of the peak ...
PRE_ONSET = 64  # ... minus this many samples, so the attack is not cut
ENV_BLOCK = 64
ENV_BLOCKS = 24
LOW_FFT = 2048
LOW_BINS = 37  # bins 1..37 of a 2048-point FFT: 10.8-400 Hz

PARAMS_PATH = resource("builtin", "builtin_v3.npz")


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + f / 700.0)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10 ** (m / 2595.0) - 1.0)


@lru_cache(maxsize=4)
def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Triangular mel filters, 30 Hz to Nyquist, each summing to 1; (n_mels, n_fft//2+1)."""
    freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    hz = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array(30.0)), _hz_to_mel(np.array(sr / 2)), n_mels + 2)
    )
    fb = np.zeros((n_mels, len(freqs)), dtype=np.float32)
    for i in range(n_mels):
        lo, c, hi = hz[i], hz[i + 1], hz[i + 2]
        up = (freqs - lo) / max(c - lo, 1e-9)
        down = (hi - freqs) / max(hi - c, 1e-9)
        fb[i] = np.maximum(0, np.minimum(up, down))
    fb /= np.maximum(fb.sum(axis=1, keepdims=True), 1e-9)
    return fb


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    win = np.hanning(N_FFT).astype(np.float32)
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(N_FRAMES)[:, None]
    seg_len = np.diff(np.array(SEG_EDGES)).astype(np.float32)[:, None]
    low_win = np.hanning(LOW_FFT).astype(np.float32)
    return win, idx, seg_len, low_win


def _db(x: np.ndarray, ref: float) -> np.ndarray:
    """dB below `ref` (a power), floored at -FLOOR_DB and shifted to be >= 0."""
    d = 10.0 * np.log10(np.maximum(x, 1e-20)) - 10.0 * np.log10(max(ref, 1e-20))
    return np.maximum(d, -FLOOR_DB) + FLOOR_DB


def sound_start(y: np.ndarray) -> int:
    """Where the sound in finite mono `y` starts: PRE_ONSET samples before the first sample
    at ONSET_FRACTION of its peak (0 for silence)."""
    if not y.size:
        return 0
    a = np.abs(y)
    peak = float(a.max())
    return _onset(a, peak) if peak > 0 else 0


def _onset(a: np.ndarray, peak: float) -> int:
    """sound_start from the magnitudes `a` and their peak (> 0)."""
    return max(0, int(np.argmax(a >= ONSET_FRACTION * peak)) - PRE_ONSET)


def heard(y: np.ndarray) -> np.ndarray:
    """What the embedder hears of mono audio `y` at SAMPLE_RATE: finite samples, MAX_SECONDS
    from sound_start. The category model hears the same (drums.analyze)."""
    y = np.asarray(y, dtype=np.float32).ravel()
    if y.size and not np.isfinite(y).all():
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    start = sound_start(y)
    return y[start : start + int(MAX_SECONDS * SAMPLE_RATE)]


def raw_features(y: np.ndarray, measured: dict | None = None) -> np.ndarray:
    """Mono float32 at SAMPLE_RATE -> the unprojected feature vector (float32, RAW_DIM).

    Only what `heard` keeps counts. `measured` is drums.features.measure() of exactly
    those samples when the caller has it (the indexer's analysis measured them already)."""
    y = heard(y)
    drum = DRUM_WEIGHT * feature_vector(
        measure(y, SAMPLE_RATE) if measured is None else measured, y.size / SAMPLE_RATE
    )
    win, idx, seg_len, low_win = _tables()
    n_total = (N_FRAMES - 1) * HOP + N_FFT
    buf = np.zeros(n_total, dtype=np.float32)
    used = 0
    if y.size:
        a = np.abs(y)
        peak = float(a.max())
        if peak > 0:
            onset = _onset(a, peak)
            seg = y[onset : onset + min(n_total, int(SPEC_SECONDS * SAMPLE_RATE))]
            buf[: seg.size] = seg / peak
            used = seg.size
    # Only frames that touch the clip are transformed; the rest are silence.
    n_used = min(N_FRAMES, max(1, -(-used // HOP)))
    spec = np.zeros((N_FRAMES, N_FFT // 2 + 1), dtype=np.float64)
    spec[:n_used] = np.abs(np.fft.rfft(buf[idx[:n_used]] * win, axis=1)) ** 2
    # Mean power per time segment; frames past the clip's end are zeros, i.e. silence.
    starts = np.array(SEG_EDGES[:-1])
    seg_spec = np.add.reduceat(spec, starts, axis=0) / seg_len
    seg_mel = seg_spec @ mel_filterbank().T
    ref = float(seg_mel.max()) if seg_mel.size else 0.0
    mel_db = _db(seg_mel, ref)
    level_db = _db(seg_mel.sum(axis=1), ref)
    # Spectral flatness per segment (log geometric / arithmetic mean), noisy -> 0, tonal -> < 0.
    s = seg_spec[:, 2:] + 1e-10 * (float(seg_spec.max()) + 1e-20)
    flat = np.where(seg_spec.max(axis=1) > 0, np.log(s).mean(axis=1) - np.log(s.mean(axis=1)), 0.0)
    env = (buf[: ENV_BLOCK * ENV_BLOCKS].reshape(ENV_BLOCKS, ENV_BLOCK) ** 2).mean(axis=1)
    env_db = _db(env, float(env.max()))
    low = np.abs(np.fft.rfft(buf[:LOW_FFT] * low_win)) ** 2
    low_db = _db(low[1 : LOW_BINS + 1], float(low.max()))
    out = np.concatenate([mel_db.ravel(), level_db, 3.0 * flat, env_db, low_db, drum])
    return out.astype(np.float32)


RAW_DIM = int(raw_features(np.zeros(1, dtype=np.float32)).shape[0])


@lru_cache(maxsize=1)
def load_params(path: Path = PARAMS_PATH) -> dict[str, np.ndarray]:
    """The learned projection: mean, class block, identity block and the block weight."""
    try:
        with np.load(path, allow_pickle=False) as z:
            p = {
                k: np.asarray(z[k], dtype=np.float32)
                for k in ("mean", "w_class", "w_ident", "alpha")
            }
    except (OSError, KeyError, ValueError) as e:
        raise EmbedderUnavailable(
            f"built-in embedder parameters unreadable ({path}): {e}; reinstall Studio or run "
            "resources/builtin/train_builtin.py"
        ) from None
    if p["mean"].shape != (RAW_DIM,) or p["w_class"].shape[0] != RAW_DIM:
        raise EmbedderUnavailable(
            f"built-in embedder parameters in {path} do not match this version; reinstall Studio"
        )
    return p


def project(raw: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """(n, RAW_DIM) raw features -> (n, dim) L2-normalised embeddings."""
    z = np.atleast_2d(raw).astype(np.float32) - params["mean"]
    alpha = float(params["alpha"])
    c = l2_normalize(z @ params["w_class"])
    d = l2_normalize(z @ params["w_ident"])
    return l2_normalize(np.hstack([alpha * c, (1.0 - alpha) * d]))


def features(y: np.ndarray, measured: dict | None = None) -> np.ndarray:
    """Mono float32 at SAMPLE_RATE -> unit vector of built-in features (`measured`: see
    raw_features)."""
    return project(raw_features(y, measured), load_params())[0]


class BuiltinEmbedder(Embedder):
    id = EMBEDDER_ID
    name = "default"
    sample_rate = SAMPLE_RATE
    max_seconds = DECODE_SECONDS  # decoded for a query: heard() finds the sound in it
    batch_size = 64

    def __init__(self) -> None:
        p = load_params()
        self.dim = int(p["w_class"].shape[1] + p["w_ident"].shape[1])

    def embed_audio(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        if len(clips) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        raw = np.stack([raw_features(c) for c in clips])
        return project(raw, load_params())
