"""The app's remembered settings, declared once with types and defaults.

Stored with QSettings in INI format inside the data dir (`studio-ui.ini`), so a test's temp
data dir gets fresh settings. Library folders are not here: they live in the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings


@dataclass(frozen=True)
class Key:
    name: str
    default: Any
    type: type


AUTO_PLAY = Key("audition/auto_play", True, bool)
OUTPUT_DEVICE = Key("audition/output_device", "", str)  # "" = the system default
VOLUME = Key("audition/volume", 0.9, float)
LAST_FOLDER = Key("library/last_folder", "", str)
BACKFILL_MODELS = Key("models/backfill", True, bool)  # embed with MERT/CLAP once they're ready
RESULT_COUNT = Key("search/k", 200, int)
GEOMETRY = Key("window/geometry", QByteArray(), QByteArray)
STATE = Key("window/state", QByteArray(), QByteArray)
SPLIT_MAIN = Key("window/split_main", [], list)
SPLIT_RIGHT = Key("window/split_right", [], list)

FILE_NAME = "studio-ui.ini"


class Settings:
    """Typed access to QSettings; `get(KEY)` always returns KEY's type."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self.qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def get(self, key: Key) -> Any:
        raw: Any = self.qs.value(key.name, None)
        if raw is None:
            return key.default
        try:
            if key.type is bool:
                return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
            if key.type is list:
                items = raw if isinstance(raw, list) else [raw]
                return [int(x) for x in items]
            if key.type is QByteArray:
                return raw if isinstance(raw, QByteArray) else QByteArray(raw)
            return key.type(raw)
        except (TypeError, ValueError):
            return key.default

    def set(self, key: Key, value: Any) -> None:
        self.qs.setValue(key.name, value)

    def sync(self) -> None:
        self.qs.sync()
