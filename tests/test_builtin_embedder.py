"""The built-in embedder on synthesised drums: shape, invariances, robustness, neighbours."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from studio.core.audio import decode
from studio.core.embedders import builtin
from studio.core.embedders.builtin import SAMPLE_RATE, BuiltinEmbedder, features

SR = SAMPLE_RATE
KITS = Path("/usr/share/hydrogen/data/drumkits")
MAKE_CORPUS = (
    Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "make_dev_corpus.py"
)


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SR)) / SR


def kick(f0: float = 55.0, decay: float = 0.25, seed: int = 0) -> np.ndarray:
    t = _t(0.6)
    f = f0 + 120.0 * np.exp(-t / 0.03)  # pitch sweep down
    phase = 2 * np.pi * np.cumsum(f) / SR
    click = np.random.default_rng(seed).standard_normal(len(t)) * np.exp(-t / 0.003) * 0.2
    return (np.sin(phase) * np.exp(-t / decay) + click).astype(np.float32)


def snare(tone: float = 190.0, seed: int = 0) -> np.ndarray:
    t = _t(0.4)
    noise = np.random.default_rng(seed).standard_normal(len(t)) * np.exp(-t / 0.08)
    body = np.sin(2 * np.pi * tone * t) * np.exp(-t / 0.05)
    return (0.6 * noise + 0.5 * body).astype(np.float32)


def hat(decay: float = 0.04, seed: int = 0) -> np.ndarray:
    t = _t(0.3)
    n = np.random.default_rng(seed).standard_normal(len(t))
    n = np.diff(np.diff(n, prepend=0), prepend=0)  # tilt towards the highs
    return (n * np.exp(-t / decay) * 0.3).astype(np.float32)


def test_shape_norm_dtype_and_determinism() -> None:
    emb = BuiltinEmbedder()
    clips = [kick(), snare(), hat()]
    out = emb.embed_audio(clips)
    assert out.shape == (3, emb.dim) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(out, emb.embed_audio(clips))
    assert np.allclose(out[0], features(clips[0]), atol=1e-6)
    assert emb.embed_audio([]).shape == (0, emb.dim)
    assert emb.id == builtin.EMBEDDER_ID and emb.sample_rate == SR


def test_loudness_independent() -> None:
    for clip in (kick(), snare(), hat()):
        quiet = clip * 10 ** (-20 / 20)
        assert float(features(clip) @ features(quiet)) > 0.999


def test_leading_silence_does_not_matter() -> None:
    # A clip with a short lead-in (as most files have) vs the same with 50 ms more silence.
    clip = np.concatenate([np.zeros(int(0.005 * SR), np.float32), snare()])
    padded = np.concatenate([np.zeros(int(0.05 * SR), np.float32), clip])
    assert float(features(clip) @ features(padded)) > 0.99


def test_kick_nearest_neighbour_is_a_kick() -> None:
    library = {
        "kick": [kick(50, 0.3, 1), kick(62, 0.2, 2), kick(45, 0.35, 3)],
        "snare": [snare(180, 1), snare(220, 2), snare(200, 3)],
        "hat": [hat(0.03, 1), hat(0.06, 2), hat(0.02, 3)],
    }
    labels = [k for k, v in library.items() for _ in v]
    lib = BuiltinEmbedder().embed_audio([c for v in library.values() for c in v])
    query = features(kick(57, 0.25, 9))
    assert labels[int(np.argmax(lib @ query))] == "kick"
    # and every snare's nearest other clip is a snare, every hat's a hat
    sims = lib @ lib.T
    np.fill_diagonal(sims, -np.inf)
    for i, lab in enumerate(labels):
        assert labels[int(np.argmax(sims[i]))] == lab


@pytest.mark.parametrize("n", [0, 1, 10, 600])
def test_silence_and_tiny_clips(n: int) -> None:
    for clip in (np.zeros(n, np.float32), np.full(n, 0.5, np.float32), kick()[:n]):
        v = features(clip)
        assert v.shape == (BuiltinEmbedder().dim,) and np.all(np.isfinite(v))


def test_nan_and_inf_input() -> None:
    clip = snare()
    bad = clip.copy()
    bad[100:110] = np.nan
    bad[200] = np.inf
    bad[300] = -np.inf
    v = features(bad)
    assert np.all(np.isfinite(v)) and abs(float(np.linalg.norm(v)) - 1) < 1e-5
    assert np.all(np.isfinite(features(np.full(1000, np.nan, np.float32))))


def test_long_clip_and_float64_input() -> None:
    long = np.tile(snare(), 20).astype(np.float64)  # 8 s, float64
    assert np.all(np.isfinite(features(long)))


@pytest.mark.corpus
def test_dev_corpus_precision_well_above_chance(tmp_path: Path) -> None:
    if not KITS.is_dir():
        pytest.skip(f"{KITS} missing: apt-get install -y hydrogen-drumkits hydrogen-data")
    if not MAKE_CORPUS.exists():
        pytest.skip(f"{MAKE_CORPUS} missing")
    subprocess.run([sys.executable, str(MAKE_CORPUS), str(tmp_path), "--anonymize"], check=True)
    rows = list(csv.DictReader(open(tmp_path / "manifest.csv", newline="")))
    rows = rows[::3]  # ~210 files keeps this quick
    emb = BuiltinEmbedder()
    clips = [
        decode(tmp_path / r["path"], sr=SR, max_seconds=builtin.MAX_SECONDS).samples for r in rows
    ]
    x = emb.embed_audio(clips)
    cls = np.array([r["cls"] for r in rows])
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    nn = np.argsort(-sims, axis=1)[:, :10]
    precision = float((cls[nn] == cls[:, None]).mean())
    chance = float(sum((cls == c).mean() ** 2 for c in set(cls)))
    assert precision > max(0.6, 3 * chance), (precision, chance)


def test_a_sound_after_seconds_of_silence_is_heard_not_the_silence() -> None:
    """Review 13: v3 heard only the first 4 s from the file's start, so every hit after 4 s
    of silence got the vector of silence: all such files matched each other at 1.0."""
    from studio.core import drums

    gap = np.zeros(5 * SR, np.float32)
    k, c = kick(), hat(decay=0.3)
    late_k, late_c = np.concatenate([gap, k]), np.concatenate([gap, c])
    assert float(features(late_k) @ features(k)) > 0.97  # 64 samples of lead-in differ
    assert float(features(late_c) @ features(c)) > 0.97
    assert float(features(late_k) @ features(late_c)) < 0.9
    a = drums.analyze(late_k, SR)
    assert a["category"] == drums.analyze(k, SR)["category"] != "other"
