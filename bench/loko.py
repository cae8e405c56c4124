"""Leave-one-kit-out folds for the benches that score learned parts on the dev corpus.

Kits share sounds: GMRockKit and The Black Pearl hold 70-odd identical samples, and velocity
layers are often one sample at several gains. A fold that trains on a sound its held-out kit
also holds scores a sound it has heard, so each fold leaves out, with the kit, every file
whose waveform equals (up to gain) one of the kit's files.

`Folds` also refits the built-in embedder's projection per fold (train_builtin.fit), for the
classifier's embedding vote: the shipped projection has heard every kit.
"""

from __future__ import annotations

import importlib.util
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "resources" / "drums"))

import train_classifier  # noqa: E402

from studio.core.audio import resample  # noqa: E402
from studio.core.embedders import builtin  # noqa: E402


def require_corpus(corpus: Path) -> None:
    """Exit with how to build the dev corpus when `corpus` has none."""
    if not (corpus / "manifest.csv").exists():
        sys.exit(
            f"no corpus at {corpus}; build it with:\n"
            "  apt-get install -y hydrogen-drumkits hydrogen-data\n"
            f"  python3 ../shared/corpus/make_dev_corpus.py {corpus} --anonymize"
        )


def load_train_builtin():
    path = ROOT / "resources" / "builtin" / "train_builtin.py"
    spec = importlib.util.spec_from_file_location("train_builtin", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def same_sound_groups(ys: list[np.ndarray], thr: float = 0.999) -> np.ndarray:
    """Group id per clip; clips equal up to a gain factor share one."""
    g = np.arange(len(ys))
    by_len: dict[int, list[int]] = defaultdict(list)
    for i, y in enumerate(ys):
        by_len[len(y)].append(i)
    for idx in by_len.values():
        for a, i in enumerate(idx):
            for j in idx[:a]:
                x, y = ys[i].astype(np.float64), ys[j].astype(np.float64)
                if np.dot(x, y) > thr * np.sqrt(np.dot(x, x) * np.dot(y, y)) + 1e-30:
                    g[i] = g[j]
                    break
    return g


class Folds:
    """Folds over the corpus rows of train_classifier.corpus_features (same order)."""

    def __init__(self, corpus: Path, rows: list[dict]) -> None:
        self.builtin_train = tb = load_train_builtin()
        brows, clips, rates = tb.load_corpus(corpus)
        assert [r["path"] for r in brows] == [r["path"] for r in rows], "corpus order differs"
        self.kits = np.array([r["kit"] for r in rows])
        self.groups = same_sound_groups(
            [resample(y, r, builtin.SAMPLE_RATE) for y, r in zip(clips, rates, strict=True)]
        )
        self.labels = np.array(train_classifier.corrected_labels(brows))
        self.xo, self.xa, self.src = tb.raw_set(clips, rates)
        self.raw = train_classifier.corpus_raw_embeddings(corpus, rows)

    def __iter__(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """(kit, test mask, train mask): train leaves out the kit and the sounds it shares."""
        for kit in np.unique(self.kits):
            test = self.kits == kit
            yield str(kit), test, ~np.isin(self.groups, self.groups[test])

    def shared_with_other_kits(self) -> int:
        """How many files hold a sound that another kit holds too."""
        kits_of: dict[int, set[str]] = defaultdict(set)
        for g, k in zip(self.groups, self.kits, strict=True):
            kits_of[int(g)].add(str(k))
        return int(sum(len(kits_of[int(g)]) > 1 for g in self.groups))

    def embeddings(self, train: np.ndarray) -> np.ndarray:
        """Every row's built-in embedding under a projection fitted on the `train` rows."""
        idx = np.flatnonzero(train)
        amask = np.isin(self.src, idx)
        remap = np.full(len(train), -1)
        remap[idx] = np.arange(len(idx))
        params = self.builtin_train.fit(
            self.xo[idx], self.labels[idx], self.xa[amask], remap[self.src[amask]]
        )
        return builtin.project(self.raw, params)
