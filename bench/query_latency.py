"""Query latency: hnswlib (as studio.core.vindex uses it) vs exact numpy search, with recall.

    .venv/bin/python bench/query_latency.py [--sizes 1000,10000,100000,1000000] [--dim 0]

Vectors have the built-in embedder's dimension: clustered by default (as a library's
sounds are), or uniformly random with --data random (the worst case for HNSW). Also times a full drop-to-results search
(Library.search(Query(like=[file]))) on a 100k-item library built from those vectors.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np

from studio.core.embedders.builtin import BuiltinEmbedder
from studio.core.vindex import VectorIndex


def unit(n: int, dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def clustered(n: int, dim: int, seed: int) -> np.ndarray:
    """Unit vectors in clusters, as sample libraries are (many takes of similar sounds):
    one cluster per ~50 items, members at cosine ~0.8 to their centre."""
    rng = np.random.default_rng(seed)
    centres = unit(max(1, n // 50), dim, seed + 1)
    v = centres[rng.integers(0, len(centres), n)] + 0.5 * unit(n, dim, seed + 2)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    ap.add_argument("--dim", type=int, default=0, help="0: the built-in embedder's")
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--data", choices=("clustered", "random"), default="clustered",
                    help="clustered unit vectors (like a library) or uniform random ones "
                         "(HNSW's worst case)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument(
        "--library", type=int, default=100000, help="items in the drop-to-results library"
    )
    a = ap.parse_args()
    dim = a.dim or BuiltinEmbedder().dim
    print(f"dim {dim}, {a.data} data, k {a.k}, {a.queries} queries; median / p95 ms; "
          f"recall@{a.k} vs exact")
    print(
        f"{'vectors':>9} {'build s':>8} {'hnsw med':>9} {'p95':>7} {'exact med':>10} "
        f"{'p95':>7} {'recall':>7}"
    )
    for n in (int(s) for s in a.sizes.split(",")):
        data = clustered(n, dim, 1) if a.data == "clustered" else unit(n, dim, 1)
        # queries near real items (a dropped sample resembles something in the library)
        q = data[: a.queries] + 0.3 * unit(a.queries, dim, 2)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        with tempfile.TemporaryDirectory() as d:
            idx = VectorIndex(d, "bench", dim)
            idx.open(lambda: (np.zeros(0, np.int64), np.zeros((0, dim), np.float32)), set)
            t = time.perf_counter()
            for i in range(0, n, 50000):
                idx.add(np.arange(i, min(i + 50000, n)), data[i : i + 50000])
            build = time.perf_counter() - t
            th, te, rec = [], [], []
            for v in q:
                t = time.perf_counter()
                got, _ = idx.query(v, a.k)
                th.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                sims = data @ v
                top = np.argpartition(-sims, a.k)[: a.k]
                top = top[np.argsort(-sims[top])]
                te.append((time.perf_counter() - t) * 1000)
                rec.append(len(set(got.tolist()) & set(top.tolist())) / a.k)
        print(
            f"{n:>9,} {build:>8.1f} {np.median(th):>9.3f} {np.percentile(th, 95):>7.3f} "
            f"{np.median(te):>10.3f} {np.percentile(te, 95):>7.3f} {np.mean(rec):>7.3f}"
        )
    drop_to_results(dim, int(a.library))
    return 0


def drop_to_results(dim: int, n: int) -> None:
    """Median time of Library.search for a dropped file not in the library, n items indexed."""
    import json
    import os

    import soundfile as sf

    from studio.core.library import Library
    from studio.core.search import Query
    from studio.core.synth import voice

    with tempfile.TemporaryDirectory() as d:
        lib = Library(os.path.join(d, "data"))
        data = unit(n, dim, 3)
        cats = ["kick", "snare", "hihat_closed", "tom", "clap"]
        # The files exist (empty): a search leaves out results whose file is gone.
        root = os.path.join(d, "lib")
        for p in range(n // 500 + 1):
            os.makedirs(os.path.join(root, f"pack{p}"))
        for i in range(n):
            open(os.path.join(root, f"pack{i // 500}", f"s{i}.wav"), "wb").close()
        with lib.catalog.write() as db:
            db.execute("INSERT INTO roots(path, added) VALUES(?, 0)", (root,))
            for i in range(n):
                c = cats[i % 5]
                an = json.dumps({"category": c, "words": {"bright": (i % 7) / 7}})
                db.execute(
                    "INSERT INTO contents(id, hash, size, duration, sr, analysis, "
                    "analysis_version, category) VALUES(?,?,?,?,?,?,?,?)",
                    (i + 1, f"h{i}", 1000, 0.5, 44100, an, 1, c),
                )
                db.execute(
                    "INSERT INTO items(id, content_id, start, end) VALUES(?,?,0,0.5)",
                    (i + 1, i + 1),
                )
                db.execute(
                    "INSERT INTO files(path, root_id, size, mtime_ns, content_id) "
                    "VALUES(?,1,1000,0,?)",
                    (os.path.join(root, f"pack{i // 500}", f"s{i}.wav"), i + 1),
                )
                db.execute(
                    "INSERT INTO vectors VALUES(?,?,?)", (i + 1, lib.builtin.id, data[i].tobytes())
                )
        t = time.perf_counter()
        lib.index_for(lib.builtin)
        print(
            f"\nlibrary of {n:,} items: index built from the catalog in "
            f"{time.perf_counter() - t:.1f} s"
        )
        q = os.path.join(d, "dropped.wav")
        sf.write(q, voice("kick", 99), 44100)
        times = []
        for _ in range(30):
            t = time.perf_counter()
            res = lib.search(Query(like=[q], k=50))
            times.append((time.perf_counter() - t) * 1000)
        print(
            f"drop-to-results (decode + embed + search + {len(res.hits)} rows): "
            f"median {np.median(times):.1f} ms, p95 {np.percentile(times, 95):.1f} ms "
            "(target <= 50 ms)"
        )
        times = []
        for w in ["kick", "snare", "dusty lo-fi snare", "bright hat", "tom"] * 4:
            t = time.perf_counter()
            lib.search(Query(text=w, k=50))
            times.append((time.perf_counter() - t) * 1000)
        print(f"text query without CLAP over {n:,} sounds: median {np.median(times):.1f} ms")
        lib.close()


if __name__ == "__main__":
    sys.exit(main())
