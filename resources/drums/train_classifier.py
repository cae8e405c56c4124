"""Train the drum category model shipped as resources/drums/classifier.npz.

    python resources/drums/train_classifier.py CORPUS_DIR

CORPUS_DIR is the Hydrogen dev corpus (../shared/corpus/make_dev_corpus.py OUT --anonymize;
manifest.csv: path,cls,kit). Deterministic: the same corpus gives the same file. The bench
(bench/categories.py) scores the same recipe leave-one-kit-out.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from studio.core.audio import decode  # noqa: E402
from studio.core.drums import ANALYSIS_SECONDS, ANALYSIS_SR  # noqa: E402
from studio.core.drums.classifier import MODEL_PATH, Model, fit  # noqa: E402
from studio.core.drums.features import feature_vector, measure  # noqa: E402

# Hydrogen labels -> Studio categories.
LABEL_MAP = {
    "cowbell": "perc", "wood": "perc", "hand_drum": "perc", "triangle": "perc",
    "tambourine": "shaker", "shaker": "shaker",
}  # fmt: skip
CLASSES = (
    "kick", "snare", "clap", "rim", "tom", "hihat_closed", "hihat_open",
    "crash", "ride", "shaker", "perc",
)  # fmt: skip
RECIPE = {"hidden": 0, "l2": 1e-2, "iters": 400, "lr": 0.05}


def category_of(label: str) -> str:
    return LABEL_MAP.get(label, label)


def corpus_features(corpus: Path) -> tuple[np.ndarray, list[dict]]:
    """Feature rows and manifest rows (with 'category') for every decodable file."""
    rows, feats = [], []
    with open(corpus / "manifest.csv", newline="") as f:
        for r in csv.DictReader(f):
            a = decode(corpus / r["path"], sr=ANALYSIS_SR, max_seconds=ANALYSIS_SECONDS)
            feats.append(feature_vector(measure(a.samples, ANALYSIS_SR), a.duration))
            rows.append({**r, "category": category_of(r["cls"])})
    return np.stack(feats), rows


def train(x: np.ndarray, categories: list[str]) -> Model:
    return fit(x, categories, CLASSES, **RECIPE)


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/corpus_anon")
    x, rows = corpus_features(corpus)
    model = train(x, [r["category"] for r in rows])
    MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
    model.save(MODEL_PATH)
    print(f"trained on {len(rows)} files -> {MODEL_PATH}")


if __name__ == "__main__":
    main()
