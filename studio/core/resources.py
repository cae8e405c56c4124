"""Where Studio's shipped files (models it learned, icons, styles) are found.

In order: $STUDIO_RESOURCES when set; inside a PyInstaller bundle, `<bundle>/resources`; the
`resources/` folder beside the `studio` package (a source checkout or editable install);
else the copy a wheel installs as data files, `<prefix>/share/studio/resources` (found
through the installed distribution's file list, so `pip install --user` works too).
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

# A file every complete resources folder has; used to tell a real folder from a stray one.
MARKER = ("builtin", "builtin_v3.npz")


def _installed() -> Path | None:
    """The resources folder a wheel install put under its data prefix, if any."""
    from importlib import metadata

    try:
        files = metadata.files("studio") or []
        dist = metadata.distribution("studio")
    except metadata.PackageNotFoundError:
        return None
    want = "/".join(("share", "studio", "resources", *MARKER))
    for f in files:
        if str(f).replace("\\", "/").endswith(want):
            return Path(str(dist.locate_file(f))).resolve().parents[len(MARKER) - 1]
    return None


@lru_cache(maxsize=1)
def _found() -> Path:
    beside = Path(__file__).resolve().parents[2] / "resources"
    if beside.joinpath(*MARKER).is_file():
        return beside
    installed = _installed()
    return installed if installed is not None and installed.joinpath(*MARKER).is_file() else beside


def resources_dir() -> Path:
    env = os.environ.get("STUDIO_RESOURCES")
    if env:
        return Path(env)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return _found()


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
