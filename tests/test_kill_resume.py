"""A real `studio index` killed at random moments loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from studio.core.library import Library
from studio.core.synth import voice

N_FILES = 400


def _files_in(data: Path) -> int:
    db = data / "catalog.sqlite"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05)
        try:
            return int(con.execute("SELECT COUNT(*) FROM files").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_kill_mid_index_several_times_then_finish(tmp_path: Path):
    folder = tmp_path / "lib"
    folder.mkdir()
    kinds = ("kick", "snare", "hihat_closed", "clap", "tom")
    for i in range(N_FILES):
        sf.write(folder / f"{kinds[i % 5]} {i:03d}.wav", voice(kinds[i % 5], i), 44100)
    data = tmp_path / "data"
    env = {**os.environ, "STUDIO_WORKERS": "1", "STUDIO_DATA_DIR": str(data)}
    cmd = [sys.executable, "-m", "studio", "index", str(folder)]
    rng = random.Random(7)
    kills = 0
    for _ in range(4):
        # kill when a random share of the library is in the catalog: mid-run on any machine
        target = rng.uniform(0.15, 0.85) * N_FILES
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while p.poll() is None and _files_in(data) < target:
            time.sleep(0.01)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
    assert kills >= 2, "the run finished before it could be killed; make the library bigger"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    lib = Library(data)
    db = lib.catalog.db
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT path) FROM files").fetchone() == (
        N_FILES,
        N_FILES,
    )
    assert db.execute("SELECT COUNT(*) FROM files WHERE content_id IS NULL").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM contents").fetchone()[0] == N_FILES
    # every item has exactly one vector for the built-in embedder, and nothing dangles
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == N_FILES
    assert lib.catalog.count_vectors(lib.builtin.id) == N_FILES
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # the on-disk index matches the catalog
    idx = lib.index_for(lib.builtin)
    assert idx.ids() == lib.catalog.vector_ids(lib.builtin.id)
    labels, vecs = lib.catalog.vectors(lib.builtin.id)
    assert np.allclose(idx.get(labels[:20].tolist()), vecs[:20], atol=1e-5)
    lib.close()


def test_ctrl_c_mid_index_prints_one_line(tmp_path: Path):
    """Ctrl-C reaches the whole process group: each pool worker printed its own
    KeyboardInterrupt traceback ahead of the CLI's one line. The run resumes after."""
    folder = tmp_path / "lib"
    folder.mkdir()
    for i in range(300):
        sf.write(folder / f"hit {i:03d}.wav", voice(("kick", "snare", "tom")[i % 3], i), 44100)
    data = tmp_path / "data"
    env = {**os.environ, "STUDIO_WORKERS": "2", "STUDIO_DATA_DIR": str(data)}
    cmd = [sys.executable, "-m", "studio", "index", str(folder)]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    while p.poll() is None and _files_in(data) < 40:
        time.sleep(0.01)
    assert p.poll() is None, "the run finished before Ctrl-C; make the library bigger"
    time.sleep(0.2)
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130
    assert err.strip().splitlines() == ["studio: interrupted"], err
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and Library(data).catalog.stats()["files"] == 300
