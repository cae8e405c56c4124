"""The library: what the CLI and the app hold. Ties catalog, indexes, embedders and search.

Thread use: one thread indexes (the single writer) while others search; the catalog gives
each thread its own connection and every vector index has its own read/write lock.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.catalog import Catalog
from studio.core.drums import CATEGORIES, ScoreTable
from studio.core.drums.query import table_row
from studio.core.embedders.base import Embedder, EmbedderUnavailable
from studio.core.embedders.builtin import BuiltinEmbedder
from studio.core.indexer import Indexer, IndexReport, ProgressFn, StopFn
from studio.core.lock import Busy, exclusive
from studio.core.paths import resolve_data_dir, search_name
from studio.core.scanner import iter_batches
from studio.core.search import Query, Searcher, SearchResult
from studio.core.vindex import VectorIndex

MODEL_NAMES = ("default", "mert", "clap")


class LibraryError(Exception):
    pass


@dataclass
class ContentTable:
    """Every analysed content once, with one item and one display name: what text search ranks."""

    key: tuple[int, int]
    item_ids: list[int]
    scores: ScoreTable
    built: float
    content_ids: list[int]  # per row, ascending
    names: list[str]  # per row: paths.search_name of the content's files
    paths: list[str]  # per row: its files' paths, NUL-separated (what `names` was made of)
    roots: list[str]  # the library folders `names` were made against
    durations: np.ndarray  # per row, seconds (0 when unknown), for filters
    categories: np.ndarray  # per row, the stored category (object array), for filters
    files: np.ndarray  # per row, how many files hold the content (result counts)
    _present: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict, repr=False)

    def files_present(self) -> np.ndarray:
        """Per row, how many of its files can be listed now: not those of a library folder
        that is not there (an unplugged drive keeps its rows, hidden). One stat per library
        folder; the counts for a set of absent folders are kept."""
        gone = tuple(r for r in self.roots if not os.path.isdir(r))
        if not gone:
            return self.files
        counts = self._present.get(gone)
        if counts is None:
            prefixes = tuple(r.rstrip(os.sep) + os.sep for r in gone)
            counts = np.array([sum(1 for p in ps.split("\0") if not p.startswith(prefixes))
                               for ps in self.paths], np.int32)
            self._present = {gone: counts}
        return counts


class Library:
    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.data_dir = resolve_data_dir(data_dir)
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise LibraryError(f"the data dir {self.data_dir} is a file, not a folder")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(self.data_dir / "catalog.sqlite")
        self.builtin = BuiltinEmbedder()
        self._embedders: dict[str, Embedder] = {"default": self.builtin}
        self._indexes: dict[str, VectorIndex] = {}
        self._lock = threading.RLock()
        self._table: ContentTable | None = None
        # Contents whose analysis changed, and whether files changed, since the table was
        # built: its next build redoes just those rows (and the ones files moved or left).
        self._stale: set[int] = set()
        self._table_dirty = False
        self._indexing = False
        self.searcher = Searcher(self)

    # ---- roots ---------------------------------------------------------------------------
    def add_root(self, path: str | os.PathLike[str]) -> str:
        # As given (results show the paths the user knows); the catalog compares real
        # paths, so the same folder through a symlink is not a second root.
        p = os.path.abspath(os.path.expanduser(os.fspath(path)))
        if not os.path.isdir(p):
            raise LibraryError(f"not a folder: {p}")
        # While a run indexes, roots inside this one keep their ids (its rows point at them):
        # the next run, which the app queues for this folder, merges them.
        rid = self.catalog.add_root(p, merge=not self._indexing)
        return self.catalog.root_path(rid) or p  # the root that holds it, if one already did

    def remove_root(self, path: str) -> None:
        """Forget a library folder: its files' rows, and the sounds and vectors no other
        file holds (the files themselves are never touched). Not while this library is
        indexed, here or by another process (its files would vanish under the run)."""
        if self._indexing:
            raise LibraryError("indexing is running: stop it before removing a folder")
        try:
            with exclusive(self.data_dir / "index.lock"):
                self._sync_indexes()  # another process may have indexed since
                self.catalog.remove_root(os.path.abspath(path))
                # Contents no file points at leave the indexes on the next pass; do it now.
                Indexer(self.catalog, self, self.builtin, workers=1).collect_garbage()
                self.save()
        except Busy as e:
            raise LibraryError(
                f"another Studio ({e}) is indexing this library; wait for it to finish"
            ) from None

    def roots(self) -> list[str]:
        return [p for _, p in self.catalog.roots()]

    # ---- embedders and indexes ------------------------------------------------------------
    def index_for(self, emb: Embedder) -> VectorIndex:
        with self._lock:
            idx = self._indexes.get(emb.id)
            if idx is None:
                idx = VectorIndex(self.data_dir / "index", emb.id, emb.dim)
                idx.open(
                    lambda: self.catalog.vectors(emb.id), lambda: self.catalog.vector_ids(emb.id)
                )
                self._indexes[emb.id] = idx
            return idx

    def open_indexes(self) -> list[VectorIndex]:
        with self._lock:
            return list(self._indexes.values())

    def model_manager(self) -> Any:
        from studio.core.models.manager import ModelManager

        return ModelManager(self.data_dir)

    def embedder(self, name: str) -> Embedder:
        """The named embedder, loading its model if needed; EmbedderUnavailable if it can't."""
        if name not in MODEL_NAMES:
            raise EmbedderUnavailable(
                f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}"
            )
        with self._lock:
            emb = self._embedders.get(name)
            if emb is None:
                emb = self.model_manager().load(name)
                self._embedders[name] = emb
            return emb

    def loaded_embedders(self) -> list[Embedder]:
        with self._lock:
            return list(self._embedders.values())

    def try_load_ready_models(
        self, should_stop: StopFn | None = None
    ) -> dict[str, str]:
        """Load every downloaded/linked model; name -> problem for those that failed.
        `should_stop` is asked before each load (one load cannot be cut short)."""
        problems: dict[str, str] = {}
        try:
            mm = self.model_manager()
        except ImportError:  # the models extra is not installed: nothing can be ready
            return {}
        for name in ("mert", "clap"):
            if should_stop is not None and should_stop():
                break
            if mm.status(name).state == "ready":
                try:
                    self.embedder(name)
                except EmbedderUnavailable as e:
                    problems[name] = e.reason
        return problems

    def answering_embedders(self) -> list[Embedder]:
        """Loaded embedders whose vectors cover the library (built-in always answers).

        Coverage is read off the indexes (kept in step with the catalog), not counted in SQL:
        this runs on every query.
        """
        n_items = len(self.index_for(self.builtin))
        out = []
        for emb in self.loaded_embedders():
            if emb is self.builtin or (n_items and len(self.index_for(emb)) >= n_items):
                out.append(emb)
        return out

    def text_embedder(self) -> Embedder | None:
        for emb in self.answering_embedders():
            if emb.supports_text:
                return emb
        return None

    # ---- work ----------------------------------------------------------------------------
    def index(
        self,
        roots: Sequence[str] | None = None,
        models: Sequence[str] = ("default",),
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
        workers: int | None = None,
        worker_nice: int = 0,
    ) -> IndexReport:
        """Scan and analyse `roots` (all when None) and back-fill the given models.

        One run at a time per data dir, across processes: LibraryError if another holds it."""
        try:
            with exclusive(self.data_dir / "index.lock"):
                return self._index(roots, models, progress, should_stop, workers, worker_nice)
        except Busy as e:
            raise LibraryError(
                f"another Studio ({e}) is indexing this library; wait for it to finish"
            ) from None

    def _sync_indexes(self) -> None:
        """Indexes this process opened earlier, brought up to what the catalog holds now:
        another process may have indexed since (its run held the index lock we hold now)."""
        with self._lock:
            indexes = dict(self._indexes)
        for emb_id, idx in indexes.items():
            idx.sync(
                lambda e=emb_id: self.catalog.vector_ids(e),  # type: ignore[misc]
                lambda ids, e=emb_id: self.catalog.vectors(e, ids),  # type: ignore[misc]
            )

    def _index(
        self,
        roots: Sequence[str] | None,
        models: Sequence[str],
        progress: ProgressFn | None,
        should_stop: StopFn | None,
        workers: int | None,
        worker_nice: int,
    ) -> IndexReport:
        # Models first: a run that cannot start (MERT asked for and missing) must not have
        # added its folders to the library.
        embs = [self.embedder(m) for m in models]
        if roots is not None:
            roots = [self.add_root(r) for r in roots]
        self.index_for(self.builtin)
        for e in embs:
            self.index_for(e)
        self._sync_indexes()
        ix = Indexer(self.catalog, self, self.builtin, workers=workers, worker_nice=worker_nice)
        self._indexing = True
        rep: IndexReport | None = None
        try:
            rep = ix.run(roots, embs, progress, should_stop)
        finally:
            self._indexing = False
            with self._lock:  # text search must read the new analyses and names
                self._stale.update(ix.changed_analyses)
                touched = rep is None or rep.indexed or rep.removed or rep.moved or rep.skipped
                self._table_dirty = self._table_dirty or bool(touched) or ix.files_failed
        return rep

    def search(self, q: Query) -> SearchResult:
        self.index_for(self.builtin)
        return self.searcher.search(q)

    def save(self) -> None:
        for idx in self.open_indexes():
            idx.save()

    def close(self) -> None:
        self.save()
        self.catalog.close()

    # ---- helpers for search -----------------------------------------------------------------
    def first_item(self, content_id: int) -> int | None:
        r = self.catalog.db.execute(
            "SELECT MIN(id) FROM items WHERE content_id=?", (content_id,)
        ).fetchone()
        return int(r[0]) if r and r[0] is not None else None

    def items_of(self, content_id: int) -> list[int]:
        return [
            int(r[0])
            for r in self.catalog.db.execute(
                "SELECT id FROM items WHERE content_id=?", (content_id,)
            )
        ]

    def content_table(self) -> ContentTable:
        """The table text search ranks, kept up to date a row at a time: a build parses only
        the analyses of contents it has not seen (or that changed), so while an index run
        adds files (rebuilt then at most once a second) each one costs its own row only.
        Nothing else is cached: a parsed analysis takes ~5.6 kB, a row ~0.1 kB."""
        t = self._table
        if t is not None and self._indexing and time.monotonic() - t.built < 1.0:
            return t
        db = self.catalog.db
        key_row = db.execute("SELECT COUNT(*), COALESCE(MAX(id),0) FROM files").fetchone()
        key = (int(key_row[0]), int(key_row[1]))
        with self._lock:
            if t is not None and t.key == key and not self._stale and not self._table_dirty:
                return t
            stale, self._stale = self._stale, set()
            self._table_dirty = False
        # Every path of a sound counts, from its root's own folder down: a pack's name
        # ("Trap Kit/Kicks/...") finds it, and so does either pack of a shared sample.
        paths = dict(db.execute(
            "SELECT content_id, group_concat(path, char(0)) FROM files "
            "WHERE content_id IS NOT NULL GROUP BY content_id"
        ).fetchall())
        rows = [
            (*r, paths[r[0]])
            for r in db.execute(
                "SELECT c.id, MIN(i.id), c.duration, c.category FROM contents c "
                "JOIN items i ON i.content_id=c.id GROUP BY c.id ORDER BY c.id"
            )
            if r[0] in paths
        ]
        cids = [int(r[0]) for r in rows]
        items = [int(r[1]) for r in rows]
        paths_of = [r[4] for r in rows]
        roots = self.roots()
        # search_name per sound costs ~13 us: at 100k sounds it doubled a rebuild, so a
        # sound keeps the old table's name unless its paths (or the roots) changed.
        old = {cid: i for i, cid in enumerate(t.content_ids)} if t is not None else {}
        same_roots = t is not None and t.roots == roots
        names = []
        for c, ps in zip(cids, paths_of, strict=True):
            i = old.get(c)
            if t is not None and same_roots and i is not None and t.paths[i] == ps:
                names.append(t.names[i])
            else:
                names.append(search_name(ps.split("\0"), roots))
        parts: list[ScoreTable] = []
        order: list[int] = []  # the content of each row of `parts`, in turn
        todo: list[int] = []  # positions in `rows` to (re)build
        if t is None:
            todo = list(range(len(rows)))
        else:
            kept: list[int] = []  # rows of the old table still right, in order
            for j, cid in enumerate(cids):
                i = old.get(cid)
                if i is not None and cid not in stale and t.names[i] == names[j]:
                    kept.append(i)
                else:
                    todo.append(j)
            if kept:
                parts.append(t.scores if len(kept) == len(t.content_ids) else t.scores.take(kept))
                order = [t.content_ids[i] for i in kept]
        parts += [self._score_rows([cids[j] for j in c], [names[j] for j in c])
                  for c in iter_batches(todo, 900)]
        scores = ScoreTable.concat(parts)
        order += [cids[j] for j in todo]
        if any(a > b for a, b in zip(order, order[1:], strict=False)):
            # Changed contents went last: back to content order, so ties rank as in a
            # table built from nothing.
            scores = scores.take(np.argsort(order, kind="stable"))
        durations = np.array([r[2] or 0.0 for r in rows], np.float32)
        categories = np.array([r[3] for r in rows], dtype=object)
        files = np.array([p.count("\0") + 1 for p in paths_of], np.int32)
        t = ContentTable(key, items, scores, time.monotonic(), cids, names, paths_of, roots,
                         durations, categories, files)
        self._table = t
        return t

    def _score_rows(self, cids: list[int], names: list[str]) -> ScoreTable:
        q = ",".join("?" * len(cids))
        found = dict(
            self.catalog.db.execute(f"SELECT id, analysis FROM contents WHERE id IN ({q})", cids)
        )
        return ScoreTable.from_rows(
            [
                table_row(json.loads(found[c]) if found.get(c) else {}, n, CATEGORIES)
                for c, n in zip(cids, names, strict=True)
            ]
        )

    def info(self) -> dict[str, Any]:
        st = self.catalog.stats()
        return {
            "data_dir": str(self.data_dir),
            "catalog": str(self.catalog.path),
            "schema_version": self.catalog.schema_version,
            "roots": self.roots(),
            **{k: v for k, v in st.items() if k != "roots"},
            "index_dir": str(Path(self.data_dir) / "index"),
        }
