"""Fit the built-in embedder's linear projection (builtin_v3.npz) on the Hydrogen dev corpus.

    python3 ../shared/corpus/make_dev_corpus.py /tmp/corpus_anon --anonymize
    .venv/bin/python resources/builtin/train_builtin.py --corpus /tmp/corpus_anon

Deterministic (fixed seeds). Two blocks are learned from the raw features of
`studio.core.embedders.builtin.raw_features`:

- class block: regularised LDA over the 14 drum classes (13 dims), on the corpus labels with
  the corpus script's tom-rule bug fixed (resources/drums/corpus_labels.py; builtin-v1 was
  fitted on the labels as they are, 11 ride cymbals called toms);
- identity block: the directions along which sounds differ most relative to how much a
  sound moves under augmentation (pitch, filters, noise, trims, Ogg + resampling) and
  within its class, i.e. a generalised eigenproblem St v = l (Saug + lam Sclass) v (64 dims).

The augmentations use other settings than bench/quality.py's near-duplicate transforms, and
bench/quality.py scores this fit leave-one-kit-out by calling `fit` below.
Training needs scipy (filters); the app does not.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from studio.core.audio import decode, resample  # noqa: E402
from studio.core.embedders import builtin  # noqa: E402

sys.path.insert(0, str(ROOT / "resources" / "drums"))
from corpus_labels import corrected_labels  # noqa: E402

OUT = Path(__file__).resolve().parent / "builtin_v3.npz"
ALPHA = 0.45  # weight of the class block against the identity block
N_CLASS = 13
N_IDENT = 64
REG_CLASS = 1.0
REG_IDENT = 0.1
LAM_CLASS = 1.0
AUG_KINDS = ("pitch", "lowpass", "highpass", "noise", "trim", "codec", "lowpass+noise")
READ_SECONDS = 10.0  # enough for builtin.heard() to find a sound that starts late


def augment(kind: str, y: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    import soundfile as sf
    import soxr
    from scipy.signal import butter, sosfilt

    if kind == "lowpass+noise":
        z, s = augment("lowpass", y, sr, rng)
        return augment("noise", z, s, rng)
    if kind == "pitch":
        st = rng.choice([-1, 1]) * rng.uniform(0.3, 1.6)
        return soxr.resample(y, sr * 2 ** (st / 12), sr), sr
    if kind == "lowpass":
        sos = butter(int(rng.choice([4, 6, 8])), rng.uniform(2500, 7000), fs=sr, output="sos")
        return sosfilt(sos, y), sr
    if kind == "highpass":
        sos = butter(2, rng.uniform(30, 200), btype="high", fs=sr, output="sos")
        return sosfilt(sos, y), sr
    if kind == "noise":
        snr = rng.uniform(22, 40)
        p = float(np.mean(y**2))
        return y + rng.standard_normal(len(y)) * np.sqrt(p / 10 ** (snr / 10)), sr
    if kind == "trim":
        a = int(rng.uniform(0, 0.012) * sr)
        b = max(a + 16, int(len(y) * rng.uniform(0.3, 1.0)))
        z = y[a:b].copy()
        f = min(len(z), int(0.01 * sr))
        z[len(z) - f :] *= np.linspace(1, 0, f)
        return z, sr
    if kind == "codec":
        buf = io.BytesIO()
        sf.write(buf, y, sr, format="OGG", subtype="VORBIS")
        buf.seek(0)
        z, _ = sf.read(buf, dtype="float32")
        s2 = int(rng.choice([16000, 24000, 32000]))
        return soxr.resample(z, sr, s2), s2
    raise ValueError(kind)


def load_corpus(corpus: Path) -> tuple[list[dict[str, str]], list[np.ndarray], list[int]]:
    """Manifest rows, native-rate clips and their sample rates."""
    rows = list(csv.DictReader(open(corpus / "manifest.csv", newline="")))
    clips, rates = [], []
    for r in rows:
        a = decode(corpus / r["path"], None, max_seconds=READ_SECONDS)
        clips.append(a.samples)
        rates.append(a.sr)
    return rows, clips, rates


def raw_set(
    clips: list[np.ndarray], rates: list[int], seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw features of the originals, of their augmentations, and each augmentation's source."""
    sr = builtin.SAMPLE_RATE
    xo, xa, src = [], [], []
    for i, (y, r) in enumerate(zip(clips, rates, strict=True)):
        rng = np.random.default_rng([seed, i])
        xo.append(builtin.raw_features(resample(y, r, sr)))
        for kind in AUG_KINDS:
            z, s = augment(kind, y, r, rng)
            xa.append(builtin.raw_features(resample(np.ascontiguousarray(z, np.float32), s, sr)))
            src.append(i)
    return np.stack(xo), np.stack(xa), np.array(src)


def _geig(a: np.ndarray, b: np.ndarray, reg: float) -> tuple[np.ndarray, np.ndarray]:
    """Solve a v = w (b + reg * mean-eig(b) I) v; eigenpairs by decreasing w."""
    d = len(a)
    b = b + reg * np.trace(b) / d * np.eye(d)
    li = np.linalg.inv(np.linalg.cholesky(b))
    w, v = np.linalg.eigh(li @ a @ li.T)
    order = np.argsort(-w)
    return w[order], li.T @ v[:, order]


def fit(xo: np.ndarray, cls: np.ndarray, xa: np.ndarray, src: np.ndarray) -> dict[str, np.ndarray]:
    """Fit the projection on originals `xo` (labels `cls`) and augmentations `xa` of xo[src]."""
    xo = xo.astype(np.float64)
    mu = xo.mean(axis=0)
    z = xo - mu
    classes = np.unique(cls)
    means = np.stack([z[cls == k].mean(axis=0) for k in classes])
    counts = np.array([np.sum(cls == k) for k in classes])
    s_within = sum(
        (z[cls == k] - m).T @ (z[cls == k] - m) for k, m in zip(classes, means, strict=True)
    ) / len(z)
    s_between = (means.T * counts) @ means / len(z)
    s_total = z.T @ z / len(z)
    dz = xa.astype(np.float64) - xo[src]
    s_aug = dz.T @ dz / len(dz)
    _, w_class = _geig(s_between, s_within, REG_CLASS)
    b = s_aug / np.trace(s_aug) + LAM_CLASS * s_within / np.trace(s_within)
    _, w_ident = _geig(s_total, b, REG_IDENT)
    return {
        "mean": mu.astype(np.float32),
        "w_class": w_class[:, :N_CLASS].astype(np.float32),
        "w_ident": w_ident[:, :N_IDENT].astype(np.float32),
        "alpha": np.array(ALPHA, dtype=np.float32),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/corpus_anon"))
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    if not (a.corpus / "manifest.csv").exists():
        sys.exit(
            f"{a.corpus}/manifest.csv not found; build it with: python3 "
            f"../shared/corpus/make_dev_corpus.py {a.corpus} --anonymize"
        )
    rows, clips, rates = load_corpus(a.corpus)
    xo, xa, src = raw_set(clips, rates)
    params = fit(xo, np.array(corrected_labels(rows)), xa, src)
    np.savez(a.out, **params)
    print(f"wrote {a.out}: {len(rows)} files, {len(xa)} augmentations, raw dim {xo.shape[1]}")


if __name__ == "__main__":
    main()
