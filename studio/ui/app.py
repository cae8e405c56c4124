"""Start the desktop app: `studio` with no command, or `studio --data-dir DIR`.

Only what the first frame needs is imported before the window shows; pyqtgraph, the audio
device, the model manager and indexing all start after it is on screen.

Environment hooks (used by bench/ and for screenshots):
  STUDIO_STARTUP_PROBE=1      print {"shown_s", "torch_loaded"} as JSON when the window is
                              first exposed, then quit.
  STUDIO_SCREENSHOT=FILE.png  save a grab of the window after STUDIO_SCREENSHOT_DELAY_MS
                              (default 2000); with STUDIO_SCREENSHOT_QUIT=1 quit afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

_T0 = time.monotonic()


def process_age() -> float | None:
    """Seconds since this process started (Linux), else since this module was imported."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def data_dir_arg(argv: list[str]) -> str | None:
    """The app's --data-dir (the last one given; "" when it has no value), or None."""
    data_dir = None
    it = iter(argv)
    for a in it:
        if a == "--data-dir":
            data_dir = next(it, "")
        elif a.startswith("--data-dir="):
            data_dir = a.split("=", 1)[1]
    return data_dir


def _probe(window: object) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    assert isinstance(window, QWidget)

    def check() -> None:
        handle = window.windowHandle()
        if handle is not None and handle.isExposed():
            age = process_age()
            print(json.dumps({"shown_s": round(age if age is not None else
                                               time.monotonic() - _T0, 4),
                              "since_import_s": round(time.monotonic() - _T0, 4),
                              "torch_loaded": "torch" in sys.modules}), flush=True)
            QApplication.instance().quit()  # type: ignore[union-attr]
        else:
            QTimer.singleShot(2, check)

    QTimer.singleShot(0, check)


def _screenshot(window: object, path: str) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    assert isinstance(window, QWidget)

    def grab() -> None:
        window.grab().save(path)
        print(f"screenshot: {path}", flush=True)
        if os.environ.get("STUDIO_SCREENSHOT_QUIT") == "1":
            window.close()
            QApplication.instance().quit()  # type: ignore[union-attr]

    QTimer.singleShot(int(os.environ.get("STUDIO_SCREENSHOT_DELAY_MS", "2000")), grab)


def prepare_process() -> None:
    """Process-wide settings the window relies on (also used by bench/ui_stall.py)."""
    from studio.ui.compat import guard_singleton_refcounts


    guard_singleton_refcounts()
    # The GUI thread waits at most ~2 ms for the GIL when the indexing thread computes
    # (Python's default is 5 ms, which alone eats a 60 Hz frame when several threads run).
    sys.setswitchinterval(0.002)


def run_app(argv: list[str]) -> int:
    """Open the main window on the library in --data-dir (or the default one); blocks."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from studio.core.library import Library
    from studio.ui import style
    from studio.ui.main_window import MainWindow
    from studio.ui.settings import Settings

    prepare_process()
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName("Studio")
    app.setOrganizationName("Studio")
    app.setDesktopFileName("io.github.studio.Studio")  # matches resources/linux
    style.apply(app)
    try:
        lib = Library(data_dir_arg(argv))
    except Exception as e:  # noqa: BLE001 - the user needs a reason, not a traceback
        QMessageBox.critical(None, "Studio", f"Cannot open the library: {e}\n\n"
                             "Start with --data-dir pointing at another folder, or move the "
                             "broken one away (it is rebuilt from your samples).")
        return 1
    window = MainWindow(lib, Settings(lib.data_dir))
    window.show()
    if os.environ.get("STUDIO_STARTUP_PROBE") == "1":
        _probe(window)
    if os.environ.get("STUDIO_SCREENSHOT"):
        _screenshot(window, os.environ["STUDIO_SCREENSHOT"])
    # Let Ctrl+C in the terminal close the window cleanly (Python only sees signals between
    # Qt events, hence the idle timer).
    signal.signal(signal.SIGINT, lambda *_: window.close())
    tick = QTimer()
    tick.start(250)
    tick.timeout.connect(lambda: None)
    try:
        return app.exec()
    finally:
        from studio.ui.worker import stop_all

        stop_all()
        lib.close()
