"""`studio` with no command opens the app; with one, it is the command line (studio.cli)."""

from __future__ import annotations

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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if _opens_app(args):
        from studio.ui.app import run_app

        return run_app(args[1:] if args and args[0] in ("app", "--gui") else args)
    from studio.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
