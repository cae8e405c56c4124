"""Longest UI stall while the app indexes the dev corpus (target: <= 50 ms).

A QTimer ticks every 5 ms on the GUI thread and records the gaps between ticks while the
real MainWindow indexes the corpus into a temp data dir. With --interact (default) it also
searches and walks the results with the arrow key every 150 ms, as a user auditioning would.

    python bench/ui_stall.py [--corpus /tmp/corpus_anon] [--no-interact]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
CORPUS_SCRIPT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "make_dev_corpus.py"


def ensure_corpus(path: Path) -> None:
    if path.is_dir() and any(path.rglob("*.wav")):
        return
    print(f"building the dev corpus in {path} …", flush=True)
    subprocess.run([sys.executable, str(CORPUS_SCRIPT), str(path), "--anonymize"], check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="/tmp/corpus_anon")
    ap.add_argument("--no-interact", action="store_true")
    ap.add_argument("--control", action="store_true",
                    help="index first, then measure the same interaction with no indexing "
                         "running: what the window itself costs")
    ap.add_argument("--upgrade", action="store_true",
                    help="index first, then make it look like an older Studio's library "
                         "(older built-in vectors and analyses) and measure the upgrade that "
                         "the window runs at start (re-embedding and re-analysis)")
    ap.add_argument("--tick-ms", type=int, default=5)
    ap.add_argument("--audio", choices=("auto", "device", "paced"), default="auto",
                    help="paced: a stand-in sound card with a real clock (auto picks it when "
                         "there is no /dev/snd: ALSA's null sink has no clock and spins the "
                         "audio callback); device: the real output")
    ap.add_argument("--diagnose", action="store_true",
                    help="sample the GUI thread's Python stack during stalls and print the "
                         "most frequent places")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    ensure_corpus(corpus)

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from studio.core.library import Library
    from studio.ui import style
    from studio.ui.app import prepare_process
    from studio.ui.main_window import MainWindow
    from studio.ui.settings import Settings

    prepare_process()
    app = QApplication([])
    style.apply(app)
    data = tempfile.mkdtemp(prefix="studio-stall-")
    lib = Library(data)
    if args.control or args.upgrade:
        lib.add_root(str(corpus))
        lib.index(workers=2)
    if args.upgrade:
        with lib.catalog.write() as db:
            db.execute("UPDATE vectors SET embedder='builtin-v0-old'")
            db.execute("UPDATE contents SET analysis_version=0")
    from studio.ui.player import PacedOutput

    paced = args.audio == "paced" or (args.audio == "auto" and not os.path.exists("/dev/snd"))
    w = MainWindow(lib, Settings(data), output_factory=PacedOutput if paced else None,
                   index_on_start=not args.upgrade)
    w.show()
    gaps: list[float] = []
    when: list[tuple[float, float]] = []  # (gap ms, seconds since indexing started)
    busy: dict[tuple[float, float], float] = {}  # the GUI thread's CPU ms during each gap
    baseline: list[float] = []  # the same ticks with the window idle: this machine's noise
    state = {"last": 0.0, "started": False, "t0": 0.0, "moves": 0, "warm": False, "cpu": 0.0}

    def tick() -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if state["last"] and state["started"]:
            gaps.append((now - state["last"]) * 1000)
            when.append((gaps[-1], now - state["t0"]))
            busy[when[-1]] = (cpu - state["cpu"]) * 1000
        elif state["last"] and state["warm"]:
            baseline.append((now - state["last"]) * 1000)
        state["last"], state["cpu"] = now, cpu

    def interact() -> None:
        if args.no_interact or not (w.indexer.running() or args.control):
            return
        model = w.results.model
        if model.rowCount() == 0:
            if not w.search_bar.text():
                w.search_bar.edit.setText("snare")
                w.search_bar.flush()
            elif not w.searcher.busy():
                w.run_query()  # the library had nothing yet: ask again
            return
        view = w.results.view
        row = (view.currentIndex().row() + 1) % model.rowCount()
        view.setCurrentIndex(model.index(row, 0))
        state["moves"] += 1

    def start() -> None:
        state["t0"] = time.perf_counter()
        state["started"] = True
        if args.control:
            QTimer.singleShot(7000, app.quit)
        elif args.upgrade:
            w.indexer.start(None)
        else:
            w.add_folder(str(corpus))

    def check_done() -> None:
        if state["started"] and not args.control and not w.indexer.running():
            app.quit()

    if args.diagnose:
        import collections
        import threading
        import traceback

        main_id = threading.main_thread().ident
        seen: collections.Counter[str] = collections.Counter()
        samples: list[tuple[float, str]] = []  # (seconds since start, thread and stack)

        def watchdog() -> None:
            while not state.get("quit"):
                time.sleep(0.005)
                if state["started"] and state["last"] and time.perf_counter() - state["last"] > 0.03:
                    me = threading.get_ident()
                    for tid, frame in sys._current_frames().items():
                        if tid == me:
                            continue
                        stack = traceback.extract_stack(frame)[-4:]
                        who = "GUI" if tid == main_id else "other"
                        where = f"[{who}] " + " <- ".join(
                            f"{os.path.basename(f.filename)}:{f.lineno} {f.name}"
                            for f in reversed(stack))
                        seen[where] += 1
                        samples.append((time.perf_counter() - state["t0"], where))

        threading.Thread(target=watchdog, daemon=True).start()
        state["seen"] = seen
        state["samples"] = samples

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(tick)
    timer.start(args.tick_ms)
    walker = QTimer()
    walker.timeout.connect(interact)
    walker.start(150)
    done = QTimer()
    done.timeout.connect(check_done)
    done.start(100)
    QTimer.singleShot(1500, lambda: state.update(warm=True))  # pyqtgraph + audio are up
    QTimer.singleShot(4500, start)
    app.exec()
    seconds = time.perf_counter() - state["t0"]
    w.close()
    n = lib.catalog.stats().get("files_ok", 0)
    lib.close()
    gaps.sort()
    baseline.sort()
    stall = [g - args.tick_ms for g in gaps]
    p = lambda q: stall[min(len(stall) - 1, int(q * len(stall)))]  # noqa: E731
    print(f"indexed {n} files in {seconds:.1f} s with the window open "
          f"({'interacting: ' + str(state['moves']) + ' arrow moves' if not args.no_interact else 'idle'})")
    print(f"event-loop ticks: {len(gaps)} at {args.tick_ms} ms; audio output: "
          f"{'paced stand-in (no sound card here)' if paced else 'the real device'}")
    print(f"longest stall: {stall[-1]:.1f} ms  (p99 {p(0.99):.1f} ms, p50 {p(0.5):.1f} ms)  "
          f"target <= 50 ms: {'PASS' if stall[-1] <= 50 else 'FAIL'}")
    if args.diagnose:
        worst = ", ".join(f"{g - args.tick_ms:.0f} ms at {t:.1f} s" for g, t in sorted(when)[-6:])
        print(f"worst stalls: {worst}")
        state["quit"] = True
        print("threads during stalls (5 ms samples; [other] = not the GUI thread):")
        for where, n in state["seen"].most_common(14):
            print(f"  {n:4d}  {where}")
        for g, t in sorted(when)[-3:]:
            print(f"during the {g - args.tick_ms:.0f} ms stall ending at {t:.2f} s "
                  f"(the GUI thread ran {busy[(g, t)]:.0f} ms of it):")
            for ts, where in state["samples"]:
                if t - g / 1000 <= ts <= t:
                    print(f"    {ts:.3f}  {where}")
    if baseline:
        print(f"idle window, same timer, 3 s before indexing: longest stall "
              f"{baseline[-1] - args.tick_ms:.1f} ms over {len(baseline)} ticks "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
