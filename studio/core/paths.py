"""Where Studio keeps its own data: --data-dir, else $STUDIO_DATA_DIR, else the platform's."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "Studio"
ENV_DATA_DIR = "STUDIO_DATA_DIR"


def is_inside(path: str, folder: str) -> bool:
    """Whether `path` is strictly inside `folder` (both absolute)."""
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def search_name(paths: list[str], roots: list[str]) -> str:
    """What a text search matches in a sound's names: for each of its paths (a sound shared
    by two packs has both), the folders from its library root's own folder down to the file
    ("Drums/Trap Kit/Kicks/kick1.wav"); a path under no root gives its folder and file."""
    parts = []
    for p in sorted(set(paths)):
        root = max((r for r in roots if is_inside(p, r)), key=len, default=None)
        if root is not None:
            base = os.path.dirname(root.rstrip(os.sep))
            parts.append(p[len(base) :].lstrip(os.sep) if base else p)
        else:
            parts.append(os.path.join(os.path.basename(os.path.dirname(p)), os.path.basename(p)))
    # Without the extension: "wav" in every name only costs the table a token.
    return " | ".join(os.path.splitext(p)[0] for p in parts)


def resolve_data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        p = Path(override)
    elif os.environ.get(ENV_DATA_DIR):
        p = Path(os.environ[ENV_DATA_DIR])
    else:
        p = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return p.expanduser().resolve()
