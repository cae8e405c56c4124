"""Show in folder on Linux asks the freedesktop file manager (FileManager1.ShowItems) to
select the files, without blocking the window, and opens their folders when nothing answers.
Driven on a private session bus (dbus-run-session), with a stand-in file manager."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = r'''
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
sys.path.insert(0, sys.argv[2])
from PySide6.QtCore import ClassInfo, QObject, QTimer, Slot
from PySide6.QtDBus import QDBusConnection
from PySide6.QtWidgets import QApplication

app = QApplication([])
from studio.ui import actions

opened, got = [], []
actions._open_folders = lambda folders: opened.append(folders)


@ClassInfo({"D-Bus Interface": "org.freedesktop.FileManager1"})
class FileManager(QObject):
    @Slot("QStringList", str)
    def ShowItems(self, uris, startup):
        got.append(list(uris))


bus = QDBusConnection.sessionBus()
fm = FileManager()
if sys.argv[1] == "with-file-manager":
    assert bus.registerService("org.freedesktop.FileManager1")
    assert bus.registerObject("/org/freedesktop/FileManager1", fm,
                              QDBusConnection.RegisterOption.ExportAllSlots)
actions.reveal(["/tmp/Kicks/k1.wav", "/tmp/Snares/s1.wav"])
QTimer.singleShot(1500, app.quit)
app.exec()
print(repr((got, opened)))
'''


@pytest.mark.skipif(not sys.platform.startswith("linux") or not shutil.which("dbus-run-session"),
                    reason="needs Linux and dbus-run-session (Debian package dbus-daemon)")
@pytest.mark.parametrize("mode", ["with-file-manager", "without"])
def test_show_in_folder_selects_files_through_the_file_manager(mode: str, tmp_path: Path) -> None:
    script = tmp_path / "reveal.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    r = subprocess.run(["dbus-run-session", "--", sys.executable, str(script), mode, str(ROOT)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    got, opened = eval(r.stdout.strip().splitlines()[-1])  # noqa: S307 - our own repr
    if mode == "with-file-manager":
        assert got == [["file:///tmp/Kicks/k1.wav", "file:///tmp/Snares/s1.wav"]]
        assert opened == []
    else:
        assert got == [] and opened == [["/tmp/Kicks", "/tmp/Snares"]]
