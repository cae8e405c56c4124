"""Train the drum category model shipped as resources/drums/classifier.npz.

    python resources/drums/train_classifier.py CORPUS_DIR

CORPUS_DIR is the Hydrogen dev corpus (../shared/corpus/make_dev_corpus.py OUT --anonymize;
manifest.csv: path,cls,kit). Labels are the manifest's with one labelling bug fixed (11
ride cymbals that the corpus script calls toms; see corpus_labels.py). Deterministic: the
same corpus gives the same file. The bench (bench/categories.py) scores the same recipe
leave-one-kit-out.

Studio's own synthesised voices (studio.core.synth: 808/909-style kicks, snares, claps,
hats and toms, SYNTH_VARIANTS of each, variants that the demo kit does not use) are always
added to training, so electronic sounds are known too; they are never scored.

The model also keeps the built-in embeddings (studio.core.embedders.builtin, the shipped
projection) of the corpus files for its embedding vote (see studio.core.drums.classifier);
the bench refits that projection leave-one-kit-out too.

Training rows are the corpus files plus AUGMENT altered copies of each (spectral tilt, low-pass,
truncation with a fade, a little noise, gain), so the model leans less on one kit's recording
chain or on how long its files happen to be cut.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from studio.core.audio import decode  # noqa: E402
from studio.core.drums import ANALYSIS_SECONDS, ANALYSIS_SR  # noqa: E402
from studio.core.drums.classifier import MODEL_PATH, Model, fit  # noqa: E402
from studio.core.drums.features import feature_vector, measure  # noqa: E402
from studio.core.embedders import builtin  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_labels import corrected_labels  # noqa: E402

# Hydrogen labels -> Studio categories.
LABEL_MAP = {
    "cowbell": "perc", "wood": "perc", "hand_drum": "perc", "triangle": "perc",
    "tambourine": "shaker", "shaker": "shaker",
}  # fmt: skip
CLASSES = (
    "kick", "snare", "clap", "rim", "tom", "hihat_closed", "hihat_open",
    "crash", "ride", "shaker", "perc",
)  # fmt: skip
RECIPE = {"hidden": 0, "l2": 4e-2, "iters": 300, "lr": 0.05, "knn": 9, "knn_share": 0.5}
AUGMENT = 3
# Augmented copies count this much each relative to an original file.
AUG_WEIGHT = 0.5
SEED = 0
READ_SECONDS = 10.0  # read this much: a sound may start late, and is heard from its start
EMB_K = 9  # the embedding vote: neighbours, and its weight against the rest
EMB_WEIGHT = 0.25


def category_of(label: str) -> str:
    return LABEL_MAP.get(label, label)


def augment(y: np.ndarray, duration: float, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """One altered copy of a sound: tilt/low-pass EQ, maybe cut short with a fade, noise, gain."""
    sr = ANALYSIS_SR
    x = np.asarray(y[: int(ANALYSIS_SECONDS * sr)], dtype=np.float64)
    n = x.size
    if n > 2048:
        f = np.fft.rfftfreq(n, 1 / sr)
        g = 10 ** (rng.uniform(-4, 4) * np.log2(np.maximum(f, 30.0) / 1000.0) / 20)
        if rng.random() < 0.4:
            g = g / np.sqrt(1 + (f / rng.uniform(4000, 10000)) ** 8)
        x = np.fft.irfft(np.fft.rfft(x) * g, n)
    if rng.random() < 0.5 and duration > 0.3:
        cut = max(int(rng.uniform(0.3, 1.0) * n), 64)
        fade = max(cut // 5, 1)
        x = x[:cut].copy()
        x[-fade:] *= np.linspace(1.0, 0.0, fade)
        duration = cut / sr
    if rng.random() < 0.3:
        x = x + rng.standard_normal(x.size) * np.abs(x).max() * 10 ** (rng.uniform(-70, -45) / 20)
    x = x * 10 ** (rng.uniform(-20, 0) / 20) / (np.abs(x).max() + 1e-9)
    return x.astype(np.float32), duration


def corpus_features(
    corpus: Path, augment_copies: int = AUGMENT
) -> tuple[np.ndarray, list[dict], np.ndarray, np.ndarray]:
    """Feature rows and manifest rows for every decodable file, plus the augmented rows and,
    for each, the index of the file it was made from. Each row has 'category' (from the label
    with corpus_labels' fix: what Studio trains on and is scored against) and
    'category_manifest' (from manifest.csv's label as it is)."""
    rows, feats, aug, src = [], [], [], []
    rng = np.random.default_rng(SEED)
    with open(corpus / "manifest.csv", newline="") as f:
        manifest = list(csv.DictReader(f))
    fixed = corrected_labels(manifest)
    for r, label in zip(manifest, fixed, strict=True):
        a = decode(corpus / r["path"], sr=ANALYSIS_SR, max_seconds=READ_SECONDS)
        head = builtin.heard(a.samples)  # what analyze() measures: from where the sound starts
        feats.append(feature_vector(measure(head, ANALYSIS_SR), a.duration))
        for _ in range(augment_copies):
            ya, da = augment(head, a.duration, rng)
            aug.append(feature_vector(measure(ya, ANALYSIS_SR), da))
            src.append(len(rows))
        rows.append(
            {**r, "category": category_of(label), "category_manifest": category_of(r["cls"])}
        )
    xa = np.stack(aug) if aug else np.zeros((0, feats[0].size), np.float32)
    return np.stack(feats), rows, xa, np.array(src, dtype=np.int64)


def corpus_raw_embeddings(corpus: Path, rows: list[dict]) -> np.ndarray:
    """builtin.raw_features of each row's first ANALYSIS_SECONDS, what analyze()'s embedding
    vote reads (project them with builtin.project and a fitted or the shipped projection)."""
    out = []
    for r in rows:
        a = decode(corpus / r["path"], sr=builtin.SAMPLE_RATE, max_seconds=READ_SECONDS)
        out.append(builtin.raw_features(a.samples))
    return np.stack(out)


SYNTH_VARIANTS = 24
SYNTH_FIRST = 1000  # the demo kit uses variants 0-9: keep it out of training


def synth_features() -> tuple[np.ndarray, list[str]]:
    """Feature rows of Studio's synthesised voices and their categories (cached)."""
    global _SYNTH
    if _SYNTH is None:
        from studio.core.audio import resample
        from studio.core.synth import SR as SYNTH_SR
        from studio.core.synth import VOICES, voice

        feats, cats = [], []
        for kind in VOICES:
            for v in range(SYNTH_FIRST, SYNTH_FIRST + SYNTH_VARIANTS):
                y = resample(voice(kind, v), SYNTH_SR, ANALYSIS_SR)
                feats.append(feature_vector(measure(y, ANALYSIS_SR), len(y) / ANALYSIS_SR))
                cats.append(kind)
        _SYNTH = (np.stack(feats), cats)
    return _SYNTH


_SYNTH: tuple[np.ndarray, list[str]] | None = None


def train(
    x: np.ndarray,
    categories: list[str],
    x_aug: np.ndarray | None = None,
    categories_aug: list[str] | None = None,
    emb: np.ndarray | None = None,
) -> Model:
    """The model for feature rows `x` of `categories` (plus augmented rows); `emb`, the rows'
    built-in embeddings, adds the embedding vote."""
    xs, cs = synth_features()
    xx = np.vstack([x, xs])
    cc = list(categories) + cs
    if x_aug is None or not len(x_aug):
        model = fit(xx, cc, CLASSES, **RECIPE)
    else:
        w = np.concatenate([np.ones(len(xx)), np.full(len(x_aug), AUG_WEIGHT)])
        model = fit(
            np.vstack([xx, x_aug]),
            cc + list(categories_aug or []),
            CLASSES,
            sample_weight=w,
            **RECIPE,
        )
    if emb is None:
        return model
    return model.with_embeddings(emb, list(categories), builtin.EMBEDDER_ID, EMB_K, EMB_WEIGHT)


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/corpus_anon")
    x, rows, xa, src = corpus_features(corpus)
    cats = [r["category"] for r in rows]
    emb = builtin.project(corpus_raw_embeddings(corpus, rows), builtin.load_params())
    model = train(x, cats, xa, [cats[i] for i in src], emb)
    MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
    model.save(MODEL_PATH)
    print(f"trained on {len(rows)} files (+{len(xa)} augmented) -> {MODEL_PATH}")


if __name__ == "__main__":
    main()
