"""The category model: standardised features -> softmax (a small tanh MLP or linear).

Its parameters live in resources/drums/classifier.npz, written by
resources/drums/train_classifier.py; loading uses `allow_pickle=False`. Training code (plain
numpy gradient descent) sits here too so the bench can score it leave-one-kit-out.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_PATH = Path(__file__).resolve().parents[3] / "resources" / "drums" / "classifier.npz"


@dataclass(frozen=True)
class Model:
    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: tuple[np.ndarray, ...]  # (W, b) linear or (W1, b1, W2, b2) MLP

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Feature rows (n, d) or one row (d,) -> class probabilities."""
        z = (np.atleast_2d(x).astype(np.float64) - self.mean) / self.scale
        z = np.nan_to_num(np.clip(z, -8.0, 8.0))
        w = self.weights
        logits = (np.tanh(z @ w[0] + w[1]) @ w[2] + w[3]) if len(w) == 4 else z @ w[0] + w[1]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        return p if np.ndim(x) == 2 else p[0]

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {f"w{i}": w for i, w in enumerate(self.weights)}
        arrays.update(classes=np.array(self.classes), mean=self.mean, scale=self.scale)
        np.savez(path, **arrays)


def load(path: Path = MODEL_PATH) -> Model:
    with np.load(path, allow_pickle=False) as f:
        n = sum(1 for k in f.files if k.startswith("w"))
        return Model(
            classes=tuple(str(c) for c in f["classes"]),
            mean=f["mean"],
            scale=f["scale"],
            weights=tuple(f[f"w{i}"] for i in range(n)),
        )


@lru_cache(maxsize=1)
def default_model() -> Model | None:
    try:
        return load()
    except (OSError, KeyError, ValueError):
        return None


def fit(
    x: np.ndarray,
    labels: list[str],
    classes: tuple[str, ...],
    *,
    hidden: int = 0,
    l2: float = 1e-2,
    iters: int = 400,
    lr: float = 0.05,
    sample_weight: np.ndarray | None = None,
    seed: int = 0,
) -> Model:
    """Class-balanced softmax regression (or one tanh layer) by full-batch Adam; deterministic."""
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = np.clip((x - mean) / scale, -8.0, 8.0)
    ci = {c: i for i, c in enumerate(classes)}
    y = np.array([ci[c] for c in labels])
    n, d = z.shape
    k = len(classes)
    counts = np.bincount(y, minlength=k)
    sw = (n / (k * np.maximum(counts, 1)))[y]
    if sample_weight is not None:
        sw = sw * sample_weight
    sw = sw / sw.mean() / n
    target = np.eye(k)[y]
    rng = np.random.default_rng(seed)
    if hidden:
        params = [
            rng.normal(0, 1 / np.sqrt(d), (d, hidden)),
            np.zeros(hidden),
            rng.normal(0, 1 / np.sqrt(hidden), (hidden, k)),
            np.zeros(k),
        ]
    else:
        params = [np.zeros((d, k)), np.zeros(k)]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    for it in range(1, iters + 1):
        if hidden:
            h = np.tanh(z @ params[0] + params[1])
            logits = h @ params[2] + params[3]
        else:
            logits = z @ params[0] + params[1]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - target) * sw[:, None]
        if hidden:
            gh = (g @ params[2].T) * (1 - h**2)
            grads = [z.T @ gh + l2 * params[0], gh.sum(0), h.T @ g + l2 * params[2], g.sum(0)]
        else:
            grads = [z.T @ g + l2 * params[0], g.sum(0)]
        for j, (prm, gr) in enumerate(zip(params, grads, strict=True)):
            m1[j] = 0.9 * m1[j] + 0.1 * gr
            m2[j] = 0.999 * m2[j] + 0.001 * gr * gr
            prm -= lr * (m1[j] / (1 - 0.9**it)) / (np.sqrt(m2[j] / (1 - 0.999**it)) + 1e-8)
    return Model(classes, mean, scale, tuple(params))
