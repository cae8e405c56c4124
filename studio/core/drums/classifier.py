"""The category model: standardised features -> softmax (a small tanh MLP or linear), averaged
with a k-nearest-neighbour vote in a (shrunk) LDA projection of the same features.

The two halves err differently (the linear model on broad spectral shape, the neighbours on
closeness to particular training sounds), and the average is better calibrated than either:
fewer confident mistakes at the top of a text ranking.

A third, optional vote comes from the sound's built-in embedding (the vector it is indexed
with, studio.core.embedders.builtin): its `emb_k` nearest training sounds by cosine, each
weighted exp(EMB_TEMP x cosine), added with weight `emb_weight` and renormalised. The
embedding sees the log-mel shape that the hand-made features summarise, and adds about two
points of leave-one-kit-out accuracy (bench/categories.py). It is used only with vectors of
the embedder it was built with (`emb_id`). Its parameters live in resources/drums/classifier.npz, written by
resources/drums/train_classifier.py; loading uses `allow_pickle=False`. Training code (plain
numpy gradient descent) sits here too so the bench can score it leave-one-kit-out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.resources import resource

MODEL_PATH = resource("drums", "classifier.npz")
EMB_TEMP = 10.0  # sharpness of the embedding vote's cosine weights


@dataclass(frozen=True)
class Model:
    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: tuple[np.ndarray, ...]  # (W, b) linear or (W1, b1, W2, b2) MLP
    # Neighbour half (absent: softmax only): projection (d, r) of standardised features,
    # projected training rows (n, r) with their class indices, and the vote's share.
    proj: np.ndarray | None = None
    refs: np.ndarray | None = None
    ref_labels: np.ndarray | None = None
    k: int = 9
    knn_share: float = 0.5
    # Embedding half (absent: not used): unit built-in embeddings of the training sounds,
    # their class indices, the embedder id they came from, k and the vote's weight.
    emb_refs: np.ndarray | None = None
    emb_labels: np.ndarray | None = None
    emb_id: str = ""
    emb_k: int = 9
    emb_weight: float = 0.25

    def __post_init__(self) -> None:
        # Neighbour search in float32 with the rows' squared norms computed once.
        if self.refs is not None:
            refs = np.ascontiguousarray(self.refs, dtype=np.float32)
            object.__setattr__(self, "_refs32", refs)
            object.__setattr__(self, "_ref_sq", np.einsum("ij,ij->i", refs, refs))

    def with_embeddings(
        self, refs: np.ndarray, labels: list[str], emb_id: str, k: int = 9, weight: float = 0.25
    ) -> Model:
        """This model plus the embedding vote over `refs` (unit vectors) of class `labels`."""
        ci = {c: i for i, c in enumerate(self.classes)}
        return replace(
            self,
            emb_refs=np.ascontiguousarray(refs, dtype=np.float32),
            emb_labels=np.array([ci[c] for c in labels], dtype=np.int64),
            emb_id=emb_id,
            emb_k=k,
            emb_weight=weight,
        )

    def uses_embedding(self, emb_id: str) -> bool:
        return self.emb_refs is not None and self.emb_id == emb_id

    def predict(self, x: np.ndarray, emb: np.ndarray | None = None) -> np.ndarray:
        """Feature rows (n, d) or one row (d,) -> class probabilities; `emb`, the rows'
        built-in embeddings (n, D) or (D,), adds the embedding vote when the model has one."""
        z = (np.atleast_2d(x).astype(np.float64) - self.mean) / self.scale
        z = np.nan_to_num(np.clip(z, -8.0, 8.0))
        w = self.weights
        logits = (np.tanh(z @ w[0] + w[1]) @ w[2] + w[3]) if len(w) == 4 else z @ w[0] + w[1]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        if self.proj is not None and self.refs is not None and self.ref_labels is not None:
            p = (1.0 - self.knn_share) * p + self.knn_share * self._vote(z @ self.proj)
        if emb is not None and self.emb_refs is not None and self.emb_labels is not None:
            e = np.atleast_2d(np.asarray(emb, dtype=np.float32))
            if e.shape == (p.shape[0], self.emb_refs.shape[1]):
                p = (p + self.emb_weight * self._emb_vote(e)) / (1.0 + self.emb_weight)
        return p if np.ndim(x) == 2 else p[0]

    def _emb_vote(self, e: np.ndarray) -> np.ndarray:
        """Cosine-weighted vote of the emb_k most similar training sounds, per row."""
        assert self.emb_refs is not None and self.emb_labels is not None
        sim = e @ self.emb_refs.T
        k = min(self.emb_k, sim.shape[1])
        near = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        wt = np.exp(EMB_TEMP * (np.take_along_axis(sim, near, 1) - 1.0)).astype(np.float64)
        n, c = e.shape[0], len(self.classes)
        cell = (np.arange(n)[:, None] * c + self.emb_labels[near]).ravel()
        votes = np.bincount(cell, weights=wt.ravel(), minlength=n * c).reshape(n, c)
        return votes / np.maximum(votes.sum(axis=1, keepdims=True), 1e-300)

    def _vote(self, q: np.ndarray) -> np.ndarray:
        """Inverse-distance weighted vote of the k nearest training rows, per query row."""
        assert self.ref_labels is not None
        refs: np.ndarray = self._refs32  # type: ignore[attr-defined]
        q = q.astype(np.float32)
        d2 = (q * q).sum(1)[:, None] - 2.0 * (q @ refs.T) + self._ref_sq[None]  # type: ignore[attr-defined]
        k = min(self.k, refs.shape[0])
        near = np.argpartition(d2, k - 1, axis=1)[:, :k]
        wt = 1.0 / (np.sqrt(np.maximum(np.take_along_axis(d2, near, 1), 0.0)) + 1e-6)
        n, c = q.shape[0], len(self.classes)
        cell = (np.arange(n)[:, None] * c + self.ref_labels[near]).ravel()
        votes = np.bincount(cell, weights=wt.ravel(), minlength=n * c).reshape(n, c)
        return votes / votes.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {f"w{i}": w for i, w in enumerate(self.weights)}
        arrays.update(classes=np.array(self.classes), mean=self.mean, scale=self.scale)
        if self.proj is not None and self.refs is not None and self.ref_labels is not None:
            arrays.update(
                proj=self.proj.astype(np.float32),
                refs=self.refs.astype(np.float32),
                ref_labels=self.ref_labels.astype(np.int16),
                knn=np.array([self.k, self.knn_share]),
            )
        if self.emb_refs is not None and self.emb_labels is not None:
            arrays.update(
                emb_refs=self.emb_refs.astype(np.float32),
                emb_labels=self.emb_labels.astype(np.int16),
                emb_id=np.array(self.emb_id),
                emb_vote=np.array([self.emb_k, self.emb_weight]),
            )
        np.savez(path, **arrays)


def load(path: Path = MODEL_PATH) -> Model:
    with np.load(path, allow_pickle=False) as f:
        n = sum(1 for k in f.files if k.startswith("w"))
        knn = "proj" in f.files
        emb = "emb_refs" in f.files
        return Model(
            classes=tuple(str(c) for c in f["classes"]),
            mean=f["mean"],
            scale=f["scale"],
            weights=tuple(f[f"w{i}"] for i in range(n)),
            proj=f["proj"].astype(np.float64) if knn else None,
            refs=f["refs"].astype(np.float64) if knn else None,
            ref_labels=f["ref_labels"].astype(np.int64) if knn else None,
            k=int(f["knn"][0]) if knn else 9,
            knn_share=float(f["knn"][1]) if knn else 0.5,
            emb_refs=f["emb_refs"].astype(np.float32) if emb else None,
            emb_labels=f["emb_labels"].astype(np.int64) if emb else None,
            emb_id=str(f["emb_id"]) if emb else "",
            emb_k=int(f["emb_vote"][0]) if emb else 9,
            emb_weight=float(f["emb_vote"][1]) if emb else 0.25,
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
    knn: int = 0,
    knn_share: float = 0.5,
    shrinkage: float = 0.5,
) -> Model:
    """Class-balanced softmax regression (or one tanh layer) by full-batch Adam; deterministic.

    `knn` > 0 adds the neighbour half: a shrunk LDA projection of the standardised features
    and the projected training rows (see `lda`)."""
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
    if not knn:
        return Model(classes, mean, scale, tuple(params))
    proj = lda(z, y, k, shrinkage)
    return Model(
        classes, mean, scale, tuple(params),
        proj=proj, refs=z @ proj, ref_labels=y, k=knn, knn_share=knn_share,
    )  # fmt: skip


def lda(z: np.ndarray, y: np.ndarray, n_classes: int, shrinkage: float) -> np.ndarray:
    """Fisher discriminant directions (d, r<=n_classes-1) of standardised rows `z`.

    Within-class covariance is shrunk towards a scaled identity; directions solve
    Sb v = l Sw v, scaled so that v' Sw v = 1, strongest first."""
    d = z.shape[1]
    present = [c for c in range(n_classes) if np.any(y == c)]
    priors = np.array([np.mean(y == c) for c in present])
    means = np.stack([z[y == c].mean(axis=0) for c in present])
    sw = np.zeros((d, d))
    for c, pr in zip(present, priors, strict=True):
        zc = z[y == c] - means[present.index(c)]
        sw += pr * (zc.T @ zc) / max(len(zc), 1)
    sw = (1.0 - shrinkage) * sw + shrinkage * np.trace(sw) / d * np.eye(d)
    mu = priors @ means
    sb = ((means - mu).T * priors) @ (means - mu)
    chol = np.linalg.cholesky(sw + 1e-9 * np.eye(d))
    li = np.linalg.inv(chol)
    vals, vecs = np.linalg.eigh(li @ sb @ li.T)
    r = max(len(present) - 1, 1)
    order = np.argsort(vals)[::-1][:r]
    return li.T @ vecs[:, order]
