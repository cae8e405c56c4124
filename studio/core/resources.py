"""Where Studio's shipped files (models it learned, icons, styles) are found.

$STUDIO_RESOURCES when set; inside a PyInstaller bundle, `<bundle>/resources`; otherwise the
`resources/` folder beside the `studio` package (a source checkout or editable install).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    env = os.environ.get("STUDIO_RESOURCES")
    if env:
        return Path(env)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
