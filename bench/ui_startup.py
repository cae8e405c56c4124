"""Time from launch to the window on screen, and whether torch was imported by then.

Launches `python -m studio --data-dir TMP` with STUDIO_STARTUP_PROBE=1: the app prints
{"shown_s", "torch_loaded"} when its window is first exposed and quits. `shown_s` counts from
the process's start (Linux /proc), so interpreter start-up is included; the wall time seen
from here is printed too. Target: <= 1.5 s, torch not loaded.

    python bench/ui_startup.py [--runs 5] [--library /tmp/corpus_anon]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def launch(data_dir: str) -> tuple[dict, float]:
    env = dict(os.environ, STUDIO_STARTUP_PROBE="1")
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "studio", "--data-dir", data_dir], env=env,
                         capture_output=True, text=True, timeout=60)
    wall = time.perf_counter() - t0
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line), wall
    raise SystemExit(f"no probe line from the app (rc {out.returncode}):\n{out.stderr[-2000:]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--library", help="a folder to index first, so start-up opens a library")
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="studio-startup-")
    if args.library:
        subprocess.run([sys.executable, "-m", "studio", "--data-dir", data, "index",
                        args.library], check=True, capture_output=True)
    launch(data)  # warm the OS file cache; not counted
    shown, walls, torch = [], [], []
    for _ in range(args.runs):
        probe, wall = launch(data)
        shown.append(probe["shown_s"])
        walls.append(wall)
        torch.append(probe["torch_loaded"])
    print(f"runs: {args.runs}  library: {args.library or 'empty'}  "
          f"platform: {os.environ.get('QT_QPA_PLATFORM', 'offscreen')}")
    print(f"window exposed after launch: median {statistics.median(shown):.3f} s, "
          f"max {max(shown):.3f} s (wall from here: median {statistics.median(walls):.3f} s)")
    print(f"torch imported before the window showed: {any(torch)}")
    print(f"target <= 1.5 s and no torch: "
          f"{'PASS' if max(shown) <= 1.5 and not any(torch) else 'FAIL'}  "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
