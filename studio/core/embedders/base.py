"""The interface every embedder implements.

An embedder has a stable `id` (stored with every vector and in each index's sidecar, so a
vector made by one version is never compared with another's), a short user-facing `name`
("default", "mert", "clap"), a dimension and the sample rate it wants its clips at.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class EmbedderUnavailable(Exception):
    """The embedder cannot run (weights missing, corrupt...); `reason` says what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Embedder(ABC):
    id: str  # stable, versioned: changing the maths means a new id
    name: str  # what the user types: default, mert, clap
    dim: int
    sample_rate: int
    # Seconds of each clip the embedder looks at; longer clips are cut by the caller.
    max_seconds: float = 10.0
    supports_text: bool = False
    # Clips per call the caller should aim for.
    batch_size: int = 16

    @abstractmethod
    def embed_audio(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        """Mono float32 clips at `sample_rate` -> (len(clips), dim) float32, L2-normalised."""

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> (len(texts), dim) float32, L2-normalised, in the audio space."""
        raise NotImplementedError(f"{self.name} cannot embed text")


def l2_normalize(x: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(n, eps)).astype(np.float32)
