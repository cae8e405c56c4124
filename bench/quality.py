"""Quality and speed of the built-in embedder on the anonymized dev corpus; prints figures.

    python3 ../shared/corpus/make_dev_corpus.py /tmp/corpus_anon --anonymize
    .venv/bin/python bench/quality.py [--corpus /tmp/corpus_anon]

Figures (targets from PRODUCT.md):
- same-class precision@10: each file queries all other files by cosine (target >= 0.85);
- near-duplicate recall@1: transformed copies of each file query the library of originals
  (target >= 0.97). Files that are the same waveform up to a gain factor (velocity layers
  made by scaling, kits that share samples) count as one sound: a copy that finds its
  source's twin is a hit, since a gain-independent embedder cannot tell them apart;
- speed: decode + features, files/s, against a librosa.load + MFCC loop (target >= 20x).
Labels: the manifest's with the corpus script's tom-rule bug fixed (11 ride cymbals it calls
toms; resources/drums/corpus_labels.py), which the embedder is trained on; p@10 against the
manifest's labels as they are is printed too.
The learned projection is scored leave-one-kit-out: for each kit K it is fitted on the other
kits (less any sound shared with K) and K's queries are scored against the whole corpus. The
in-sample figure of the shipped fit is printed too, for reference only.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import defaultdict
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.core.audio import decode, resample  # noqa: E402
from studio.core.embedders import builtin  # noqa: E402
from studio.core.embedders.base import l2_normalize  # noqa: E402
from studio.core.search import CATEGORY_MIX  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loko import load_train_builtin, require_corpus, same_sound_groups  # noqa: E402
from loko import train_classifier as drum_train  # noqa: E402

SR = builtin.SAMPLE_RATE
TRANSFORMS = (
    "gain-12dB", "gain+6dB", "pitch+1st", "pitch-1st", "lowpass4k",
    "noise30dB", "trim-head5ms", "trim-tail", "resample32k", "ogg",
)  # fmt: skip


def transform(
    name: str, y: np.ndarray, sr: int, rng: np.random.Generator
) -> tuple[np.ndarray, int]:
    import soundfile as sf
    import soxr
    from scipy.signal import butter, sosfilt

    if name == "gain-12dB":
        return y * 10 ** (-12 / 20), sr
    if name == "gain+6dB":
        return y * min(2.0, 0.99 / (np.abs(y).max() + 1e-12)), sr
    if name in ("pitch+1st", "pitch-1st"):
        st = 1 if name == "pitch+1st" else -1
        return soxr.resample(y, sr * 2 ** (st / 12), sr), sr
    if name == "lowpass4k":
        return sosfilt(butter(8, 4000, fs=sr, output="sos"), y), sr
    if name == "noise30dB":
        return y + rng.standard_normal(len(y)) * np.sqrt(np.mean(y**2) / 1000), sr
    if name == "trim-head5ms":
        return y[int(0.005 * sr) :], sr
    if name == "trim-tail":  # keep 60 %, 10 ms fade-out
        z = y[: max(int(len(y) * 0.6), 16)].copy()
        f = min(len(z), int(0.01 * sr))
        z[len(z) - f :] *= np.linspace(1, 0, f)
        return z, sr
    if name == "resample32k":
        return soxr.resample(y, sr, 32000), 32000
    if name == "ogg":
        buf = io.BytesIO()
        sf.write(buf, y, sr, format="OGG", subtype="VORBIS")
        buf.seek(0)
        return sf.read(buf, dtype="float32")[0], sr
    raise ValueError(name)


def precision_at_10(emb: np.ndarray, cls: np.ndarray, queries: np.ndarray) -> np.ndarray:
    e = l2_normalize(emb)
    s = e[queries] @ e.T
    s[np.arange(len(queries)), queries] = -np.inf
    nn = np.argsort(-s, axis=1)[:, :10]
    return (cls[nn] == cls[queries][:, None]).mean(axis=1)


def mixed_precision(emb: np.ndarray, probs: np.ndarray, cls: np.ndarray, queries: np.ndarray,
                    w: float) -> np.ndarray:
    """p@10 of the search's ranking: (1-w) x calibrated cosine + w x category agreement."""
    e = l2_normalize(emb)
    g = e @ e.T
    n = len(e)
    mu = min((g.sum() - np.trace(g)) / (n * (n - 1)), 0.95)
    s = (1 - w) * np.clip((g[queries] - mu) / (1 - mu), -1, 1) + w * (probs[queries] @ probs.T)
    s[np.arange(len(queries)), queries] = -np.inf
    nn = np.argsort(-s, axis=1)[:, :10]
    return (cls[nn] == cls[queries][:, None]).mean(axis=1)


def dup_hits(q: np.ndarray, lib: np.ndarray, group: np.ndarray, src: np.ndarray) -> np.ndarray:
    nn = (l2_normalize(q) @ l2_normalize(lib).T).argmax(axis=1)
    return group[nn] == group[src]


def score(name, emb, copies, cls, group, queries=None):
    """(p@10, {transform: recall@1}) of one embedding of originals and copies."""
    q = np.arange(len(emb)) if queries is None else queries
    p = precision_at_10(emb, cls, q).mean()
    return p, {t: dup_hits(copies[t][q], emb, group, q).mean() for t in TRANSFORMS}


def row(name: str, p: float, rec: dict[str, float]) -> str:
    overall = np.mean(list(rec.values()))
    cells = " ".join(f"{rec[t]:>6.3f}" for t in TRANSFORMS)
    return f"{name:<34} {p:>6.3f} {overall:>6.3f} {cells}"


def _embed_file(path: str) -> int:
    y = decode(path, sr=SR, max_seconds=builtin.MAX_SECONDS).samples
    return builtin.features(y).shape[0]


def _librosa_file(path: str) -> np.ndarray:
    import librosa

    y, sr = librosa.load(path, sr=22050)
    m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    return np.concatenate([m.mean(axis=1), m.std(axis=1)])


def speed(paths: list[str], n_ref: int) -> None:
    import librosa  # noqa: F401  (import cost kept out of the timing)

    _librosa_file(paths[0])
    for p in paths[:20]:
        _embed_file(p)  # warm caches
    t = time.perf_counter()
    for p in paths:
        _embed_file(p)
    ours = len(paths) / (time.perf_counter() - t)
    t = time.perf_counter()
    for p in paths[:n_ref]:
        _librosa_file(p)
    ref = n_ref / (time.perf_counter() - t)
    with Pool(2) as pool:
        pool.map(_embed_file, paths[:40])
        t = time.perf_counter()
        pool.map(_embed_file, paths, chunksize=16)
        two = len(paths) / (time.perf_counter() - t)
    t = time.perf_counter()
    for p in paths:
        decode(p, sr=SR, max_seconds=builtin.MAX_SECONDS)
    dec_ms = (time.perf_counter() - t) / len(paths) * 1e3
    print("\nspeed (decode + features, files/s)")
    print(f"  built-in, 1 process           {ours:8.1f}   (decode alone {dec_ms:.2f} ms/file)")
    print(f"  built-in, 2 processes         {two:8.1f}   target >= 500")
    print(f"  librosa.load + MFCC, 1 proc   {ref:8.1f}   ({n_ref} files)")
    print(f"  ratio, 1 process              {ours / ref:8.1f}x  target >= 20x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/corpus_anon"))
    ap.add_argument("--no-speed", action="store_true", help="skip the timing part")
    ap.add_argument("--ref-files", type=int, default=120, help="files for the librosa loop")
    a = ap.parse_args()
    require_corpus(a.corpus)
    import warnings

    import librosa

    warnings.filterwarnings("ignore", message="n_fft=", category=UserWarning)
    train = load_train_builtin()
    t0 = time.perf_counter()
    rows, clips, rates = train.load_corpus(a.corpus)
    as_is = np.array([r["cls"] for r in rows])
    cls = np.array(drum_train.corrected_labels(rows))
    kit = np.array([r["kit"] for r in rows])
    orig = [resample(y, r, SR) for y, r in zip(clips, rates, strict=True)]
    group = same_sound_groups(orig)
    rng = np.random.default_rng(1234)
    copies_audio: dict[str, list[np.ndarray]] = {t: [] for t in TRANSFORMS}
    for y, r in zip(clips, rates, strict=True):
        for t in TRANSFORMS:
            z, s = transform(t, y, r, rng)
            copies_audio[t].append(resample(np.ascontiguousarray(z, np.float32), s, SR))
    xo, xa, src = train.raw_set(clips, rates)
    xc = {t: np.stack([builtin.raw_features(z) for z in v]) for t, v in copies_audio.items()}
    print(f"corpus: {len(rows)} files, {len(set(cls))} classes, {len(set(kit))} kits, "
          f"{len(set(group))} distinct sounds; prepared in {time.perf_counter() - t0:.0f} s")  # fmt: skip

    def mfcc(y: np.ndarray) -> np.ndarray:
        y = np.pad(y, (0, max(0, 2048 - len(y))))
        m = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20)
        return np.concatenate([m.mean(axis=1), m.std(axis=1)])

    mo = np.stack([mfcc(y) for y in orig])
    mc = {t: np.stack([mfcc(z) for z in v]) for t, v in copies_audio.items()}

    # The product's search also mixes in category agreement (studio.core.search): the drum
    # classifier's probabilities, trained leave-one-kit-out like the embedder.
    xd, drows, xda, dsrc = drum_train.corpus_features(a.corpus)
    assert [r["path"] for r in drows] == [r["path"] for r in rows], "corpus order differs"
    dcats = np.array([r["category"] for r in drows], dtype=object)
    mixes = (0.0, 0.1, 0.15, 0.25, 0.35)
    loko_mix: dict[float, list[np.ndarray]] = {w: [] for w in mixes}
    loko_mix_as_is: dict[float, list[np.ndarray]] = {w: [] for w in mixes}

    # Leave-one-kit-out: fit without kit K (and without any sound K shares), score K's queries.
    loko_p, loko_p_as_is, loko_hits = [], [], defaultdict(list)
    folds: list[tuple[np.ndarray, np.ndarray]] = []
    oos_probs = np.zeros((len(rows), len(drum_train.CLASSES)))
    for k in sorted(set(kit)):
        test = np.where(kit == k)[0]
        train_idx = np.where(~np.isin(group, group[test]))[0]
        amask = np.isin(src, train_idx)
        remap = np.full(len(rows), -1)
        remap[train_idx] = np.arange(len(train_idx))
        params = train.fit(xo[train_idx], cls[train_idx], xa[amask], remap[src[amask]])
        emb = builtin.project(xo, params)
        loko_p.append(precision_at_10(emb, cls, test))
        loko_p_as_is.append(precision_at_10(emb, as_is, test))
        tra = np.isin(dsrc, train_idx)
        model = drum_train.train(xd[train_idx], list(dcats[train_idx]), xda[tra],
                                 list(dcats[dsrc[tra]]), emb[train_idx])
        probs = model.predict(xd, emb)
        folds.append((test, emb))
        oos_probs[test] = probs[test]
        for w in mixes:
            loko_mix[w].append(mixed_precision(emb, probs, cls, test, w))
            loko_mix_as_is[w].append(mixed_precision(emb, probs, as_is, test, w))
        for t in TRANSFORMS:
            loko_hits[t].append(dup_hits(builtin.project(xc[t][test], params), emb, group, test))
    # The library's categories above come from a model that was trained on them (as its
    # vectors come from a projection fitted on them); a user's library is new to both. With
    # every sound's probabilities from the model that held its kit out:
    oos_mix = float(np.concatenate([
        mixed_precision(emb, oos_probs, cls, test, CATEGORY_MIX) for test, emb in folds
    ]).mean())  # fmt: skip
    p_loko = float(np.concatenate(loko_p).mean())
    p_loko_as_is = float(np.concatenate(loko_p_as_is).mean())
    r_loko = {t: float(np.concatenate(v).mean()) for t, v in loko_hits.items()}

    shipped = builtin.load_params()
    p_in, r_in = score("", builtin.project(xo, shipped), {t: builtin.project(v, shipped) for t, v in xc.items()}, cls, group)  # fmt: skip
    p_raw, r_raw = score("", xo, xc, cls, group)
    p_mf, r_mf = score("", mo, mc, cls, group)

    heads = " ".join(f"{t[:6]:>6}" for t in TRANSFORMS)
    print(f"\n{'embedding':<34} {'p@10':>6} {'dup':>6} {heads}")
    print(row(f"{builtin.EMBEDDER_ID} leave-one-kit-out", p_loko, r_loko))
    for w, parts in loko_mix.items():
        label = f"  search, category mix {w:.2f}" + (" (shipped)" if w == CATEGORY_MIX else "")
        print(f"{label:<34} {float(np.concatenate(parts).mean()):>6.3f}")
    print(f"  search, every category held out   {oos_mix:>6.3f}")
    mix_as_is = float(np.concatenate(loko_mix_as_is[CATEGORY_MIX]).mean())
    print(f"  scored on the manifest's labels as they are ({int((cls != as_is).sum())} differ): "
          f"embedding {p_loko_as_is:.3f}, search {mix_as_is:.3f}")  # fmt: skip
    print(row("raw DSP features (nothing learned)", p_raw, r_raw))
    print(row("MFCC mean+std (librosa, 40 dims)", p_mf, r_mf))
    print(row("shipped fit, in-sample (not a score)", p_in, r_in))
    print("targets: p@10 >= 0.85, near-duplicate recall@1 >= 0.97 (dup = mean over transforms)")
    if not a.no_speed:
        speed([str(a.corpus / r["path"]) for r in rows], a.ref_files)


if __name__ == "__main__":
    main()
