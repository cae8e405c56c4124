"""The catalog: one SQLite database (WAL) that is the source of truth for the library.

Layout, by what each table answers:
- roots: the folders the user added.
- files: every audio path seen under a root, with size/mtime (to skip unchanged files without
  reading them), the content it holds, and the reason when it could not be analysed.
- contents: one row per distinct file content (a hash), so a moved, renamed or duplicated file
  shares its analysis and embeddings with its twin. Holds duration and drum analysis.
- items: the embeddable parts of a content: one for a one-shot, overlapping windows for loops.
- vectors: one embedding per item per embedder. The HNSW indexes are caches of this table and
  can always be rebuilt from it.

Each thread gets its own connection; every write happens inside `write()`, under one lock,
so there is one writer at a time (STYLE.md, practice 4). Any commit is atomic, so a kill at any
moment loses at most the batch in flight, which the next run redoes.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.paths import is_inside

SCHEMA_VERSION = 3

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roots(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,
    added REAL NOT NULL);
CREATE TABLE IF NOT EXISTS contents(id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL, duration REAL, sr INTEGER, error TEXT);
CREATE TABLE IF NOT EXISTS files(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE,
    root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    content_id INTEGER REFERENCES contents(id), error TEXT);
CREATE INDEX IF NOT EXISTS files_content ON files(content_id);
CREATE INDEX IF NOT EXISTS files_root ON files(root_id);
CREATE TABLE IF NOT EXISTS items(id INTEGER PRIMARY KEY,
    content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
    start REAL NOT NULL, end REAL NOT NULL);
CREATE INDEX IF NOT EXISTS items_content ON items(content_id);
CREATE TABLE IF NOT EXISTS vectors(item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    embedder TEXT NOT NULL, vec BLOB NOT NULL, PRIMARY KEY(item_id, embedder));
CREATE INDEX IF NOT EXISTS vectors_embedder ON vectors(embedder);
"""

# v2: the drum analysis (category, sound words...) of each content, and favourites.
_MIGRATE_1_TO_2 = """
ALTER TABLE contents ADD COLUMN analysis TEXT;
ALTER TABLE contents ADD COLUMN analysis_version INTEGER;
ALTER TABLE contents ADD COLUMN category TEXT;
CREATE INDEX IF NOT EXISTS contents_category ON contents(category);
"""

# v3: content and item ids are never reused (AUTOINCREMENT). SQLite hands a deleted row's id
# to the next insert when it was the largest; vectors, index labels and the text table are
# keyed by these ids, so a new sound could inherit a deleted one's (a kill before the index
# was saved left the new item with the old vector). The tables are rebuilt, rows and ids
# kept, with foreign keys off (see _migrate).
_MIGRATE_2_TO_3 = """
CREATE TABLE contents_v3(id INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL, duration REAL, sr INTEGER, error TEXT, analysis TEXT,
    analysis_version INTEGER, category TEXT);
INSERT INTO contents_v3(id, hash, size, duration, sr, error, analysis, analysis_version, category)
    SELECT id, hash, size, duration, sr, error, analysis, analysis_version, category
    FROM contents;
DROP TABLE contents;
ALTER TABLE contents_v3 RENAME TO contents;
CREATE INDEX IF NOT EXISTS contents_category ON contents(category);
CREATE TABLE items_v3(id INTEGER PRIMARY KEY AUTOINCREMENT,
    content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
    start REAL NOT NULL, end REAL NOT NULL);
INSERT INTO items_v3(id, content_id, start, end) SELECT id, content_id, start, end FROM items;
DROP TABLE items;
ALTER TABLE items_v3 RENAME TO items;
CREATE INDEX IF NOT EXISTS items_content ON items(content_id);
"""

MIGRATIONS: dict[int, str] = {1: _MIGRATE_1_TO_2, 2: _MIGRATE_2_TO_3}


def open_error(path: Path | str, e: sqlite3.Error) -> str:
    """What to tell the user when the catalog cannot be opened: only a damaged file is
    worth deleting (a locked or read-only one holds every analysis and vector)."""
    msg = str(e).lower()
    if "locked" in msg or "busy" in msg:
        return (f"the catalog at {path} is in use by another Studio ({e}); wait for it to "
                "finish, or close it")
    if any(w in msg for w in ("readonly", "read-only", "unable to open", "permission")):
        return (f"cannot open the catalog at {path} for writing ({e}): its folder is "
                "read-only or not yours; fix its permissions or choose another --data-dir")
    return f"the catalog at {path} is damaged ({e}); delete it to rebuild"


class CatalogError(Exception):
    pass


@dataclass(frozen=True)
class FileRow:
    id: int
    path: str
    root_id: int
    size: int
    mtime_ns: int
    content_id: int | None
    error: str | None


_open_catalogs: weakref.WeakSet[Catalog] = weakref.WeakSet()


def close_thread_connections() -> None:
    """Close the calling thread's connection to every catalog (see Catalog.close_thread)."""
    for cat in list(_open_catalogs):
        cat.close_thread()


class Catalog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._all_lock = threading.Lock()
        self._migrate()
        _open_catalogs.add(self)

    # ---- connections -------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._all_lock:
                self._all.append((threading.current_thread(), conn))
        return conn

    def close_thread(self) -> None:
        """Close the calling thread's connection, if it has one: a worker thread calls this
        as it ends (ui.worker), or its connection stayed open (two file descriptors) until
        the catalog closed, and a long session ran out of descriptors."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        with self._all_lock:
            self._all = [(t, c) for t, c in self._all if c is not conn]
        try:
            conn.close()
        except sqlite3.Error:
            pass

    def close(self) -> None:
        """Close this thread's connection and those of threads that ended. A connection that
        another live thread may be using right now is not closed under it (sqlite3 then
        crashes the process: a search still running while the window closed did): it is
        let go, and closes when that thread drops it."""
        me = threading.current_thread()
        with self._all_lock:
            for owner, c in self._all:
                if owner is me or not owner.is_alive():
                    try:
                        c.close()
                    except sqlite3.Error:
                        pass
            self._all.clear()
        self._local = threading.local()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, under the single-writer lock."""
        with self._write_lock:
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            else:
                db.execute("COMMIT")

    # ---- schema ------------------------------------------------------------------------
    def _migrate(self) -> None:
        # Rebuilding a table that others reference needs foreign keys off (a DROP TABLE would
        # cascade-delete the rows pointing at it), and that can only change outside a
        # transaction; the check below runs before the migration commits.
        try:
            if self._is_current():
                return  # nothing to create or migrate: no write lock (read-only commands)
            self.db.execute("PRAGMA foreign_keys=OFF")
            try:
                with self.write() as db:
                    has_meta = db.execute(
                        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
                    ).fetchone()
                    if not has_meta:
                        for stmt in _statements(_SCHEMA_V1):
                            db.execute(stmt)
                        db.execute("INSERT INTO meta VALUES('schema_version', '1')")
                    row = db.execute("SELECT value FROM meta WHERE key='schema_version'")
                    version = int(row.fetchone()[0])
                    migrated = version < SCHEMA_VERSION
                    if version > SCHEMA_VERSION:
                        raise self._too_new(version)
                    while version < SCHEMA_VERSION:
                        for stmt in _statements(MIGRATIONS[version]):
                            db.execute(stmt)
                        version += 1
                        db.execute(
                            "UPDATE meta SET value=? WHERE key='schema_version'", (str(version),)
                        )
                    bad = migrated and db.execute("PRAGMA foreign_key_check").fetchone()
                    if bad:
                        raise sqlite3.DatabaseError(f"a row of {bad[0]} points at nothing")
            finally:
                self.db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.DatabaseError as e:
            raise CatalogError(open_error(self.path, e)) from None

    def _is_current(self) -> bool:
        """Whether the catalog exists at this format, read without taking the write lock
        (which another Studio's index run may hold: a search must not wait 30 s for it)."""
        try:
            row = self.db.execute(
                "SELECT value FROM meta WHERE key='schema_version'"
            ).fetchone()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return False
            raise
        if row is None:
            return False
        version = int(row[0])
        if version > SCHEMA_VERSION:
            raise self._too_new(version)
        return version == SCHEMA_VERSION

    def _too_new(self, version: int) -> CatalogError:
        return CatalogError(
            f"the catalog at {self.path} was written by a newer Studio "
            f"(format {version}); update Studio or choose another --data-dir"
        )

    @property
    def schema_version(self) -> int:
        return int(
            self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
        )

    # ---- roots -------------------------------------------------------------------------
    def add_root(self, path: str, merge: bool = True) -> int:
        """The root that holds `path`: one already there if `path` is it or inside it, else a
        new one, which takes over roots inside it (their files keep their rows). Nested roots
        would each claim the inner files: every scan of one re-decoded them as new. With
        `merge` False (an index run holds those roots' ids) the next scan merges them.

        Folders are compared by their real paths (a folder given again through a symlink is
        the same folder) and stored as given (results show the paths the user knows)."""
        real = os.path.realpath(path)
        with self.write() as db:
            rows = [(int(i), p, os.path.realpath(p)) for i, p in db.execute(
                "SELECT id, path FROM roots")]
            for rid, rp, rr in rows:
                if path == rp or real == rr or is_inside(real, rr):
                    return rid
            cur = db.execute("INSERT INTO roots(path, added) VALUES(?, ?)", (path, time.time()))
            new = int(cur.lastrowid or 0)
            for rid, _rp, rr in rows:
                if merge and is_inside(rr, real):
                    _fold_root(db, rid, new)
            return new

    def merge_nested_roots(self) -> None:
        """Fold any root inside another into the outermost, and a folder held twice (once
        through a link) into its first root: libraries made before add_root did. One fold
        at a time, the roots read again after each (a fold deletes a root)."""
        with self.write() as db:
            while True:
                paths = {int(i): os.path.realpath(p) for i, p in db.execute(
                    "SELECT id, path FROM roots ORDER BY id")}
                fold = None
                for rid, rp in paths.items():
                    outer = [oid for oid, op in paths.items()
                             if is_inside(rp, op) or (op == rp and oid < rid)]
                    if outer:
                        fold = (rid, min(outer, key=lambda o: (len(paths[o]), o)))
                        break
                if fold is None:
                    return
                _fold_root(db, *fold)

    def root_path(self, root_id: int) -> str | None:
        r = self.db.execute("SELECT path FROM roots WHERE id=?", (root_id,)).fetchone()
        return str(r[0]) if r else None

    def remove_root(self, path: str) -> None:
        with self.write() as db:
            row = db.execute("SELECT id FROM roots WHERE path=?", (path,)).fetchone()
            if row:
                db.execute("DELETE FROM files WHERE root_id=?", (row[0],))
                db.execute("DELETE FROM roots WHERE id=?", (row[0],))

    def roots(self) -> list[tuple[int, str]]:
        return [(int(i), p) for i, p in self.db.execute("SELECT id, path FROM roots ORDER BY path")]

    # ---- files -------------------------------------------------------------------------
    def files_under(self, root_id: int) -> dict[str, FileRow]:
        rows = self.db.execute(
            "SELECT id, path, root_id, size, mtime_ns, content_id, error FROM files "
            "WHERE root_id=?",
            (root_id,),
        )
        return {r[1]: FileRow(*r) for r in rows}

    def select_in(self, sql: str, ids: Iterable[int], *before: Any) -> Iterator[tuple[Any, ...]]:
        """The rows of `sql`, whose "{q}" stands for the placeholders of an IN list, over
        `ids` in chunks under SQLite's limit on variables; `before`: the parameters that come
        ahead of the list."""
        ids = list(ids)
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            yield from self.db.execute(sql.format(q=",".join("?" * len(chunk))),
                                       (*before, *chunk))

    def count_files_under(self, root: str) -> int:
        """Files recorded under the library folder `root` (indexed or not)."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM files JOIN roots ON files.root_id = roots.id WHERE roots.path=?",
            (root,),
        ).fetchone()
        return int(row[0])

    def file_by_path(self, path: str) -> FileRow | None:
        r = self.db.execute(
            "SELECT id, path, root_id, size, mtime_ns, content_id, error FROM files WHERE path=?",
            (path,),
        ).fetchone()
        return FileRow(*r) if r else None

    def content_by_hash(self, h: str) -> int | None:
        r = self.db.execute("SELECT id FROM contents WHERE hash=?", (h,)).fetchone()
        return int(r[0]) if r else None

    # ---- vectors -----------------------------------------------------------------------
    def vectors(
        self, embedder: str, item_ids: Iterable[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vecs) stored for `embedder`, all or the given items."""
        if item_ids is None:
            rows = self.db.execute(
                "SELECT item_id, vec FROM vectors WHERE embedder=?", (embedder,)
            ).fetchall()
        else:
            rows = list(self.select_in(
                "SELECT item_id, vec FROM vectors WHERE embedder=? AND item_id IN ({q})",
                item_ids, embedder))
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        labels = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        vecs = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        return labels, vecs

    def vector_ids(self, embedder: str) -> set[int]:
        return {
            int(r[0])
            for r in self.db.execute("SELECT item_id FROM vectors WHERE embedder=?", (embedder,))
        }

    # Items some file still points at that have no vector for the embedder (parameter 1).
    _MISSING = (
        "FROM items i WHERE NOT EXISTS (SELECT 1 FROM vectors v "
        " WHERE v.item_id=i.id AND v.embedder=?) "
        "AND EXISTS (SELECT 1 FROM files f WHERE f.content_id=i.content_id) "
    )

    def items_missing(
        self, embedder: str, limit: int = 1000, after: int = 0
    ) -> list[tuple[int, int, float, float, str]]:
        """Items with no vector for `embedder`, ids above `after`: (item_id, content_id,
        start, end, a path)."""
        rows = self.db.execute(
            "SELECT i.id, i.content_id, i.start, i.end, "
            " (SELECT f.path FROM files f WHERE f.content_id=i.content_id LIMIT 1) "
            + self._MISSING
            + "AND i.id > ? ORDER BY i.id LIMIT ?",
            (embedder, after, limit),
        ).fetchall()
        return [(int(a), int(b), float(c), float(d), str(e)) for a, b, c, d, e in rows]

    def items_of_contents(self, content_ids: list[int]) -> list[int]:
        """The ids of these contents' items (one-shots and loop windows), ascending."""
        out = [int(r[0]) for r in self.select_in(
            "SELECT id FROM items WHERE content_id IN ({q})", content_ids)]
        return sorted(out)

    def paths_of(self, content_id: int, but: str | None = None) -> list[str]:
        """The paths of a content's files (less `but`), in path order."""
        return [
            str(r[0])
            for r in self.db.execute(
                "SELECT path FROM files WHERE content_id=? AND path IS NOT ? ORDER BY path",
                (content_id, but),
            )
        ]

    def count_items_missing(self, embedder: str) -> int:
        return int(self.db.execute("SELECT COUNT(*) " + self._MISSING, (embedder,)).fetchone()[0])

    def count_items(self) -> int:
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM items i WHERE EXISTS "
                "(SELECT 1 FROM files f WHERE f.content_id=i.content_id)"
            ).fetchone()[0]
        )

    def count_vectors(self, embedder: str) -> int:
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM vectors WHERE embedder=?", (embedder,)
            ).fetchone()[0]
        )

    def embedders(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT embedder FROM vectors")]

    # ---- lookups for search ------------------------------------------------------------
    def item_rows(self, item_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """item id -> {content_id, start, end, duration, category, analysis, paths}."""
        ids = list(dict.fromkeys(int(i) for i in item_ids))
        out: dict[int, dict[str, Any]] = {}
        rows = self.select_in(
            "SELECT i.id, i.content_id, i.start, i.end, c.duration, c.category, c.analysis, "
            " f.path FROM items i JOIN contents c ON c.id=i.content_id "
            "JOIN files f ON f.content_id=i.content_id WHERE i.id IN ({q}) "
            "ORDER BY f.path",
            ids,
        )
        for iid, cid, s, e, dur, cat, an, path in rows:
            d = out.get(iid)
            if d is None:
                d = out[iid] = {
                    "content_id": cid,
                    "start": s,
                    "end": e,
                    "duration": dur,
                    "category": cat,
                    "analysis": an,
                    "paths": [],
                }
            d["paths"].append(path)
        return out

    def errors(self) -> list[tuple[str, str]]:
        return [
            (p, e)
            for p, e in self.db.execute(
                "SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path"
            )
        ]

    def stats(self) -> dict[str, Any]:
        db = self.db
        one = lambda q: int(db.execute(q).fetchone()[0])  # noqa: E731
        return {
            "roots": one("SELECT COUNT(*) FROM roots"),
            "files": one("SELECT COUNT(*) FROM files"),
            "files_ok": one(
                "SELECT COUNT(*) FROM files WHERE error IS NULL AND content_id IS NOT NULL"
            ),
            "files_failed": one("SELECT COUNT(*) FROM files WHERE error IS NOT NULL"),
            "contents": one("SELECT COUNT(*) FROM contents"),
            "items": one("SELECT COUNT(*) FROM items"),
            "vectors": {
                e: n
                for e, n in db.execute("SELECT embedder, COUNT(*) FROM vectors GROUP BY embedder")
            },
        }

    def analysis_of(self, content_id: int) -> dict[str, Any] | None:
        r = self.db.execute("SELECT analysis FROM contents WHERE id=?", (content_id,)).fetchone()
        return json.loads(r[0]) if r and r[0] else None


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _fold_root(db: sqlite3.Connection, inner: int, outer: int) -> None:
    """Root `inner` becomes part of root `outer`: its files keep their rows."""
    db.execute("UPDATE files SET root_id=? WHERE root_id=?", (outer, inner))
    db.execute("DELETE FROM roots WHERE id=?", (inner,))

