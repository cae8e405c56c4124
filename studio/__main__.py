"""`studio` with no command opens the app; with one, it is the command line (studio.cli)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if (
        not args
        or args[0] in ("app", "--gui")
        or (
            args[0].startswith("--data-dir")
            and len([a for a in args if not a.startswith("-")]) <= 1
            and not any(a in ("index", "search", "info", "models") for a in args)
        )
    ):
        from studio.ui.app import run_app

        return run_app(args[1:] if args and args[0] in ("app", "--gui") else args)
    from studio.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
