"""`studio` on the command line: index, search, info, models (PRODUCT.md's contract).

Exit codes: 0 success, 2 usage error, 1 anything else, with a one-line reason on stderr
(a traceback only with --debug). No Qt is imported here.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from studio import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, as every error (PRODUCT.md): the reason, and where the usage is.
        print(f"{self.prog}: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


class _QueryAction(argparse.Action):
    """Keeps --like / --text / --with in the order given, as one list of queries."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        ns: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        qs = getattr(ns, "queries", None) or []
        if self.dest == "like":
            qs.append({"like": [values]})
        elif self.dest == "text":
            qs.append({"text": values})
        else:  # --with: words that modify the preceding --like
            if not qs or "like" not in qs[-1] or "text" in qs[-1]:
                parser.error("--with must follow a --like (e.g. --like kick.wav --with brighter)")
            qs[-1]["text"] = values
        ns.queries = qs


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        help="where Studio keeps its catalog and indexes "
        "(default: $STUDIO_DATA_DIR or the platform's user data dir)",
    )
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    p = _Parser(prog="studio", description="Find drum samples by how they sound.", parents=[common])
    p.add_argument("--version", action="version", version=f"studio {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    pi = sub.add_parser("index", parents=[common], help="index folders of samples (resumable)")
    pi.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="folders to add and index (default: every folder already added)",
    )
    pi.add_argument(
        "--models",
        default="default",
        help="comma-separated embedders: default,mert,clap (default: default)",
    )
    pi.add_argument("--workers", type=_count, default=None, help="analysis processes")

    ps = sub.add_parser(
        "search",
        parents=[common],
        help="find samples like a file or words",
        description="Each --like/--text is one query, answered in the order "
        "given. --with TEXT right after a --like makes that one "
        'query audio + words ("like this, but brighter").',
    )
    ps.add_argument("--like", action=_QueryAction, metavar="FILE", help="a sample to match")
    ps.add_argument("--text", action=_QueryAction, metavar="QUERY", help="words to match")
    ps.add_argument(
        "--with",
        dest="with_",
        action=_QueryAction,
        metavar="TEXT",
        help="words that steer the preceding --like",
    )
    ps.add_argument("-k", type=int, default=10, help="results per query (default 10)")
    ps.add_argument("--json", action="store_true", help="one JSON object per query")
    ps.add_argument(
        "--category",
        help="only this category or group (kick, snare, hihat, cymbal, perc, ...), including "
        "sounds the model gives at least a 30%% chance of being one",
    )
    ps.add_argument("--min-length", type=_seconds, metavar="SECONDS",
                    help="only samples at least this long")
    ps.add_argument("--max-length", type=_seconds, metavar="SECONDS",
                    help="only samples at most this long")
    ps.add_argument(
        "--word",
        action="append",
        default=[],
        metavar="WORD",
        help="only samples this sound word fits (bright, punchy, short, lo-fi...)",
    )

    sub.add_parser("info", parents=[common], help="what is indexed, and where data lives")
    pr = sub.add_parser(
        "remove",
        parents=[common],
        help="forget library folders (the files themselves are not touched)",
        description="Take folders out of the library: their samples leave the catalog, "
        "the indexes and the results. Nothing on disk is deleted or changed.",
    )
    pr.add_argument("paths", nargs="+", metavar="FOLDER", help="a library folder (studio info "
                    "lists them)")
    try:
        from studio import cli_models

        cli_models.add_parser(sub, common)
    except ImportError:
        pass
    return p


def _global_options(argv: Sequence[str]) -> tuple[list[str], str | None, bool]:
    """Take --data-dir and --debug from anywhere on the line, so every command has them."""
    rest: list[str] = []
    data_dir: str | None = None
    debug = False
    it = iter(argv)
    for a in it:
        if a == "--data-dir" or a.startswith("--data-dir="):
            data_dir = next(it, None) if a == "--data-dir" else a.split("=", 1)[1]
            # An empty value (an unset shell variable) must not fall back to the default
            # library, or to STUDIO_DATA_DIR's: it names no folder.
            if data_dir is None or not data_dir.strip():
                raise UsageError("--data-dir needs a folder")
        elif a == "--debug":
            debug = True
        elif a == "--":
            rest.append(a)
            rest.extend(it)
        else:
            rest.append(a)
    return rest, data_dir, debug


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        rest, data_dir, debug = _global_options(sys.argv[1:] if argv is None else list(argv))
    except UsageError as e:
        print(f"studio: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    args, extra = parser.parse_known_args(rest)
    if extra:  # said by the command's own parser: `studio search --bogus` is search's error
        sub = _subparser(parser, getattr(args, "command", None))
        sub.error(f"unrecognized arguments: {' '.join(extra)}")
    if data_dir is not None:
        args.data_dir = data_dir
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return 130
    except UsageError as e:
        print(f"studio: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader went away (`studio search ... | head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as e:  # one line unless --debug
        if debug:
            raise
        reason = getattr(e, "reason", None) or str(e) or type(e).__name__
        print(f"studio: {reason}", file=sys.stderr)
        return EXIT_FAIL


def _subparser(parser: argparse.ArgumentParser, command: str | None) -> argparse.ArgumentParser:
    for action in parser._actions:  # argparse keeps its sub-commands here only
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return action.choices[command]  # type: ignore[no-any-return]
    return parser


def _count(text: str) -> int:
    """A whole number >= 0 (argparse type)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {n}")
    return n


def _library(args: argparse.Namespace, create: bool = True) -> Any:
    """The library in --data-dir. Without `create`, a data dir with no catalog is an error
    (a mistyped --data-dir for `search` must not leave an empty library behind)."""
    from studio.core.library import Library
    from studio.core.paths import resolve_data_dir

    d = resolve_data_dir(getattr(args, "data_dir", None))
    if not create and not (d / "catalog.sqlite").exists():
        raise LookupError(
            f"no library in {d}: index a folder first (studio index FOLDER), or check "
            "--data-dir / STUDIO_DATA_DIR"
        )
    return Library(d)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "index":
        return _cmd_index(args)
    if args.command == "search":
        return _cmd_search(args)
    if args.command == "info":
        return _cmd_info(args)
    if args.command == "remove":
        return _cmd_remove(args)
    if args.command == "models":
        from studio import cli_models
        from studio.core.paths import resolve_data_dir

        return int(cli_models.run(args, resolve_data_dir(getattr(args, "data_dir", None))))
    raise UsageError(f"unknown command {args.command}")


# ---- index ----------------------------------------------------------------------------------
def _cmd_index(args: argparse.Namespace) -> int:
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in ("default", "mert", "clap"):
            raise UsageError(f"unknown model {m!r} (choose from default, mert, clap)")
    for p in args.paths:
        if not os.path.isdir(p):
            raise UsageError(f"not a folder: {p}")
    if not args.paths:
        from studio.core.paths import resolve_data_dir

        if not (resolve_data_dir(getattr(args, "data_dir", None)) / "catalog.sqlite").exists():
            raise UsageError("no folders yet: studio index FOLDER")  # and nothing created
    lib = _library(args)
    try:
        if not args.paths and not lib.roots():
            raise UsageError("no folders yet: studio index FOLDER")
        bar = _ProgressBar(sys.stderr)
        rep = lib.index(
            args.paths or None, models=models, progress=bar.update, workers=args.workers
        )
        bar.close()
    finally:
        lib.close()
    parts = [f"{rep.indexed} indexed", f"{rep.unchanged} unchanged"]
    if rep.moved:
        parts.append(f"{rep.moved} moved")
    if rep.removed:
        parts.append(f"{rep.removed} removed")
    parts.append(f"{len(rep.skipped)} skipped")
    for name, n in rep.embedded.items():
        parts.append(f"{n} embedded with {name}")
    if rep.reanalysed:
        parts.append(f"{rep.reanalysed} re-analysed")
    print(f"{', '.join(parts)} in {rep.seconds:.1f} s")
    for path, reason in rep.skipped[:20]:
        print(f"  skipped {_one_line(path)}: {reason}")
    if len(rep.skipped) > 20:
        print(f"  ... and {len(rep.skipped) - 20} more (studio info lists them)")
    for d, reason in rep.unreadable_dirs:
        print(f"  unreadable folder {d}: {reason}")
    return EXIT_OK


class _ProgressBar:
    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.last = 0.0
        self.shown = False

    def update(self, p: Any) -> None:
        now = time.monotonic()
        if p.phase == "done" or (now - self.last < 0.1 and p.done != p.total):
            return
        self.last = now
        if not self.tty:
            return
        label = {"scan": "Scanning", "analyse": "Indexing"}.get(
            p.phase, p.phase.replace("embed:", "Embedding with ")
        )
        if p.total:
            frac = p.done / p.total
            bar = "█" * int(frac * 30) + "░" * (30 - int(frac * 30))
            line = f"{label} {p.done:,}/{p.total:,} {bar} {frac:4.0%}"
        else:
            line = f"{label} {os.path.basename(p.message)[:50]}"
        self.stream.write("\r\033[K" + line)
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


# ---- search ---------------------------------------------------------------------------------
def _seconds(text: str) -> float:
    """A length in seconds for --min-length / --max-length: a number, 0 or more."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError(f"a length is 0 seconds or more, not {text}")
    return v


def _cmd_search(args: argparse.Namespace) -> int:
    from studio.core.search import Filters, Query

    filters = Filters(
        category=args.category,
        min_seconds=args.min_length,
        max_seconds=args.max_length,
        words=list(args.word),
    )
    queries = getattr(args, "queries", None) or []
    if not queries and filters.active():
        queries = [{}]  # filters alone: browse what passes them
    if not queries:
        raise UsageError("give --like FILE, --text QUERY, or filters to browse by (--category…)")
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    for q in queries:
        for f in q.get("like", []):
            if os.path.isdir(f):
                raise UsageError(f"{f} is a folder: --like takes a sample (a file)")
            if not os.path.isfile(f):
                raise UsageError(f"no such file: {f}")
        if "text" in q and not str(q["text"]).strip():
            raise UsageError("--text needs words (e.g. --text 'dusty snare')")
    if (
        args.min_length is not None
        and args.max_length is not None
        and args.min_length > args.max_length
    ):
        raise UsageError(
            f"--min-length {args.min_length:g} is longer than --max-length {args.max_length:g}"
        )
    if args.category or args.word:
        from studio.core import drums

        try:
            if args.category:
                drums.filter_members(args.category)
            for w in args.word:
                drums.filter_words(w)
        except ValueError as e:
            raise UsageError(str(e)) from None
    lib = _library(args, create=False)
    try:
        if not lib.catalog.count_items():
            raise RuntimeError("the library is empty: run `studio index FOLDER` first")
        behind = (
            lib.catalog.count_items_missing(lib.builtin.id)
            if any(qd.get("like") for qd in queries) else 0
        )  # fmt: skip
        if behind:
            print(
                f"studio: note: {behind:,} of {lib.catalog.count_items():,} items (sounds and "
                f"loop windows) have no vector from this version's built-in embedder "
                f"({lib.builtin.id}) yet, so similar-sound searches miss them: run "
                "`studio index` to bring the library up to date",
                file=sys.stderr,
            )
        for name, why in lib.try_load_ready_models().items():
            print(f"studio: note: {name} not used: {why}", file=sys.stderr)
        for qd in queries:
            q = Query(
                like=[os.path.abspath(p) for p in qd.get("like", [])],
                text=qd.get("text"),
                k=args.k,
                filters=filters,
            )
            res = lib.search(q)
            for note in res.notes:
                print(f"studio: note: {note}", file=sys.stderr)
            if args.json:
                print(json.dumps(res.to_json(), allow_nan=False), flush=True)
            else:
                _print_result(res)
    finally:
        lib.close()
    return EXIT_OK


def _one_line(path: str) -> str:
    """A path as one line of output: a newline (or another control character) in a file name
    is written as an escape, so every result stays one line."""
    if path.isprintable():
        return path
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in path)


def _print_result(res: Any) -> None:
    qd = res.query.describe()
    title = " + ".join(
        f"text {v!r}" if k == "text" else f"browse {v}" if k == "browse" else f"like {v}"
        for k, v in qd.items()
    )
    shown = ""
    if res.total is not None and res.total > len(res.hits):
        shown = f"  {len(res.hits):,} of {res.total:,} matches (-k for more)"
    print(f"{title}  ({', '.join(res.embedders)}; {res.ms:.0f} ms){shown}")
    if not res.hits:
        print("  no results")
    for i, h in enumerate(res.hits, 1):
        where = ""
        if h.duration and (h.start > 0 or h.end < h.duration - 1e-3):
            where = f" @{h.start:.2f}-{h.end:.2f}s"
        dur = f"{h.duration:.2f}s" if h.duration is not None else "?"
        print(f"{i:3d}. {h.score:6.3f}  {(h.category or '-'):<13} {dur:>7}  "
              f"{_one_line(h.path)}{where}")
    print()


# ---- remove ---------------------------------------------------------------------------------
def _cmd_remove(args: argparse.Namespace) -> int:
    lib = _library(args, create=False)
    try:
        roots = lib.roots()
        # A folder named as the library has it: absolute, or as typed (a folder that is
        # gone cannot be resolved through links any more).
        wanted = []
        for p in args.paths:
            ap = os.path.abspath(p)
            match = ap if ap in roots else next(
                (r for r in roots if os.path.exists(p) and os.path.exists(r)
                 and os.path.samefile(r, p)), None)  # fmt: skip
            if match is None:
                listed = ", ".join(roots) if roots else "none yet"
                raise UsageError(f"{p} is not a library folder (they are: {listed})")
            wanted.append(match)
        for r in dict.fromkeys(wanted):
            lib.remove_root(r)
            print(f"removed {_one_line(r)} from the library (its files are untouched)")
    finally:
        lib.close()
    return EXIT_OK


# ---- info -----------------------------------------------------------------------------------
def _cmd_info(args: argparse.Namespace) -> int:
    from studio.core.paths import resolve_data_dir

    d = resolve_data_dir(getattr(args, "data_dir", None))
    if not d.exists() or (d.is_dir() and not (d / "catalog.sqlite").exists()):
        # Say where data would live, and create nothing (a file there: Library says so).
        print(f"data dir:  {d}")
        print("no library here yet: index a folder with `studio index FOLDER`")
        return EXIT_OK
    lib = _library(args)
    try:
        info = lib.info()
        print(f"data dir:  {info['data_dir']}")
        print(f"catalog:   {info['catalog']} (format {info['schema_version']})")
        print(f"folders:   {len(info['roots'])}")
        for r in info["roots"]:
            # Its files are kept while it is away (an unplugged drive): say they are hidden.
            away = "" if os.path.isdir(r) else (
                f"  (not found: {lib.catalog.count_files_under(r):,} samples kept, hidden)")
            print(f"  {_one_line(r)}{away}")
        print(
            f"files:     {info['files_ok']:,} indexed, {info['files_failed']:,} skipped "
            f"({info['contents']:,} distinct sounds, {info['items']:,} items)"
        )
        for emb, n in sorted(info["vectors"].items()):
            old = emb.startswith("builtin-") and emb != lib.builtin.id
            note = " (an older Studio's; replaced by the next `studio index`)" if old else ""
            print(f"  {emb}: {n:,} vectors{note}")
        behind = lib.catalog.count_items_missing(lib.builtin.id)
        if behind:
            print(f"  {lib.builtin.id}: {behind:,} items not embedded yet (run `studio index`)")
        try:
            mm = lib.model_manager()
            for st in mm.list():
                pct = f" {st.percent:.0f}%" if st.percent is not None else ""
                why = f" ({st.reason})" if st.reason else ""
                print(f"model {st.name}: {st.state}{pct}{why}")
        except ImportError:
            pass
        errs = lib.catalog.errors()
        if errs:
            print("skipped files:")
            for p, e in errs[:50]:
                print(f"  {_one_line(p)}: {e}")
    finally:
        lib.close()
    return EXIT_OK
