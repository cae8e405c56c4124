"""Entry script of the frozen app: the same `studio.__main__.main` as the `studio` command.

With no command it opens the window; `index`, `search`, `info` and `models` are the command
line. A windowed Windows build has no console, so stdout/stderr are None there: point them at
devnull so a stray print cannot crash the GUI (the CLI is `studio-cli.exe`, which has one).
"""

from __future__ import annotations

import multiprocessing
import os
import sys


def _run() -> int:
    multiprocessing.freeze_support()
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    from studio.__main__ import main

    return main()


if __name__ == "__main__":
    sys.exit(_run())
