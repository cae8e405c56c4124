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


def resolve_data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        p = Path(override)
    elif os.environ.get(ENV_DATA_DIR):
        p = Path(os.environ[ENV_DATA_DIR])
    else:
        p = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return p.expanduser().resolve()
