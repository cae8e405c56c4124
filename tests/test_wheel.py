"""A plain (non-editable) install carries the shipped resources: the built-in embedder and
the drum classifier work from a wheel, away from the source checkout."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_install_finds_its_resources(tmp_path: Path) -> None:
    pytest.importorskip("setuptools", minversion="77")
    studio_command_before = (Path(sys.prefix) / "bin" / "studio").exists()
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(wheels), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel = next(wheels.glob("studio-*.whl"))
    env_dir = tmp_path / "env"
    subprocess.run(
        [Path(sys.base_prefix) / "bin" / "python3", "-m", "venv", "--without-pip", str(env_dir)],
        check=True,
    )
    # --ignore-installed: else pip uninstalls this environment's own (editable) studio first,
    # and the checkout's `studio` command is gone after the test.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--ignore-installed",
         "--prefix", str(env_dir), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    # The dependencies come from this environment's site-packages, added as a plain path: its
    # .pth files (the editable install of the checkout among them) are not run.
    (sp,) = (env_dir / "lib").glob("python3*/site-packages")
    (sp / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    code = (
        "import numpy as np, studio\n"
        "from studio.core.resources import resources_dir\n"
        "from studio.core.embedders.builtin import BuiltinEmbedder\n"
        "from studio.core.drums import analyze\n"
        "from studio.core.synth import voice, SR\n"
        "from studio.core.audio import resample\n"
        "y = resample(voice('kick', 3), SR, 22050)\n"
        "v = BuiltinEmbedder().embed_audio([y])\n"
        "a = analyze(y, duration=len(y) / 22050)\n"
        "print(studio.__file__, resources_dir(), v.shape, a['category'], sep='|')\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "STUDIO_RESOURCES")}
    out = subprocess.run(
        [env_dir / "bin" / "python", "-c", code], cwd=tmp_path, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    mod, res, shape, category = out.stdout.strip().split("|")
    assert Path(mod).is_relative_to(env_dir), mod
    assert Path(res) == (env_dir / "share" / "studio" / "resources").resolve()
    assert shape == "(1, 77)"
    assert category == "kick"
    # This environment's own install is untouched.
    assert (Path(sys.prefix) / "bin" / "studio").exists() == studio_command_before
