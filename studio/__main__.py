"""`studio` with no command opens the app; with one, it is the command line (studio.cli)."""

from __future__ import annotations

import os
import sys


def _opens_app(args: list[str]) -> bool:
    """No command (at most a data dir): the app. Anything else, --help and --version
    included, is the command line, which answers it or says what is wrong."""
    if not args or args[0] in ("app", "--gui"):
        return True
    rest = list(args)
    while rest and rest[0].startswith("--data-dir"):
        rest = rest[1:] if "=" in rest[0] else rest[2:]
    return not rest


def no_display() -> str | None:
    """Why the window cannot open here, or None. On Linux, Qt aborts the process (SIGABRT,
    a page of plugin messages) when there is no display to connect to."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is "
            "set); the command line works without one: studio --help")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if _opens_app(args):
        from studio.ui.app import data_dir_arg  # (plain Python until run_app imports Qt)

        given = data_dir_arg(args)
        if given is not None and not given.strip():  # an unset shell variable: no folder
            print("studio: error: --data-dir needs a folder", file=sys.stderr)
            return 2
        why = no_display()
        if why is not None:
            print(f"studio: {why}", file=sys.stderr)
            return 1
        from studio.ui.app import run_app

        return run_app(args[1:] if args and args[0] in ("app", "--gui") else args)
    from studio.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
