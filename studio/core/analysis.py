"""What the indexer does to one new file: decode once, cut into items, embed, analyse.

Runs in worker processes (see indexer.py), so it must be importable cheaply and return
plain picklable data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.core import drums
from studio.core.audio import DecodeError, decode
from studio.core.drums.features import measure
from studio.core.embedders import builtin
from studio.core.scanner import content_hash

# Long files (loops, breaks, recordings) are windowed up to this far in.
MAX_ANALYSED_SECONDS = 60.0


@dataclass
class FileAnalysis:
    path: str
    duration: float = 0.0
    sr: int = 0
    windows: list[tuple[float, float]] | None = None
    vectors: np.ndarray | None = None  # (len(windows), dim) built-in embeddings
    analysis: dict | None = None
    error: str | None = None
    hash: str | None = None  # of the file's bytes, when the caller asked for it


def analyze_path(path: str, with_hash: bool = False) -> FileAnalysis:
    h = None
    if with_hash:
        # Decoding re-reads the file from the page cache; handing soundfile the bytes instead
        # goes through its Python virtual-IO callbacks, measured slower.
        try:
            h = content_hash(path)
        except OSError as e:
            return FileAnalysis(path, error=e.strerror or str(e))
    r = _analyze(path)
    r.hash = h
    return r


SILENT = "silent: it holds no sound (every sample is zero, or not a number)"


def _analyze(path: str) -> FileAnalysis:
    try:
        audio = decode(path, sr=builtin.SAMPLE_RATE, max_seconds=MAX_ANALYSED_SECONDS)
    except DecodeError as e:
        return FileAnalysis(path, error=e.reason)
    except MemoryError:
        return FileAnalysis(path, error="file too large to decode")
    y, sr = audio.samples, audio.sr
    if not np.any(y):
        return FileAnalysis(path, error=SILENT)
    # The embedder and the category model hear the same head (ANALYSIS_SECONDS from where
    # the sound starts, builtin.heard): it is measured once, and its embedding is a
    # one-shot's vector and evidence for its category.
    assert sr == drums.ANALYSIS_SR and builtin.MAX_SECONDS == drums.ANALYSIS_SECONDS
    head = builtin.heard(y)
    m = measure(head, sr)
    whole = builtin.features(head, m)  # heard(head) is head
    an = drums.analyze(y, sr, duration=audio.duration, embedding=whole, measured=m)
    analysed = min(audio.duration, len(y) / sr)
    # A loop is cut into overlapping windows so a hit inside it can be found; a one-shot,
    # however long its tail, is one item.
    if an.get("kind") == "loop":
        wins = drums.windows(analysed)
        clips = [y[int(s * sr) : max(int(e * sr), int(s * sr) + 1)] for s, e in wins]
        vecs = np.stack([builtin.features(c) for c in clips]).astype(np.float32)
    else:
        wins = [(0.0, analysed)]
        vecs = whole[None, :].astype(np.float32)
    return FileAnalysis(
        path, duration=audio.duration, sr=sr, windows=wins, vectors=vecs, analysis=an
    )


def hash_paths(paths: list[str]) -> list[tuple[str | None, str | None]]:
    """(content hash, None) or (None, reason) for each path."""
    out: list[tuple[str | None, str | None]] = []
    for p in paths:
        try:
            out.append((content_hash(p), None))
        except OSError as e:
            out.append((None, e.strerror or str(e)))
    return out


def analyze_paths(jobs: list[tuple[str, bool]]) -> list[FileAnalysis]:
    """Analyse each (path, with_hash) job."""
    return [analyze_path(p, h) for p, h in jobs]
