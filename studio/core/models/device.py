"""Where a neural embedder runs (CUDA, Apple MPS or CPU) and in what precision.

Chosen automatically and overridable by argument or environment (STUDIO_DEVICE,
STUDIO_DTYPE). torch is imported inside the functions only: importing this module is free.
"""

from __future__ import annotations

import os
from typing import Any

DEVICES = ("cuda", "mps", "cpu")
DTYPES = ("float32", "float16", "bfloat16")
_DTYPE_ALIASES = {
    "fp32": "float32",
    "float32": "float32",
    "fp16": "float16",
    "half": "float16",
    "float16": "float16",
    "bf16": "bfloat16",
    "bfloat16": "bfloat16",
}
MAX_THREADS = 8


def pick_device(requested: str | None = None) -> str:
    """The device to run on: the argument, else STUDIO_DEVICE, else the best one present."""
    import torch

    want = (requested or os.environ.get("STUDIO_DEVICE") or "auto").strip().lower()
    if want == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    base = want.split(":", 1)[0]
    if base not in DEVICES:
        raise ValueError(f"unknown device {want!r}: use one of auto, cuda, mps, cpu")
    if base == "cuda" and not torch.cuda.is_available():
        raise ValueError("STUDIO_DEVICE asks for cuda but no CUDA GPU is available")
    if base == "mps" and not torch.backends.mps.is_available():
        raise ValueError("STUDIO_DEVICE asks for mps but Apple MPS is not available")
    return want


CPUINFO = "/proc/cpuinfo"


def cpu_has_native_bf16(cpuinfo: str = CPUINFO) -> bool:
    """Whether the CPU has bf16 instructions (AVX512-BF16 or AMX-BF16; read on Linux only).

    Without them torch emulates bf16 and it is slower than fp32 (MERT 9.0 vs 12.5 one-shots/s
    on an AVX-512 CPU without them); with them it is faster (bench/bench_models.py on an EPYC
    with AVX512-BF16: MERT 16.1 vs 7.0, CLAP 6.4 vs 2.3 one-shots/s, batch 16).
    """
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[-1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


# bf16 is chosen on a CPU only when its matmuls run at least this much faster than fp32's.
BF16_MIN_SPEEDUP = 1.25
_bf16_speedup_cache: float | None = None


def bf16_speedup() -> float:
    """How many times faster torch multiplies bf16 matrices than fp32 ones on this CPU, as
    measured (once per process, ~30 ms): a transformer layer's matmul, best of 5 each.

    The flags do not settle it. On an EPYC with AVX512-BF16 bf16 runs MERT 2.3x as fast; on
    a Xeon (Emerald Rapids, AMX not exposed to the VM) with the same flags it is 0.4x for
    this matmul, and MERT at batch 16 ran 7.0 one-shots/s in bf16 against 8.5 in fp32.
    """
    global _bf16_speedup_cache
    if _bf16_speedup_cache is None:
        import time

        import torch

        def best(dt: Any) -> float:
            a = torch.randn(256, 768).to(dt)
            w = torch.randn(768, 768).to(dt)
            times = []
            with torch.inference_mode():
                a @ w
                for _ in range(5):
                    t = time.perf_counter()
                    a @ w
                    times.append(time.perf_counter() - t)
            return min(times)

        try:
            fp32, bf16 = best(torch.float32), best(torch.bfloat16)
            _bf16_speedup_cache = fp32 / max(bf16, 1e-9)
        except RuntimeError:  # a build without bf16 matmuls
            _bf16_speedup_cache = 0.0
    return _bf16_speedup_cache


def pick_dtype(device: str, requested: str | None = None, *, matmul_bound: bool = False) -> str:
    """Precision: the argument, else STUDIO_DTYPE, else fp16 on CUDA, bf16 on a CPU with bf16
    instructions (see cpu_has_native_bf16), fp32 elsewhere. A `matmul_bound` model (MERT:
    dense convolutions and matmuls) takes bf16 only where its matmuls are measured faster
    (bf16_speedup). CLAP, whose large activations make it memory-bound, gains from bf16 on
    every CPU with the instructions measured so far: batch 16, 3.7 against 2.6 one-shots/s on
    the Xeon above where MERT loses, 6.4 against 2.3 on the EPYC.

    Half precision moves embeddings slightly (cosine 0.9999 to fp32's on random weights), far
    less than the neighbours' spacing, so vectors made in either precision share one index.
    """
    want = (requested or os.environ.get("STUDIO_DTYPE") or "auto").strip().lower()
    if want == "auto":
        if device.startswith("cuda"):
            return "float16"
        if device == "cpu" and cpu_has_native_bf16() and (
            not matmul_bound or bf16_speedup() >= BF16_MIN_SPEEDUP
        ):
            return "bfloat16"
        return "float32"
    if want not in _DTYPE_ALIASES:
        raise ValueError(f"unknown dtype {want!r}: use one of auto, fp32, fp16, bf16")
    dtype = _DTYPE_ALIASES[want]
    if dtype == "float16" and device == "cpu":
        # fp16 matmuls on CPU are slow or unsupported; bf16 is the CPU half type.
        return "bfloat16"
    return dtype


def torch_dtype(name: str) -> Any:
    import torch

    return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[name]


def configure_threads() -> None:
    """Intra-op threads = the cores we have (bounded), one inter-op thread.

    Called once before the first model loads; inter-op threads can only be set before torch
    starts parallel work, so a failure there is ignored.
    """
    import torch

    env = os.environ.get("STUDIO_THREADS")
    n = int(env) if env and env.isdigit() else min(os.cpu_count() or 1, MAX_THREADS)
    if torch.get_num_threads() != n:
        torch.set_num_threads(max(1, n))
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass


def quantize_int8(module: Any) -> Any:
    """`module` with every nn.Linear replaced by a dynamically quantised int8 one (CPU).

    Weights are int8 per output channel; activations are quantised on the fly with a scale
    taken from the tensor at hand. torch takes that scale over the whole batch, which would
    make a clip's vector depend on its batch mates, so each quantised Linear runs its input
    one batch item at a time: a clip then gives the same vector alone or in any batch.
    """
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's notice that it moves to torchao
        q = torch.ao.quantization.quantize_dynamic(
            module, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
        )
    qlinear = torch.ao.nn.quantized.dynamic.Linear
    for parent in list(q.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, qlinear):
                setattr(parent, name, _per_item(child))
    return q


def _per_item(linear: Any) -> Any:
    import torch

    class PerItemLinear(torch.nn.Module):
        """Runs `linear` on each item of a batch (dim 0) separately when the input has a
        batch and a sequence axis, so dynamic activation scales are per item."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: Any) -> Any:
            if x.dim() < 3 or x.shape[0] == 1:
                return self.inner(x)
            return torch.stack([self.inner(x[i]) for i in range(x.shape[0])])

    return PerItemLinear(linear)
