"""The background worker wrapper: progress by signal, stop on the abort flag, errors routed."""

from __future__ import annotations

import time
from typing import Any

from studio.ui.worker import Job, LatestRunner, live_workers, notifier, start_worker


def _count(job: Job, n: int) -> str:
    for i in range(n):
        if job.should_stop():
            return f"stopped at {i}"
        job.progress(i, key=i // 10)
        time.sleep(0.005)
    return "done"


def test_progress_and_cancel(qtbot: Any) -> None:
    seen: list[int] = []
    results: list[str] = []
    w = start_worker(_count, 10_000, on_progress=seen.append, on_result=results.append)
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=5000)
    with qtbot.waitSignal(w.done, timeout=5000):
        w.quit_job()
    qtbot.waitUntil(lambda: bool(results), timeout=2000)
    assert results[0].startswith("stopped at")
    assert seen == sorted(seen)
    qtbot.waitUntil(lambda: not live_workers(), timeout=2000)


def test_errors_go_to_the_notifier(qtbot: Any) -> None:
    def boom(job: Job) -> None:
        raise RuntimeError("disk on fire")

    with qtbot.waitSignal(notifier.error, timeout=5000) as sig:
        start_worker(boom, title="Indexing")
    assert sig.args[0] == "Indexing" and sig.args[1] == "disk on fire"
    assert "RuntimeError" in sig.args[2]
    qtbot.waitUntil(lambda: not live_workers(), timeout=2000)


def test_latest_runner_delivers_only_the_newest(qtbot: Any) -> None:
    got: list[Any] = []
    r = LatestRunner("test")
    r.result.connect(lambda tag, value: got.append((tag, value)))

    def slow(job: Job, x: int) -> int:
        time.sleep(0.05)
        return x

    for i in range(5):
        r.submit(i, slow, i)
    qtbot.waitUntil(lambda: not r.busy(), timeout=5000)
    assert got == [(4, 4)]
    qtbot.waitUntil(lambda: not live_workers(), timeout=2000)


def test_index_controller_reports_progress(qtbot: Any, data_dir: Any, sample_folder: Any) -> None:
    from studio.core.library import Library
    from studio.ui.indexing import IndexController

    lib = Library(data_dir)
    try:
        ctl = IndexController(lib, load_models=False, workers=1)
        phases: list[str] = []
        ctl.progress.connect(lambda p: phases.append(p.phase))
        with qtbot.waitSignal(ctl.finished, timeout=20000) as sig:
            ctl.start([str(sample_folder)])
        assert sig.args[0].indexed >= 25
        assert "analyse" in phases
        qtbot.waitUntil(lambda: not ctl.running(), timeout=2000)
    finally:
        lib.close()


def test_a_folder_added_during_a_back_fill_is_indexed_first(qtbot: Any, monkeypatch: Any) -> None:
    """A new pack waited for the whole MERT/CLAP back-fill of the library (hours on a big
    one): the back-fill pass is now stopped, the next pass takes the pack, and the back-fill
    resumes in it (it is resumable)."""
    import time

    from studio.core.progress import Progress
    from studio.ui import indexing

    runs: list[str] = []

    def job(j: Any, lib: Any, roots: Any, *_a: Any) -> None:
        runs.append("start")
        j.progress(Progress("embed:mert", 0, 10_000), key="embed")
        t = time.monotonic()
        while not j.should_stop() and time.monotonic() - t < (10 if len(runs) == 1 else 0.05):
            time.sleep(0.01)
        runs.append("stopped" if j.should_stop() else "ended")

    monkeypatch.setattr(indexing, "index_job", job)
    ctl = indexing.IndexController(object(), load_models=False)  # type: ignore[arg-type]
    ctl.start()
    qtbot.waitUntil(lambda: ctl._phase == "embed:mert", timeout=5000)
    t = time.monotonic()
    ctl.start(["/new/pack"])
    qtbot.waitUntil(lambda: runs == ["start", "stopped", "start", "ended"] and not ctl.running(),
                    timeout=5000)
    assert time.monotonic() - t < 3
    # A rescan of everything (no new folder) does not cut a back-fill short: it queues.
    runs.clear()
    ctl.start()
    qtbot.waitUntil(lambda: ctl._phase == "embed:mert", timeout=5000)
    ctl.start()
    qtbot.wait(300)
    assert runs == ["start"]
    ctl.shutdown()


def test_worker_threads_do_not_leave_database_connections_open(qtbot: Any, tmp_path: Any) -> None:
    """Every search, preview and status job runs on a thread of its own, and each thread's
    catalog connection stayed open (two file descriptors) until the library closed: ~500
    searches into a session Linux's default limit ran out (~120 on macOS)."""
    import os

    from studio.core.catalog import Catalog

    cat = Catalog(tmp_path / "c.sqlite")
    cat.db.execute("SELECT 1")

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    if not os.path.isdir("/proc/self/fd"):
        import pytest

        pytest.skip("counts descriptors through /proc")
    before = fds()
    done: list[int] = []
    for i in range(60):
        start_worker(lambda _j: cat.db.execute("SELECT COUNT(*) FROM files").fetchall(),
                     on_done=lambda i=i: done.append(i))
        qtbot.waitUntil(lambda i=i: i in done, timeout=5000)
    qtbot.waitUntil(lambda: not live_workers(), timeout=5000)
    assert fds() - before < 10
    assert len(cat._all) == 1  # the main thread's
    cat.close()
