"""`studio models [list | download NAME | link NAME FOLDER]`: the neural models' weights.

`add_parser` registers the sub-command on the main CLI's subparsers; `run` does the work and
returns the exit code (0 ok, 1 failure with a one-line reason on stderr).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from studio.core.models.download import DownloadCancelled, DownloadError
from studio.core.models.manager import ModelManager, ModelStatus
from studio.core.models.specs import SPECS, FolderError, get_spec


def add_parser(subparsers: Any, common: Any = None) -> None:
    """`common`: the parser of the options every command takes (--data-dir, --debug)."""
    parents = [common] if common is not None else []
    p = subparsers.add_parser(
        "models",
        parents=parents,
        help="list, download or link the MERT and CLAP weights",
        description="Neural models: where their weights are, and getting them.",
    )
    actions = p.add_subparsers(dest="models_action", metavar="ACTION")
    actions.add_parser("list", parents=parents, help="show each model's state (the default)")
    d = actions.add_parser("download", parents=parents,
                           help="download a model from Hugging Face (resumable)")
    d.add_argument("name", choices=sorted(SPECS), metavar="NAME", help="mert or clap")
    ln = actions.add_parser("link", parents=parents, help="use weights already in a folder")
    ln.add_argument("name", choices=sorted(SPECS), metavar="NAME", help="mert or clap")
    ln.add_argument("folder", type=Path, metavar="FOLDER")


def _size(n: int) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 1e6 else f"{n / 1e3:,.0f} kB"


def _line(s: ModelStatus) -> str:
    state = (
        s.state
        if s.percent is None or s.state != "downloading"
        else f"downloading {s.percent:.0f}%"
    )
    where = s.path if s.state == "ready" else (s.reason or "")
    return f"{s.name:<6} {state:<16} {_size(s.size_bytes):>8}  {s.licence:<13} {where}"


def _list(manager: ModelManager, out: TextIO) -> int:
    print(f"{'model':<6} {'state':<16} {'size':>8}  {'licence':<13} path / reason", file=out)
    for s in manager.list():
        print(_line(s), file=out)
    return 0


class _Bar:
    """A one-line progress bar on a terminal; nothing when stderr is not one."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.tty or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        frac = done / total if total else 0.0
        filled = int(30 * frac)
        bar = "#" * filled + "-" * (30 - filled)
        self.stream.write(f"\r[{bar}] {frac:6.1%}  {_size(done)} / {_size(total)}")
        self.stream.flush()

    def end(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _download(manager: ModelManager, name: str, out: TextIO, err: TextIO) -> int:
    spec = get_spec(name)
    print(f"{spec.title} ({spec.repo_id}): {spec.licence_note}", file=out)
    out.flush()
    stop = {"flag": False}

    def on_sigint(signum: int, frame: Any) -> None:
        stop["flag"] = True

    try:
        previous: Any = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: Ctrl-C is not ours to catch
        previous = None
    bar = _Bar(err)
    try:
        status = manager.download(name, progress=bar, should_stop=lambda: stop["flag"])
    except DownloadCancelled:
        bar.end()
        print(f"studio: download of {name} cancelled; run it again to resume", file=err)
        return 1
    except (DownloadError, OSError) as e:
        bar.end()
        print(f"studio: {e}", file=err)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    bar.end()
    print(f"{name} ready: {status.path}", file=out)
    return 0


def run(args: argparse.Namespace, data_dir: Path) -> int:
    manager = ModelManager(data_dir)
    action = getattr(args, "models_action", None) or "list"
    out, err = sys.stdout, sys.stderr
    if action == "list":
        return _list(manager, out)
    if action == "download":
        return _download(manager, args.name, out, err)
    if action == "link":
        if not Path(args.folder).expanduser().is_dir():  # a mistyped path: usage, exit 2
            print(f"studio: error: not a folder: {args.folder}", file=err)
            return 2
        try:
            status = manager.link(args.name, args.folder)
        except FolderError as e:
            print(f"studio: {e}", file=err)
            return 1
        print(f"{status.name} linked: {status.path}", file=out)
        return 0
    print(f"studio: error: unknown models action {action!r}", file=err)
    return 2
