"""Indexing: scan the roots, analyse what is new, back-fill embedders, keep the indexes in step.

One pass of `Indexer.run()`:
1. scan each root; a file whose size and mtime are unchanged is not read again;
2. hash new and changed files; a hash the catalog already knows (a moved, renamed or copied
   file) is linked to its content and keeps its embeddings and analysis;
3. decode + embed + analyse the rest in worker processes, committing a batch at a time;
4. forget files that are gone, and contents no file points at any more;
5. back-fill every other embedder asked for (MERT, CLAP) over items it lacks.
Progress is reported through a callback and the run stops between batches when asked; what
was committed stays, and the next run carries on from there.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from studio.core import drums
from studio.core.analysis import (
    FileAnalysis,
    analyze_paths,
    hash_paths,
)
from studio.core.audio import is_access_error
from studio.core.catalog import Catalog
from studio.core.embedders.base import Embedder
from studio.core.priority import lower_priority
from studio.core.progress import Progress, ProgressFn, StopFn
from studio.core.scanner import iter_batches, walk_audio
from studio.core.upkeep import Upkeep, plain_json
from studio.core.vindex import VectorIndex

R = TypeVar("R")


class IndexProvider(Protocol):
    def index_for(self, emb: Embedder) -> VectorIndex: ...

    def open_indexes(self) -> list[VectorIndex]: ...


_BATCH = 32
_SAVE_EVERY_S = 10.0
# Below this many new files a process pool costs more than it saves.
_POOL_MIN_FILES = 48


@dataclass
class IndexReport:
    scanned: int = 0
    indexed: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    unreadable_dirs: list[tuple[str, str]] = field(default_factory=list)
    embedded: dict[str, int] = field(default_factory=dict)  # items back-filled, per model
    reanalysed: int = 0  # sounds whose analysis an older version made
    cancelled: bool = False
    seconds: float = 0.0


def _upsert_file(
    db: Any, path: str, root_id: int, st: os.stat_result, content_id: int | None, error: str | None
) -> None:
    """Record what a path holds now: a content, or the reason it could not be analysed."""
    mtime = st.st_mtime_ns
    if error is not None and is_access_error(error):
        mtime = -1  # never equal to the file's: the next scan tries it again
    db.execute(
        "INSERT INTO files(path, root_id, size, mtime_ns, content_id, error) "
        "VALUES(?,?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET size=excluded.size, "
        "mtime_ns=excluded.mtime_ns, content_id=excluded.content_id, error=excluded.error, "
        "root_id=excluded.root_id",
        (path, root_id, st.st_size, mtime, content_id, error),
    )


# A library folder that reads as empty was moved, not unmounted, when at least this share
# of its sounds is in another library folder.
MOVED_SHARE = 0.5
REMOVE_HINT = "Remove in the app, `studio remove FOLDER` in a terminal"


def _workers() -> int:
    env = os.environ.get("STUDIO_WORKERS")
    if env and env.isdigit():
        return max(1, int(env))
    return max(1, min(8, os.cpu_count() or 1))


class Indexer:
    """Runs on whatever thread calls run(); all catalog writes happen there (one writer)."""

    def __init__(
        self,
        catalog: Catalog,
        indexes: IndexProvider,
        builtin: Embedder,
        workers: int | None = None,
        worker_nice: int = 0,
    ) -> None:
        self.catalog = catalog
        self._indexes = indexes
        self._index_for = indexes.index_for
        self.builtin = builtin
        self.workers = workers if workers is not None else _workers()
        self.worker_nice = worker_nice
        self._last_save = time.monotonic()
        self._pool: Any = None
        self._upkeep = Upkeep(catalog, self._index_for, builtin, self._save_all)

    @property
    def changed_analyses(self) -> set[int]:
        """Contents whose stored analysis upkeep rewrote (re-analysed, or CLAP fused in)."""
        return self._upkeep.changed

    @property
    def files_failed(self) -> bool:
        """Whether upkeep let go of a file that no longer decodes."""
        return self._upkeep.files_failed

    # ------------------------------------------------------------------------------------
    def run(
        self,
        roots: Sequence[str] | None = None,
        embedders: Sequence[Embedder] = (),
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> IndexReport:
        t0 = time.monotonic()
        rep = IndexReport()
        stop = should_stop or (lambda: False)
        report = progress or (lambda p: None)
        try:
            todo = self._scan(roots, rep, report, stop)
            scanned = not stop()
            if scanned:
                self._analyse(todo, rep, report, stop)
            # Once the scan is whole, every moved file is linked again (moves are hashed
            # there), so what no file points at is gone: collected even if the analysis
            # was stopped, or its vectors would crowd the nearest neighbours of every search.
            # A scan stopped halfway may not have linked a moved pack yet: its sounds (and
            # MERT's and CLAP's vectors) wait for the next run.
            if scanned:
                self.collect_garbage()
            if not stop():
                reembedded, rep.reanalysed = self._upkeep.upgrade(
                    report, stop, analyse=self._analyse_paths
                )
                if reembedded:
                    rep.embedded[self.builtin.name] = reembedded
            for emb in embedders:
                if emb.id == self.builtin.id or stop():
                    continue
                rep.embedded[emb.name] = self._upkeep.backfill(emb, report, stop)
                if emb.supports_text and not stop():
                    self._upkeep.zero_shot(emb)
        finally:
            if self._pool is not None:  # terminate: a cancelled run must not wait for it
                self._pool.terminate()
                self._pool.join()
                self._pool = None
            self._save_all(force=True)
        rep.cancelled = stop()
        rep.seconds = time.monotonic() - t0
        report(Progress("done", rep.indexed, rep.indexed, "cancelled" if rep.cancelled else ""))
        return rep

    # ---- 1 + 2: scan and link known contents -------------------------------------------
    def _scan(
        self, roots: Sequence[str] | None, rep: IndexReport, report: ProgressFn, stop: StopFn
    ) -> list[tuple[str, int, os.stat_result, str | None]]:
        cat = self.catalog
        cat.merge_nested_roots()
        # path, root, stat, hash (None: the analysis worker hashes it)
        todo: list[tuple[str, int, os.stat_result, str | None]] = []
        scan: dict[int, str] = {}  # a folder inside a root scans that root (all of it)
        for given in roots if roots is not None else [p for _, p in cat.roots()]:
            rid = cat.add_root(given)
            scan.setdefault(rid, cat.root_path(rid) or given)
        # First every root is walked, so that a sound that left one root is known to be
        # gone before the files of another are looked at: moving a pack from one library
        # folder to another is a move (hash and relink), not a re-analysis of every file.
        walked = []
        emptied: set[int] = set()
        # Sounds of folders that cannot be read now (a root renamed or on an unplugged
        # drive): a new file may be one of them, under its new name.
        hidden_contents: set[int] = set()
        missing: dict[int, list[Any]] = {}  # library folders not there at all: their files
        for root_id, root in scan.items():
            report(Progress("scan", 0, 0, root))
            res = walk_audio(root, stop)
            if stop():
                return todo
            have = cat.files_under(root_id)
            # A library folder that held samples and now reads as empty is an unmounted
            # drive's mount point more often than a pack emptied by hand. Its files are let
            # go only if most of its sounds are in another library folder (moved: see
            # _moved_away); else they are kept, hidden, like an unreadable folder's.
            if have and not res.found and not res.unreadable_dirs and os.path.isdir(root):
                emptied.add(root_id)
            if have and not os.path.exists(root):
                missing[root_id] = list(have.values())
            rep.unreadable_dirs += res.unreadable_dirs
            rep.skipped += res.bad_names
            rep.scanned += len(res.found)
            # A folder the scan could not read (permissions, or the root itself on a drive
            # that is unplugged or a share that is not mounted) hides its files, it does not
            # delete them: they keep their rows, analyses and vectors until it reads again.
            hidden = tuple(d.rstrip(os.sep) + os.sep for d, _ in res.unreadable_dirs)
            gone = []
            for p, known in have.items():
                if p in res.found:
                    continue
                if hidden and p.startswith(hidden):
                    rep.unchanged += 1
                    if known.content_id is not None:
                        hidden_contents.add(known.content_id)
                else:
                    gone.append(known)
            # (path, stat, the content it held when it was last seen, if any)
            need: list[tuple[str, os.stat_result, int | None]] = []
            for path, st in sorted(res.found.items()):
                row = have.get(path)
                if (
                    row is not None
                    and row.size == st.st_size
                    and row.mtime_ns == st.st_mtime_ns
                    and (row.content_id is not None or row.error is not None)
                ):
                    if row.error:  # skipped again, for the same reason: counted once
                        rep.skipped.append((path, row.error))
                    else:
                        rep.unchanged += 1
                    continue
                need.append((path, st, row.content_id if row is not None else None))
            walked.append((root_id, gone, need))
        gone_contents = {
            g.content_id for _, gone, _ in walked for g in gone if g.content_id is not None
        }
        # And the sounds of library folders this run does not scan that are not there now
        # (`studio index Pack_renamed` after `mv Pack Pack_renamed`).
        for root_id, root in cat.roots():
            if root_id not in scan and not os.path.isdir(root):
                hidden_contents.update(
                    cid for (cid,) in cat.db.execute(
                        "SELECT content_id FROM files WHERE root_id=? AND content_id IS NOT NULL",
                        (root_id,)))  # fmt: skip
        moved_here: set[int] = set()
        moved_sizes = self._sizes(gone_contents | hidden_contents)
        for root_id, _gone, need in walked:
            link: list[tuple[str, os.stat_result, int]] = []
            # A new path is hashed here first (to be linked, not decoded) only when it may be
            # a moved sound: one of the size of a sound that left a folder or sits in one
            # that cannot be read. The rest the analysis workers hash as they read it (one
            # pass over the file, not two): a drive left unplugged no longer makes every
            # new pack be read twice. A copy of a sound already known is still linked to it
            # when committed. A known path whose date changed is hashed here first: touched
            # or copied back from a backup, the same bytes need no decoding.
            todo.extend((path, root_id, st, None) for path, st, was in need
                        if was is None and st.st_size not in moved_sizes)
            need = [n for n in need if n[2] is not None or n[1].st_size in moved_sizes]
            for n, ((path, st, was), (h, err)) in enumerate(
                zip(need, self._hashes([p for p, _, _ in need]), strict=True)
            ):
                if h is None:
                    self._record_error(path, root_id, st, err or "unreadable", rep)
                    continue
                cid = cat.content_by_hash(h)
                if cid is not None:
                    link.append((path, st, cid))
                    if cid == was:
                        rep.unchanged += 1  # only its date changed
                    elif cid in gone_contents or cid in hidden_contents:
                        # Moved here (from a folder this scan read), or the folder it was in
                        # cannot be read and it turned up here (renamed): linked, not decoded.
                        rep.moved += 1
                        moved_here.add(cid)
                else:
                    todo.append((path, root_id, st, h))
                if n % 500 == 0:
                    report(Progress("scan", n, len(need), path))
                    if stop():
                        return todo
            with cat.write() as db:
                for path, st, cid in link:
                    _upsert_file(db, path, root_id, st, cid, None)
        # The files that left are let go only once every root's moves are linked: a scan
        # stopped before that keeps them (their sounds keep a file, so no later clean-up
        # can take a moved pack's sounds, and every model's vectors, before it is linked).
        gone_ids = {g.id for _, gone, _ in walked for g in gone}
        for root_id, files in missing.items():
            # Not there (a drive not mounted, a folder renamed): its files stay, hidden. Say
            # which it likely is, and how to let it go.
            where = scan[root_id]
            n = len(files)
            why = (f"not found: its {n:,} samples are kept, hidden, until it is back (is its "
                   "drive unmounted?)")  # fmt: skip
            if self._moved_away(root_id, files, moved_here, set()):
                why = (f"not found, and most of its {n:,} samples are in another library "
                       "folder now (renamed or moved?)")  # fmt: skip
            why += f"; if it is gone for good, remove it from the library ({REMOVE_HINT})"
            rep.unreadable_dirs = [(d, why if d == where else r) for d, r in rep.unreadable_dirs]
        with cat.write() as db:
            for root_id, gone, _ in walked:
                if root_id in emptied and not self._moved_away(root_id, gone, moved_here,
                                                               gone_ids):
                    rep.unreadable_dirs.append((
                        scan[root_id], "it is empty: is its drive unmounted? (If its samples "
                        f"are gone for good, remove the folder from the library: {REMOVE_HINT})"
                    ))  # fmt: skip
                    rep.unchanged += len(gone)
                    continue
                for g in gone:
                    db.execute("DELETE FROM files WHERE id=?", (g.id,))
                # A file whose sound was linked at its new place moved; it was not removed.
                rep.removed += sum(1 for g in gone if g.content_id not in moved_here)
        return todo

    def _sizes(self, cids: set[int]) -> set[int]:
        """The file sizes of these contents (a moved file keeps its size)."""
        return {size for (size,) in self.catalog.select_in(
            "SELECT size FROM contents WHERE id IN ({q})", sorted(cids))}

    def _moved_away(
        self, root_id: int, gone: list[Any], moved_here: set[int], gone_ids: set[int]
    ) -> bool:
        """Whether a library folder that reads as empty was moved (most of its sounds are in
        another library folder: linked by this scan, or earlier, as when the pack's new home
        was indexed alone) rather than unmounted. One sample copied off the drive does not
        make the drive's folder a moved one."""
        cids = {g.content_id for g in gone if g.content_id is not None}
        if not cids:
            return True
        elsewhere = cids & moved_here
        for fid, cid in self.catalog.select_in(
            "SELECT id, content_id FROM files WHERE root_id != ? AND content_id IN ({q})",
            sorted(cids - elsewhere), root_id,
        ):
            if fid not in gone_ids:
                elsewhere.add(int(cid))
        return len(elsewhere) >= MOVED_SHARE * len(cids)

    def _map_batches(
        self, fn: Callable[[list[Any]], list[R]], items: list[Any], size: int
    ) -> Iterator[list[R]]:
        """fn of each batch of `size` items, in order; on the pool when it pays."""
        batches = list(iter_batches(items, size))
        if self._use_pool(len(items)):
            yield from self._get_pool().imap(fn, batches)
        else:
            yield from (fn(b) for b in batches)

    def _hashes(self, paths: list[str]) -> Iterator[tuple[str | None, str | None]]:
        """(hash, None) or (None, reason) per path, in order."""
        for batch in self._map_batches(hash_paths, paths, 64):
            yield from batch

    def _analyse_paths(self, paths: list[str]) -> Iterator[FileAnalysis]:
        """analysis.analyze_path of each path, in order."""
        for batch in self._map_batches(analyze_paths, [(p, False) for p in paths], 8):
            yield from batch

    def _use_pool(self, n: int) -> bool:
        return self.workers > 1 and n >= _POOL_MIN_FILES

    def _get_pool(self) -> Any:
        if self._pool is None:
            # Only the analysis processes are lowered: this thread holds the GIL the app's
            # window needs, and a low-priority GIL holder would stall it (priority inversion).
            # One BLAS thread per worker: two workers with two threads each on two cores
            # spend their time spinning (measured: ~30% slower). Children read this at start.
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ.setdefault(var, "1")
            self._pool = mp.get_context("spawn").Pool(
                self.workers, initializer=lower_priority, initargs=(self.worker_nice,)
            )
        return self._pool

    def _record_error(
        self, path: str, root_id: int, st: os.stat_result, reason: str, rep: IndexReport
    ) -> None:
        rep.skipped.append((path, reason))
        with self.catalog.write() as db:
            _upsert_file(db, path, root_id, st, None, reason)

    # ---- 3: analyse new contents -------------------------------------------------------
    def _analyse(
        self,
        todo: list[tuple[str, int, os.stat_result, str | None]],
        rep: IndexReport,
        report: ProgressFn,
        stop: StopFn,
    ) -> None:
        if not todo:
            return
        meta = {p: (root, st, h) for p, root, st, h in todo}
        jobs = [(p, h is None) for p, _, _, h in todo]  # (path, hash it too)
        total = len(jobs)
        report(Progress("analyse", 0, total))
        done = 0
        pending: list[FileAnalysis] = []
        for batch in self._map_batches(analyze_paths, jobs, 8):
            pending += batch
            if len(pending) >= _BATCH:
                done += self._commit(pending, meta, rep)
                pending = []
                report(Progress("analyse", done, total, batch[-1].path))
                if stop():
                    return
        done += self._commit(pending, meta, rep)
        report(Progress("analyse", done, total))

    def _commit(self, results: list[FileAnalysis], meta: dict, rep: IndexReport) -> int:
        index = self._index_for(self.builtin)
        new_labels: list[int] = []
        new_vecs: list[np.ndarray] = []
        with self.catalog.write() as db:
            for r in results:
                root_id, st, h = meta[r.path]
                h = h or r.hash
                if r.error is None and h is None:
                    r.error = "unreadable"
                if r.error is not None:
                    rep.skipped.append((r.path, r.error))
                    _upsert_file(db, r.path, root_id, st, None, r.error)
                    continue
                cid = self.catalog.content_by_hash(h)
                if cid is None:  # two new files with the same bytes in one batch share it
                    an = r.analysis or {}
                    cur = db.execute(
                        "INSERT INTO contents(hash, size, duration, sr, analysis, "
                        "analysis_version, category) VALUES(?,?,?,?,?,?,?)",
                        (
                            h,
                            st.st_size,
                            r.duration,
                            r.sr,
                            json.dumps(an, default=plain_json),
                            drums.ANALYSIS_VERSION,
                            an.get("category"),
                        ),
                    )
                    cid = int(cur.lastrowid or 0)
                    assert r.windows is not None and r.vectors is not None
                    for (s, e), v in zip(r.windows, r.vectors, strict=True):
                        iid = int(
                            db.execute(
                                "INSERT INTO items(content_id, start, end) VALUES(?,?,?)",
                                (cid, s, e),
                            ).lastrowid
                            or 0
                        )
                        db.execute(
                            "INSERT INTO vectors(item_id, embedder, vec) VALUES(?,?,?)",
                            (iid, self.builtin.id, v.astype(np.float32).tobytes()),
                        )
                        new_labels.append(iid)
                        new_vecs.append(v)
                _upsert_file(db, r.path, root_id, st, cid, None)
                rep.indexed += 1
        if new_labels:
            index.add(np.array(new_labels, np.int64), np.stack(new_vecs))
        self._save_all()
        return len(results)

    # ---- 4: garbage ----------------------------------------------------------------------
    def collect_garbage(self) -> None:
        """Drop contents no file points at, and their items and vectors."""
        db = self.catalog.db
        orphan = [
            r[0]
            for r in db.execute(
                "SELECT i.id FROM items i JOIN contents c ON c.id=i.content_id WHERE NOT EXISTS "
                "(SELECT 1 FROM files f WHERE f.content_id=c.id)"
            )
        ]
        with self.catalog.write() as w:
            w.execute(
                "DELETE FROM contents WHERE NOT EXISTS "
                "(SELECT 1 FROM files f WHERE f.content_id=contents.id)"
            )
        if orphan:
            for emb_index in self._open_indexes():
                emb_index.delete(orphan)

    def _open_indexes(self) -> list[VectorIndex]:
        return self._indexes.open_indexes()

    def _save_all(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._last_save < _SAVE_EVERY_S:
            return
        for idx in self._open_indexes():
            idx.save()
        self._last_save = time.monotonic()
