"""Project-level facts: version in one place, and the core's independence from Qt."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import studio

ROOT = Path(__file__).resolve().parents[1]


def test_version_matches_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert studio.__version__ == meta["project"]["version"]


def test_core_and_cli_import_without_qt_or_torch():
    code = ("import sys, studio.cli, studio.core.library, studio.core.search; "
            "bad = [m for m in ('PySide6', 'pyqtgraph', 'torch', 'transformers') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_shipped_resources_are_found(monkeypatch, tmp_path):
    from studio.core.resources import resource

    for parts in (("drums", "classifier.npz"), ("builtin", "builtin_v3.npz"),
                  ("ui", "dark.qss"), ("icons", "studio.svg")):
        assert resource(*parts).is_file(), parts
    monkeypatch.setenv("STUDIO_RESOURCES", str(tmp_path))
    assert resource("drums", "classifier.npz") == tmp_path / "drums" / "classifier.npz"
