"""Every test isolates itself: a temp data dir, offscreen Qt, no network."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("STUDIO_WORKERS", "2")

KITS_DIR = "/usr/share/hydrogen/data/drumkits"
CORPUS_SCRIPT = (
    Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "make_dev_corpus.py"
)


@pytest.fixture(autouse=True)
def _isolated_data_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    d = tmp_path_factory.mktemp("studio-data")
    monkeypatch.setenv("STUDIO_DATA_DIR", str(d))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(d / "config"))
    # a developer's real Hugging Face cache must not leak into a test
    monkeypatch.setenv("HF_HOME", str(d / "hf-home"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return d


@pytest.fixture
def data_dir(_isolated_data_dir: Path) -> Path:
    return _isolated_data_dir


@pytest.fixture(scope="session")
def drum_kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of synthesised one-shots: 5 each of kick, snare, hats, clap, tom."""
    from studio.core.synth import write_kit

    d = tmp_path_factory.mktemp("kit")
    write_kit(d, per_voice=5)
    return d


@pytest.fixture
def kit_copy(drum_kit: Path, tmp_path: Path) -> Path:
    """A private copy of the synthesised kit that a test may change."""
    dst = tmp_path / "My Drums"
    shutil.copytree(drum_kit, dst)
    return dst


@pytest.fixture(scope="session")
def dev_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The anonymized Hydrogen dev corpus, or a skip that says how to get it."""
    if not os.path.isdir(KITS_DIR):
        pytest.skip("Hydrogen kits missing: apt-get install hydrogen-drumkits hydrogen-data")
    if not CORPUS_SCRIPT.exists():
        pytest.skip(f"corpus script not found at {CORPUS_SCRIPT}")
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run(
        [sys.executable, str(CORPUS_SCRIPT), str(out), "--anonymize"],
        check=True,
        capture_output=True,
    )
    return out
