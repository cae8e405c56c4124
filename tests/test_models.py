"""MERT, CLAP and the model manager, driven with tiny random models built offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from studio.core.embedders.base import EmbedderUnavailable
from studio.core.models import download as dl
from studio.core.models.manager import ModelManager
from studio.core.models.specs import FolderError

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_models import build_tiny_clap, build_tiny_mert  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def mert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_mert(tmp_path_factory.mktemp("models") / "MERT-v1-95M")


@pytest.fixture(scope="session")
def clap_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_clap(tmp_path_factory.mktemp("models") / "larger_clap_music")


@pytest.fixture
def manager(tmp_path: Path) -> ModelManager:
    return ModelManager(tmp_path / "data", cache_dir=tmp_path / "hf-cache")


@pytest.fixture(scope="session")
def mert(mert_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    m = ModelManager(tmp_path_factory.mktemp("data"), cache_dir=tmp_path_factory.mktemp("c"))
    m.link("mert", mert_dir)
    return m.load("mert", device="cpu")


@pytest.fixture(scope="session")
def clap(clap_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    m = ModelManager(tmp_path_factory.mktemp("data"), cache_dir=tmp_path_factory.mktemp("c"))
    m.link("clap", clap_dir)
    return m.load("clap", device="cpu")


def _noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(n).astype(np.float32) * 0.3


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# --- import hygiene ---------------------------------------------------------------------------
def test_import_does_not_load_torch() -> None:
    code = (
        "import sys, studio.core.models, studio.core.models.manager, studio.cli_models\n"
        "bad = [m for m in ('torch', 'transformers', 'huggingface_hub') if m in sys.modules]\n"
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# --- status and linking -----------------------------------------------------------------------
def test_status_missing_then_linked_ready(manager: ModelManager, mert_dir: Path) -> None:
    s = manager.status("mert")
    assert (s.state, s.path, s.licence, s.repo_id) == (
        "missing",
        None,
        "CC-BY-NC-4.0",
        "m-a-p/MERT-v1-95M",
    )
    assert "studio models download mert" in (s.reason or "")
    s = manager.link("mert", mert_dir)
    assert s.state == "ready" and s.path == str(mert_dir.resolve()) and s.size_bytes > 0
    # Persisted, versioned, seen by a fresh manager (another process).
    data = json.loads((manager.data_dir / "models.json").read_text())
    assert data["version"] == 1 and data["links"]["mert"] == str(mert_dir.resolve())
    again = ModelManager(manager.data_dir, cache_dir=manager.cache_dir)
    assert [s.state for s in again.list()] == ["ready", "missing"]


def test_found_in_hub_cache(manager: ModelManager, clap_dir: Path) -> None:
    assert manager.cache_dir is not None
    repo = manager.cache_dir / "models--laion--larger_clap_music"
    sha = "0" * 40
    _copy(clap_dir, repo / "snapshots" / sha)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(sha)
    s = manager.status("clap")
    assert s.state == "ready" and s.path == str(repo / "snapshots" / sha)


def test_link_truncated_weights(manager: ModelManager, mert_dir: Path, tmp_path: Path) -> None:
    bad = _copy(mert_dir, tmp_path / "bad")
    w = bad / "model.safetensors"
    w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    with pytest.raises(FolderError, match="truncated"):
        manager.link("mert", bad)
    assert manager.status("mert").state == "missing"


def test_link_missing_config(manager: ModelManager, mert_dir: Path, tmp_path: Path) -> None:
    bad = _copy(mert_dir, tmp_path / "bad")
    (bad / "config.json").unlink()
    with pytest.raises(FolderError, match="missing config.json"):
        manager.link("mert", bad)


def test_link_a_config_with_no_model_type(manager: ModelManager, mert_dir: Path,
                                          tmp_path: Path) -> None:
    """It said "holds a None model" (review 10)."""
    bad = _copy(mert_dir, tmp_path / "bad")
    (bad / "config.json").write_text("{}")
    with pytest.raises(FolderError, match="names no model_type") as e:
        manager.link("mert", bad)
    assert "None" not in str(e.value)


def test_link_wrong_model(manager: ModelManager, mert_dir: Path, clap_dir: Path) -> None:
    with pytest.raises(FolderError, match="studio models link clap"):
        manager.link("mert", clap_dir)
    with pytest.raises(FolderError, match="link mert"):
        manager.link("clap", mert_dir)


def test_link_mismatched_shapes(manager: ModelManager, mert_dir: Path, tmp_path: Path) -> None:
    bad = _copy(mert_dir, tmp_path / "bad")
    cfg = json.loads((bad / "config.json").read_text())
    cfg["hidden_size"] = 64
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(FolderError, match="do not match"):
        manager.link("mert", bad)


def test_link_refuses_cqt_mert(manager: ModelManager, mert_dir: Path, tmp_path: Path) -> None:
    bad = _copy(mert_dir, tmp_path / "bad")
    cfg = json.loads((bad / "config.json").read_text())
    cfg["feature_extractor_cqt"] = True
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(FolderError, match="CQT"):
        manager.link("mert", bad)


def test_load_missing_says_what_to_do(manager: ModelManager) -> None:
    with pytest.raises(EmbedderUnavailable, match="studio models link clap"):
        manager.load("clap")


def test_corrupted_after_link(manager: ModelManager, clap_dir: Path, tmp_path: Path) -> None:
    folder = _copy(clap_dir, tmp_path / "clap")
    manager.link("clap", folder)
    w = folder / "model.safetensors"
    w.write_bytes(w.read_bytes()[:1000])
    with pytest.raises(EmbedderUnavailable, match="truncated"):
        manager.load("clap")
    (folder / "config.json").unlink()
    s = manager.status("clap")
    assert s.state == "failed" and "config.json" in (s.reason or "")


# --- downloading ------------------------------------------------------------------------------
def test_download_offline_fails_at_once(manager: ModelManager, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t = time.monotonic()
    with pytest.raises(dl.DownloadError, match="studio models link mert /path/to/MERT-v1-95M"):
        manager.download("mert")
    assert time.monotonic() - t < 1.0
    assert manager.status("mert").state == "missing"


def test_failed_download_is_reported(manager: ModelManager, mert_dir: Path, monkeypatch) -> None:
    assert manager.cache_dir is not None
    hub = _fake_hub(monkeypatch, mert_dir, manager.cache_dir)

    def broken(*args, **kwargs):
        raise ConnectionError("connection reset by peer")

    monkeypatch.setattr(hub, "hf_hub_download", broken)
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", broken)
    with pytest.raises(dl.DownloadError, match="connection reset"):
        manager.download("mert")
    s = manager.status("mert")
    assert s.state == "failed" and "connection reset" in (s.reason or "")


def test_downloading_state_seen_by_other_process(manager: ModelManager) -> None:
    marker = manager.data_dir / "models" / "clap.download.json"
    marker.parent.mkdir(parents=True)
    marker.write_text(
        json.dumps({"state": "downloading", "pid": os.getpid(), "done": 25, "total": 100})
    )
    s = manager.status("clap")
    assert s.state == "downloading" and s.percent == pytest.approx(25.0)
    # A download whose process died is reported as interrupted, not as running forever.
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    marker.write_text(json.dumps({"state": "downloading", "pid": int(dead), "done": 5, "total": 9}))
    s = manager.status("clap")
    assert s.state == "failed" and "resume" in (s.reason or "")


class _FakeHub:
    """Stands in for the hub: lists the tiny folder's files and 'downloads' them in chunks."""

    def __init__(self, src: Path, cache: Path) -> None:
        self.src, self.cache, self.calls = src, cache, []

    def model_info(self, repo_id: str, files_metadata: bool = False, timeout=None):
        from types import SimpleNamespace as NS

        # A hub that accepts and never answers must not hang the listing forever.
        assert timeout is not None and 0 < timeout <= 60

        sib = [NS(rfilename=p.name, size=p.stat().st_size) for p in self.src.iterdir()]
        sib.append(NS(rfilename="pytorch_model.bin", size=10**9))  # filtered by allow_patterns
        return NS(siblings=sib, sha="1" * 40)

    def hf_hub_download(self, repo_id: str, name: str, revision: str, cache_dir: str, tqdm_class):
        self.calls.append(name)
        size = (self.src / name).stat().st_size
        bar = tqdm_class(total=size, initial=0)
        for _ in range(0, size, 4096):
            bar.update(min(4096, size))
        snap = Path(cache_dir) / "models--m-a-p--MERT-v1-95M" / "snapshots" / revision
        snap.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.src / name, snap / name)
        (snap.parent.parent / "refs").mkdir(exist_ok=True)
        (snap.parent.parent / "refs" / "main").write_text(revision)
        return str(snap / name)


def _fake_hub(monkeypatch, src: Path, cache: Path) -> _FakeHub:
    import huggingface_hub

    hub = _FakeHub(src, cache)
    monkeypatch.setattr(dl, "offline_reason", lambda: None)
    monkeypatch.setattr(huggingface_hub, "HfApi", lambda: hub)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", hub.hf_hub_download)
    return hub


def test_download_progress_then_ready(manager: ModelManager, mert_dir: Path, monkeypatch) -> None:
    assert manager.cache_dir is not None
    hub = _fake_hub(monkeypatch, mert_dir, manager.cache_dir)
    seen: list[tuple[int, int]] = []
    s = manager.download("mert", progress=lambda d, t: seen.append((d, t)))
    assert "pytorch_model.bin" not in hub.calls and "model.safetensors" in hub.calls
    total = sum(p.stat().st_size for p in mert_dir.iterdir())
    assert seen[-1] == (total, total) and all(d <= t for d, t in seen)
    assert s.state == "ready" and not (manager.data_dir / "models" / "mert.download.json").exists()


def test_download_cancel(manager: ModelManager, mert_dir: Path, monkeypatch) -> None:
    assert manager.cache_dir is not None
    _fake_hub(monkeypatch, mert_dir, manager.cache_dir)
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    with pytest.raises(dl.DownloadCancelled):
        manager.download("mert", should_stop=stop)
    assert manager.status("mert").state == "missing"


# --- MERT -------------------------------------------------------------------------------------
def test_mert_shapes_and_id(mert) -> None:
    assert (mert.name, mert.id, mert.sample_rate, mert.supports_text) == (
        "mert",
        "mert-v1-95m-l6-mean-trim60",
        24000,
        False,
    )
    v = mert.embed_audio([_noise(24000, 0), _noise(300, 1)])
    assert v.shape == (2, mert.dim) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_mert_batch_independent_and_deterministic(mert) -> None:
    clips = [_noise(n, i) for i, n in enumerate((24000, 7000, 24000, 13000, 7000))]
    together = mert.embed_audio(clips)
    alone = np.stack([mert.embed_audio([c])[0] for c in clips])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_array_equal(mert.embed_audio(clips), together)


def test_mert_ignores_trailing_silence(mert) -> None:
    hit = _noise(12000, 7) * np.exp(-np.linspace(0, 12, 12000)).astype(np.float32)
    padded = np.concatenate([hit, np.zeros(30000, np.float32)])
    a, b = mert.embed_audio([hit, padded])
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_mert_layers_and_pooling_override(mert_dir: Path, manager: ModelManager) -> None:
    manager.link("mert", mert_dir)
    e = manager.load("mert", device="cpu", layers=(4, 5, 6), pooling="meanstd", trim_db=None)
    assert e.id == "mert-v1-95m-l4-6-meanstd" and e.dim == 64
    assert e.embed_audio([_noise(9000, 3)]).shape == (1, 64)
    with pytest.raises(EmbedderUnavailable, match="layers"):
        manager.load("mert", layers=(13,))


def test_mert_int8_own_id_batch_independent_close(
    mert, mert_dir: Path, manager: ModelManager
) -> None:
    manager.link("mert", mert_dir)
    q = manager.load("mert", device="cpu", precision="int8")
    assert q.id == "mert-v1-95m-l6-mean-trim60-int8" and q.id != mert.id and q.dim == mert.dim
    clips = [_noise(n, i) for i, n in enumerate((24000, 7000, 24000, 13000, 7000))]
    together = q.embed_audio(clips)
    alone = np.stack([q.embed_audio([c])[0] for c in clips])
    # activation scales are per clip, so batch mates do not move a clip's vector
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_array_equal(q.embed_audio(clips), together)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    cos = np.sum(together * mert.embed_audio(clips), axis=1)
    assert cos.min() > 0.98, cos
    with pytest.raises(EmbedderUnavailable, match="precision"):
        manager.load("mert", device="cpu", precision="int4")


def test_quantize_int8_per_item() -> None:
    import torch

    from studio.core.models.device import quantize_int8

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.Linear(32, 8))
    q = quantize_int8(net)
    x = torch.randn(3, 5, 16)
    x[1] *= 50.0  # one loud item must not coarsen the others' quantisation
    with torch.inference_mode():
        together = q(x)
        alone = torch.cat([q(x[i : i + 1]) for i in range(3)])
        ref = net(x)
    torch.testing.assert_close(together, alone, rtol=0, atol=0)
    cos = torch.nn.functional.cosine_similarity(together.flatten(1), ref.flatten(1))
    assert float(cos.min()) > 0.99


# --- CLAP -------------------------------------------------------------------------------------
def test_clap_batch_independent_and_deterministic(clap) -> None:
    assert clap.supports_text and clap.sample_rate == 48000
    clips = [_noise(48000, 0), _noise(5000, 1), _noise(48000 * 12, 2), np.zeros(100, np.float32)]
    together = clap.embed_audio(clips)
    assert together.shape == (4, clap.dim)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    alone = np.stack([clap.embed_audio([c])[0] for c in clips])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_array_equal(clap.embed_audio(clips[2:3]), clap.embed_audio(clips[2:3]))


def test_clap_fast_mel_matches_feature_extractor(clap) -> None:
    clips = [_noise(48000, 4), _noise(777, 5), _noise(48000 * 10, 6)]
    clips = [clap._prepare(c) for c in clips]
    np.testing.assert_allclose(
        clap._mel(clips).numpy(), clap._mel_reference(clips).numpy(), atol=2e-3, rtol=0
    )


def test_clap_text(clap) -> None:
    texts = ["dusty lo-fi snare", "kick", "punchy 808 boom with reverb"]
    clap._text_cache.clear()
    batch = clap.embed_text(texts)
    assert batch.shape == (3, clap.dim) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    clap._text_cache.clear()
    alone = np.stack([clap.embed_text([t])[0] for t in texts])
    np.testing.assert_allclose(batch, alone, atol=1e-5)
    assert not np.allclose(batch[0], batch[1])
    np.testing.assert_array_equal(clap.embed_text(["kick", "kick"])[1], alone[1])


# --- device -----------------------------------------------------------------------------------
def test_device_and_dtype(monkeypatch) -> None:
    from studio.core.models import device
    from studio.core.models.device import pick_device, pick_dtype

    monkeypatch.setenv("STUDIO_DEVICE", "cpu")
    assert pick_device() == "cpu"
    with pytest.raises(ValueError):
        pick_device("tpu")
    assert pick_dtype("cuda") == "float16"
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: False)
    assert pick_dtype("cpu") == "float32"
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: True)
    monkeypatch.setattr(device, "bf16_speedup", lambda: 0.4)  # flags, but slow bf16 matmuls
    assert pick_dtype("cpu", matmul_bound=True) == "float32"
    assert pick_dtype("cpu") == "bfloat16"  # a memory-bound model (CLAP) still gains
    monkeypatch.setattr(device, "bf16_speedup", lambda: 2.0)
    assert pick_dtype("cpu", matmul_bound=True) == "bfloat16"
    assert pick_dtype("cpu") == "bfloat16" and pick_dtype("mps") == "float32"
    assert pick_dtype("cpu", "fp32") == "float32"
    monkeypatch.setenv("STUDIO_DTYPE", "bf16")
    assert pick_dtype("cpu") == "bfloat16"
    assert pick_dtype("cpu", "fp16") == "bfloat16"


def test_automatic_precision_per_model(monkeypatch, manager, mert_dir, clap_dir) -> None:
    """On a CPU with bf16 instructions whose bf16 matmuls are slow, MERT loads in fp32 and
    CLAP in bf16 (each the faster there); an explicit STUDIO_DTYPE still wins."""
    from studio.core.models import device

    monkeypatch.delenv("STUDIO_DTYPE", raising=False)
    monkeypatch.setattr(device, "cpu_has_native_bf16", lambda: True)
    monkeypatch.setattr(device, "bf16_speedup", lambda: 0.5)
    manager.link("mert", mert_dir)
    manager.link("clap", clap_dir)
    assert manager.load("mert", device="cpu").dtype == "float32"
    assert manager.load("clap", device="cpu").dtype == "bfloat16"
    monkeypatch.setenv("STUDIO_DTYPE", "bf16")
    assert manager.load("mert", device="cpu").dtype == "bfloat16"


def test_bf16_speedup_is_measured_once(monkeypatch) -> None:
    """The automatic CPU precision rests on a measured bf16/fp32 matmul ratio; it is taken
    once per process (a model load must not pay it twice)."""
    from studio.core.models import device

    monkeypatch.setattr(device, "_bf16_speedup_cache", None)
    first = device.bf16_speedup()
    assert first > 0 and first == device._bf16_speedup_cache
    monkeypatch.setattr(device, "_bf16_speedup_cache", 123.0)
    assert device.bf16_speedup() == 123.0


@pytest.mark.parametrize(
    ("flags", "want"),
    [("fpu sse avx512f avx512_bf16 avx512_vnni", True), ("fpu amx_bf16 amx_tile", True),
     ("fpu sse avx512f avx512bw avx512_vnni", False)],
)  # fmt: skip
def test_native_bf16_from_cpu_flags(tmp_path, flags: str, want: bool) -> None:
    from studio.core.models.device import cpu_has_native_bf16

    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel name\t: x\nflags\t\t: {flags}\n")
    assert cpu_has_native_bf16(str(info)) is want
    assert cpu_has_native_bf16(str(tmp_path / "missing")) is False
