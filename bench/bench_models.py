"""Speed of the MERT and CLAP embedders at full size, with random weights (no download needed).

Builds MERT-v1-95M's architecture (HubertConfig with the checkpoint's sizes) and
laion/larger_clap_music's (HTSAT-base audio tower, RoBERTa-base text tower, projection 512)
with random weights, saves them as folders laid out like the hub repos, and loads them through
ModelManager.link/load - the same code as real weights. Speed does not depend on the values.

Measures one-shots per second (1 s clips; MERT at 24 kHz, CLAP at 48 kHz, where CLAP always
builds a 10 s mel) at batch 1 and 16, in fp32, bf16 and (MERT) int8 - all loaded at once and
timed in turn, best of --reps rounds; the cosine of each variant's vectors to fp32's on the
same clips (min over 16; random weights, so only indicative); peak RSS; CLAP text latency.

    .venv/bin/python bench/bench_models.py [--model mert|clap] [--clips 32] [--threads N] [--reps 2]
        [--corpus /tmp/corpus_anon [--corpus-files 160]]

Targets (2 CPU cores): MERT >= 25, CLAP >= 12 one-shots/s; text <= 100 ms median.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

TARGET = {"mert": 25.0, "clap": 12.0}


def build_mert(folder: Path) -> None:
    import torch
    from tiny_models import MERT_SR
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    torch.manual_seed(0)
    # HubertConfig's defaults are MERT-v1-95M's sizes: 768 x 12 layers, 12 heads, 3072 FFN,
    # 7 conv layers of 512 (kernels 10,3,3,3,3,2,2; strides 5,2,2,2,2,2,2), group norm,
    # 128-wide positional conv in 16 groups.
    HubertModel(HubertConfig()).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(sampling_rate=MERT_SR, do_normalize=True).save_pretrained(folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(
        model_type="mert_model",
        feature_extractor_cqt=False,
        deepnorm=False,
        auto_map={"AutoModel": "modeling_MERT.MERTModel"},
    )
    (folder / "config.json").write_text(json.dumps(cfg))


def build_clap(folder: Path) -> None:
    import torch
    from tiny_models import build_tiny_clap
    from transformers import ClapAudioConfig, ClapConfig, ClapFeatureExtractor, ClapModel

    torch.manual_seed(0)
    build_tiny_clap(folder)  # for its tokenizer files; the model is replaced below
    text = {
        "vocab_size": 50265,
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
        "max_position_embeddings": 514,
        "projection_dim": 512,
    }
    audio = ClapAudioConfig(
        depths=[2, 2, 12, 2],
        num_attention_heads=[4, 8, 16, 32],
        patch_embeds_hidden_size=128,
        hidden_size=1024,
        window_size=8,
        spec_size=256,
        num_mel_bins=64,
        projection_dim=512,
        enable_fusion=False,
    )
    cfg = ClapConfig(text_config=text, audio_config=audio.to_dict(), projection_dim=512)
    ClapModel(cfg).save_pretrained(folder)
    ClapFeatureExtractor(feature_size=64, truncation="rand_trunc").save_pretrained(folder)


def timed(emb, clips, batch: int) -> tuple[float, float]:
    """(one-shots/s by the wall clock, one-shots/s per all cores' worth of this process's CPU).

    The second figure is what the machine would do if nothing else ran on it (with fewer
    threads than cores: one worker per `threads` cores): on a shared machine the wall clock
    counts other processes' time too.
    """
    t, c = time.perf_counter(), time.process_time()
    for s in range(0, len(clips), batch):
        emb.embed_audio(clips[s : s + batch])
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return len(clips) / wall, len(clips) * (os.cpu_count() or 1) / max(cpu, 1e-9)


# (row label, load options) per model; the first is the reference for the cosine column.
VARIANTS = {
    "mert": [
        ("float32", {"dtype": "float32"}),
        ("bfloat16", {"dtype": "bfloat16"}),
        ("int8", {"dtype": "float32", "precision": "int8"}),
    ],
    "clap": [("float32", {"dtype": "float32"}), ("bfloat16", {"dtype": "bfloat16"})],
}


def run_one(
    model: str, n_clips: int, reps: int, corpus: Path | None = None, corpus_files: int = 160
) -> dict:
    """All variants loaded at once and timed in turn, `reps` rounds, best round kept: on a
    shared machine the load drifts, and interleaving gives every variant the same chances."""
    import numpy as np

    from studio.core.models.manager import ModelManager

    rows = []
    ncpu = os.cpu_count() or 1
    corpus_note = None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / model
        folder.mkdir()
        (build_mert if model == "mert" else build_clap)(folder)
        manager = ModelManager(Path(tmp) / "data", cache_dir=Path(tmp) / "hub")
        manager.link(model, folder)
        rng = np.random.default_rng(0)
        sr = 24000 if model == "mert" else 48000
        env = np.exp(-np.linspace(0, 8, sr)).astype(np.float32)
        clips = [rng.standard_normal(sr).astype(np.float32) * env for _ in range(n_clips)]
        embs, load_s, cos = {}, {}, {}
        for label, opts in VARIANTS[model]:
            t = time.perf_counter()
            embs[label] = manager.load(model, device="cpu", **opts)
            load_s[label] = time.perf_counter() - t
        ref = None
        for label, emb in embs.items():
            v = emb.embed_audio(clips[:16])  # also the warm-up
            ref = v if ref is None else ref
            cos[label] = float(np.min(np.sum(v * ref, axis=1)))
        best: dict[tuple[str, int], tuple[float, float]] = {}
        for _ in range(reps):
            for label, emb in embs.items():
                for batch in (1, 16):
                    n = clips[: max(batch * 2, 8)] if batch == 1 else clips
                    r = timed(emb, n, batch)
                    old = best.get((label, batch), (0.0, 0.0))
                    best[(label, batch)] = (max(old[0], r[0]), max(old[1], r[1]))
        for (label, batch), (wall, cpu) in best.items():
            rows.append((model, label, batch, wall, cpu, load_s[label], cos[label]))
        if corpus is not None:
            # Real one-shots as the back-fill feeds them: the dev corpus in its order, up to
            # the model's max_seconds, 16 at a time (MERT groups equal lengths only).
            import csv

            from studio.core.audio import decode

            with open(corpus / "manifest.csv", newline="", encoding="utf-8") as f:
                paths = [corpus / r["path"] for r in csv.DictReader(f)][:corpus_files]
            label = "bfloat16" if "bfloat16" in embs else "float32"
            emb = embs[label]
            real = [decode(str(p), sr=sr, max_seconds=emb.max_seconds).samples for p in paths]
            secs = sum(len(y) for y in real) / sr
            wall, cpu = timed(emb, real, 16)
            rows.append((f"{model}-dev", label, 16, wall, cpu, 0.0, None))
            corpus_note = f"{len(real)} dev-corpus files, {secs / len(real):.2f} s each on average"
        text_ms = None
        if model == "clap":
            emb = embs["float32"]
            times = []
            for i in range(21):
                emb._text_cache.clear()
                t = time.perf_counter()
                emb.embed_text([f"dusty lo-fi snare number {i}"])
                times.append(1000 * (time.perf_counter() - t))
            text_ms = statistics.median(times[1:])
            fe = emb._fe
            t, c = time.perf_counter(), time.process_time()
            fe(clips[:16], sampling_rate=48000, truncation="rand_trunc", return_tensors="np")
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            rows.append(("mel-ref", "float64", 16, 16 / wall, 16 * ncpu / cpu, 0.0, None))
            t, c = time.perf_counter(), time.process_time()
            emb._mel(clips[:16])  # what embed_audio uses
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            rows.append(("mel-torch", "float32", 16, 16 / wall, 16 * ncpu / cpu, 0.0, None))
        del embs
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows": rows,
        "rss_mb": rss,
        "text_ms": text_ms,
        "load": os.getloadavg(),
        "corpus": corpus_note,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", choices=["mert", "clap"])
    ap.add_argument("--clips", type=int, default=32)
    ap.add_argument("--threads", type=int, help="torch threads (default: the cores, up to 8)")
    ap.add_argument("--reps", type=int, default=2, help="timing rounds (best kept)")
    ap.add_argument("--corpus", type=Path, help="also time real one-shots: the dev corpus "
                    "(make_dev_corpus.py), its first --corpus-files files")
    ap.add_argument("--corpus-files", type=int, default=160)
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads:
        os.environ["STUDIO_THREADS"] = str(args.threads)
    if args.model:
        result = run_one(args.model, args.clips, args.reps, args.corpus, args.corpus_files)
        print(json.dumps(result) if args.json else result)
        return
    import torch

    threads = args.threads or min(os.cpu_count() or 1, 8)
    print(f"torch {torch.__version__}, {os.cpu_count()} CPU cores, {threads} intra-op threads")
    print(f"load average {os.getloadavg()[0]:.1f} (a shared machine makes wall-clock figures low)")
    from studio.core.models import device

    torch.set_num_threads(threads)
    print(
        f"automatic CPU precision here: MERT {device.pick_dtype('cpu', matmul_bound=True)}, "
        f"CLAP {device.pick_dtype('cpu')} (bf16 instructions: {device.cpu_has_native_bf16()}; "
        f"bf16/fp32 matmul speed {device.bf16_speedup():.2f}x)"
    )
    print(
        f"{'model':<9} {'variant':<9} {'batch':>5} {'wall /s':>8} {'cpu-est /s':>10} {'target':>7} "
        f"{'load s':>7} {'cos fp32':>8}"
    )
    extras = []
    for model in ("mert", "clap"):
        # One process per model so peak RSS is that model's own.
        out = subprocess.run(
            [sys.executable, __file__, "--model", model, "--clips", str(args.clips), "--json"]
            + ["--reps", str(args.reps)]
            + (["--threads", str(args.threads)] if args.threads else [])
            + (["--corpus", str(args.corpus), "--corpus-files", str(args.corpus_files)]
               if args.corpus else []),
            capture_output=True,
            text=True,
        )
        if out.returncode:
            print(out.stderr[-2000:])
            continue
        res = json.loads(out.stdout.strip().splitlines()[-1])
        for name, dtype, batch, rate, cpu_rate, load_s, cos in res["rows"]:
            target = TARGET.get(name.split("-")[0])
            mark = "" if target is None else ("ok" if cpu_rate >= target else "MISS")
            print(
                f"{name:<9} {dtype:<9} {batch:>5} {rate:>8.1f} {cpu_rate:>10.1f} {mark:>7} "
                f"{load_s:>7.1f} {'' if cos is None else f'{cos:.5f}':>8}"
            )
        extras.append(
            f"{model}: peak RSS {res['rss_mb']:.0f} MB (all variants loaded), load average at "
            f"the end {res['load'][0]:.1f}"
        )
        if res.get("corpus"):
            extras.append(f"{model}-dev: {res['corpus']}")
        if res["text_ms"] is not None:
            ok = "ok" if res["text_ms"] <= 100 else "MISS"
            extras.append(f"clap text query: {res['text_ms']:.1f} ms median ({ok}, target <= 100)")
    print("\n".join(extras))


if __name__ == "__main__":
    main()
