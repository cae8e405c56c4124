"""Indexing throughput of the built-in embedder vs a librosa.load + MFCC loop, same files, same run.

    .venv/bin/python bench/index_speed.py [--corpus /tmp/corpus_anon] [--copies 4]

The corpus is converted to 16-bit WAV one-shots (PRODUCT.md's target is for WAV) and copied
`--copies` times with a tiny gain change so every copy is a distinct file. Prints files/s for
`studio index` (all cores) and for the reference loop (one core, as people write it), and
the ratio.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def make_wavs(corpus: Path, out: Path, copies: int) -> list[Path]:
    rows = list(csv.DictReader(open(corpus / "manifest.csv")))
    paths = []
    for c in range(copies):
        d = out / f"copy{c}"
        d.mkdir(parents=True, exist_ok=True)
        for i, r in enumerate(rows):
            y, sr = sf.read(corpus / r["path"], dtype="float32", always_2d=True)
            p = d / f"{i:04d}.wav"
            sf.write(p, y * (1.0 - 0.01 * c), sr, subtype="PCM_16")
            paths.append(p)
    return paths


def librosa_loop(paths: list[Path]) -> float:
    import librosa

    librosa.feature.mfcc(y=np.zeros(2048, np.float32), sr=22050)  # warm-up: numba compiles
    t = time.perf_counter()
    for p in paths:
        y, sr = librosa.load(p, sr=22050, mono=True)
        m = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
        np.concatenate([m.mean(axis=1), m.std(axis=1)])
    return len(paths) / (time.perf_counter() - t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/corpus_anon"))
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument(
        "--reference-files",
        type=int,
        default=300,
        help="files timed for the librosa loop (it is slow)",
    )
    a = ap.parse_args()
    if not (a.corpus / "manifest.csv").exists():
        print(
            f"no corpus at {a.corpus}: python3 ../shared/corpus/make_dev_corpus.py "
            f"{a.corpus} --anonymize"
        )
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    try:
        paths = make_wavs(a.corpus, tmp / "lib", a.copies)
        n = len(paths)
        durs = [sf.info(p).duration for p in paths[:200]]
        print(f"{n} WAV one-shots, median {np.median(durs):.2f} s, cores: {os.cpu_count()}")
        data = tmp / "data"
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-m", "studio", "index", str(tmp / "lib"), "--data-dir", str(data)],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        if r.returncode:
            print(r.stderr)
            return 1
        print(f"studio index (process start to exit): {n / wall:7.1f} files/s  ({wall:.1f} s)")
        print(f"  summary: {r.stdout.strip().splitlines()[0]}")
        # CPU time is steadier than wall time on a shared machine: the files/s two idle cores
        # would give is about cores / (CPU per file), less the start-up.
        print(f"  CPU, every process: {cpu:.1f} s, {cpu / n * 1e3:.2f} ms per file "
              f"(2 idle cores: ~{2 * n / cpu:.0f} files/s)")
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "studio", "index", "--data-dir", str(data)],
            capture_output=True,
            check=True,
        )
        print(f"re-scan, nothing changed: {time.perf_counter() - t:.2f} s for {n} files")
        ref = librosa_loop(paths[: a.reference_files])
        print(f"librosa.load + MFCC loop:             {ref:7.1f} files/s")
        print(f"ratio: {n / wall / ref:.1f}x  (targets: >= 500 files/s, >= 20x)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
