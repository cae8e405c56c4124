"""A small drum kit Studio synthesises itself, so a newcomer sees it work in seconds.

29 one-shots (kicks, snares, hats, claps, toms) from studio.core.synth, deterministic,
written as 16-bit WAVs into <data_dir>/demo-kit/<Category>/. Qt-free: the window calls
`make_demo_kit` on a worker.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from studio.core.synth import SR, voice

FOLDER_NAME = "demo-kit"
# (folder, synth voice, name in the file, how many)
KIT = (
    ("Kicks", "kick", "Kick", 6),
    ("Snares", "snare", "Snare", 6),
    ("Hats", "hihat_closed", "Closed Hat", 4),
    ("Hats", "hihat_open", "Open Hat", 2),
    ("Claps", "clap", "Clap", 5),
    ("Toms", "tom", "Tom", 6),
)


def _trim(y: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Cut the silent tail (below -60 dB of the peak), keeping 10 ms after the last sound."""
    loud = np.flatnonzero(np.abs(y) > floor * (np.max(np.abs(y)) or 1.0))
    end = int(loud[-1]) + int(0.01 * SR) if len(loud) else len(y)
    return y[: min(len(y), end)]


def make_demo_kit(data_dir: str | Path) -> Path:
    """Write the kit under data_dir/demo-kit (again, if it exists) and return that folder."""
    root = Path(data_dir) / FOLDER_NAME
    for group, kind, name, count in KIT:
        (root / group).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            hit = voice(kind, i)
            y = _trim(0.89 * hit / (np.max(np.abs(hit)) or 1.0))
            fade = min(len(y), int(0.005 * SR))
            y[-fade:] *= np.linspace(1, 0, fade)
            sf.write(
                root / group / f"Demo {name} {i + 1:02d}.wav",
                y.astype(np.float32),
                SR,
                subtype="PCM_16",
            )
    return root
