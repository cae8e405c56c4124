"""One on-disk HNSW index per embedder (hnswlib), a cache of the catalog's vectors.

Each index lives in `<dir>/<embedder id>.hnsw` with a JSON sidecar (format version, embedder
id, dim, count) that is checked before the index is loaded. Saves are atomic (write to a
temporary file, fsync, rename; the sidecar last), so a kill leaves the previous good pair.
`reconcile()` makes the index match the catalog: it adds what the catalog has and the index
lacks, and deletes what the catalog no longer has; a missing, corrupt or mismatched index is
rebuilt from the catalog.

hnswlib is not safe for adding and querying at once: every call takes one read/write lock.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import hnswlib
import numpy as np

FORMAT_VERSION = 1
_M = 16
_EF_CONSTRUCTION = 100
_MIN_CAPACITY = 1024


class RWLock:
    """Many readers or one writer; a waiting writer goes before new readers (no starvation)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class VectorIndex:
    def __init__(self, directory: str | Path, embedder_id: str, dim: int) -> None:
        self.dir = Path(directory)
        self.embedder_id = embedder_id
        self.dim = dim
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in embedder_id)
        self.path = self.dir / f"{safe}.hnsw"
        self.sidecar = self.dir / f"{safe}.json"
        self.lock = RWLock()
        self._index: hnswlib.Index | None = None
        self._ids: set[int] = set()
        self.dirty = False
        self.rebuilt_reason: str | None = None

    # ---- load / save -------------------------------------------------------------------
    def _new(self, capacity: int) -> hnswlib.Index:
        idx = hnswlib.Index(space="cosine", dim=self.dim)
        idx.init_index(
            max_elements=max(capacity, _MIN_CAPACITY),
            ef_construction=_EF_CONSTRUCTION,
            M=_M,
            allow_replace_deleted=True,
        )
        idx.set_ef(64)
        return idx

    def _try_load(self) -> str | None:
        """Load from disk; return why not when it can't be used."""
        if not self.path.exists() or not self.sidecar.exists():
            return "no index on disk"
        try:
            meta = json.loads(self.sidecar.read_text())
        except (OSError, ValueError) as e:
            return f"unreadable sidecar ({e})"
        want = {"format": FORMAT_VERSION, "embedder": self.embedder_id, "dim": self.dim}
        for k, v in want.items():
            if meta.get(k) != v:
                return f"sidecar {k}={meta.get(k)!r}, expected {v!r}"
        if meta.get("bytes") != self.path.stat().st_size:
            return "index file size does not match its sidecar"
        if "crc32" in meta and meta["crc32"] != _crc32(self.path):
            # The two files are replaced one after the other: a kill between them pairs the
            # new index with the old sidecar, whose list of deletions is then wrong.
            return "index file does not match its sidecar (an interrupted save)"
        try:
            idx = hnswlib.Index(space="cosine", dim=self.dim)
            idx.load_index(
                str(self.path),
                max_elements=int(meta.get("capacity", 0)) or 0,
                allow_replace_deleted=True,
            )
            idx.set_ef(64)
            ids = set(int(i) for i in idx.get_ids_list())
            deleted = set(meta.get("deleted", []))
        except (RuntimeError, ValueError, MemoryError) as e:
            return f"corrupt index ({e})"
        if idx.get_current_count() != len(ids):
            # A slot whose label now lives elsewhere: left by earlier builds re-embedding
            # an item by delete and re-add (see _add_locked); reusing it would lose that item.
            return "index holds orphaned slots (an older version's re-embedding)"
        self._index, self._ids = idx, ids - deleted
        return None

    def open(
        self,
        catalog_vectors: Callable[[], tuple[np.ndarray, np.ndarray]],
        catalog_ids: Callable[[], set[int]],
    ) -> None:
        """Load the index and make it match the catalog (rebuild if unusable)."""
        with self.lock.write():
            why = self._try_load()
            if why is not None:
                self.rebuilt_reason = why
                labels, vecs = catalog_vectors()
                self._index = self._new(len(labels) * 2)
                self._ids = set()
                if len(labels):
                    self._add_locked(labels, vecs)
                self.dirty = True
            else:

                def fetch(ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
                    labels, vecs = catalog_vectors()
                    sel = np.isin(labels, np.asarray(ids, dtype=np.int64))
                    return labels[sel], vecs[sel]

                self.dirty = self._reconcile_locked(catalog_ids, fetch)

    def sync(
        self,
        catalog_ids: Callable[[], set[int]],
        fetch_vectors: Callable[[list[int]], tuple[np.ndarray, np.ndarray]],
    ) -> bool:
        """Make an open index match the catalog again, after another process (`studio
        index` while the app is open, a second window) changed both: vectors the catalog
        dropped are deleted, those it gained are fetched and added. Whether it changed."""
        with self.lock.write():
            if self._index is None:
                return False
            changed = self._reconcile_locked(catalog_ids, fetch_vectors)
            self.dirty = self.dirty or changed
            return changed

    def _reconcile_locked(
        self,
        catalog_ids: Callable[[], set[int]],
        fetch_vectors: Callable[[list[int]], tuple[np.ndarray, np.ndarray]],
    ) -> bool:
        """Delete the labels the catalog no longer has, add the vectors it has that the
        index lacks; whether anything changed. The write lock is held."""
        want = catalog_ids()
        extra = self._ids - want
        for i in extra:
            try:
                self._index.mark_deleted(i)  # type: ignore[union-attr]
            except RuntimeError:  # already deleted in the file
                pass
        self._ids -= extra
        missing = sorted(want - self._ids)
        if missing:
            labels, vecs = fetch_vectors(missing)
            if len(labels):
                self._add_locked(labels, vecs)
        return bool(extra or missing)

    def save(self) -> None:
        with self.lock.read():
            if self._index is None or not self.dirty:
                return
            self.dir.mkdir(parents=True, exist_ok=True)
            # Names of their own: two processes saving at once (an index run and a search
            # that repaired the index) must not write into one temporary file.
            tmp = _temp_beside(self.path)
            self._index.save_index(str(tmp))
            _fsync(tmp)
            size = tmp.stat().st_size
            crc = _crc32(tmp)
            meta = {
                "format": FORMAT_VERSION,
                "embedder": self.embedder_id,
                "dim": self.dim,
                "count": len(self._ids),
                "capacity": self._index.get_max_elements(),
                "bytes": size,
                "crc32": crc,
                "deleted": [],
            }
            # hnswlib keeps deleted labels in the file; record them so a reload skips them.
            all_ids = set(int(i) for i in self._index.get_ids_list())
            meta["deleted"] = sorted(all_ids - self._ids)
            stmp = _temp_beside(self.sidecar)
            stmp.write_text(json.dumps(meta))
            _fsync(stmp)
            os.replace(tmp, self.path)
            os.replace(stmp, self.sidecar)
            _fsync_dir(self.dir)
            self.dirty = False

    # ---- mutation ----------------------------------------------------------------------
    def add(self, labels: np.ndarray, vecs: np.ndarray) -> None:
        if len(labels) == 0:
            return
        with self.lock.write():
            self._add_locked(np.asarray(labels, dtype=np.int64), np.asarray(vecs, np.float32))

    def _add_locked(self, labels: np.ndarray, vecs: np.ndarray) -> None:
        if len(labels) == 0:
            return
        if vecs.shape[1] != self.dim:
            raise ValueError(f"vectors of dim {vecs.shape[1]} for an index of dim {self.dim}")
        idx = self._index
        assert idx is not None, "index not opened"
        need = idx.get_current_count() + len(labels)
        if need > idx.get_max_elements():
            idx.resize_index(max(need, idx.get_max_elements() * 2))
        # Last vector per label, if a batch names one twice.
        lab_list = labels.tolist()
        last = {lab: i for i, lab in enumerate(lab_list)}
        if len(last) < len(lab_list):
            keep = sorted(last.values())
            labels, vecs, lab_list = labels[keep], vecs[keep], [lab_list[i] for i in keep]
        # A label the index holds, live or deleted, is updated in its own slot. Never delete
        # and re-add it: hnswlib's replace_deleted would put it in some other tombstone and
        # leave its old one still carrying the label, and whatever later reuses that old
        # tombstone erases the label's live entry (hnswlib PR #541, unmerged). So only labels
        # it has never held take tombstones.
        in_place: list[int] = []
        fresh: list[int] = []
        for i, lab in enumerate(lab_list):
            if lab in self._ids:
                in_place.append(i)
                continue
            try:
                idx.unmark_deleted(lab)
                in_place.append(i)
            except RuntimeError as e:  # "Label not found": not in the index at all
                (in_place if "not deleted" in str(e) else fresh).append(i)
        # big batches (a rebuild from the catalog) use every core; small ones stay on this one
        for sel, reuse in ((in_place, False), (fresh, True)):
            if sel:
                idx.add_items(
                    vecs[sel],
                    labels[sel],
                    num_threads=-1 if len(sel) > 1000 else 1,
                    replace_deleted=reuse,
                )
        self._ids.update(int(x) for x in labels.tolist())
        self.dirty = True

    def delete(self, labels: list[int]) -> None:
        with self.lock.write():
            for lab in labels:
                if lab in self._ids and self._index is not None:
                    self._index.mark_deleted(int(lab))
                    self._ids.discard(lab)
                    self.dirty = True

    # ---- queries -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    def ids(self) -> set[int]:
        with self.lock.read():
            return set(self._ids)

    def query(self, vec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Labels and cosine similarities of the k nearest items, best first."""
        with self.lock.read():
            n = len(self._ids)
            if self._index is None or n == 0 or k <= 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            k = min(k, n)
            self._index.set_ef(max(128, k + 16))
            try:
                labels, dists = self._index.knn_query(
                    np.asarray(vec, np.float32).reshape(1, -1), k=k, num_threads=1
                )
            except RuntimeError:  # too few reachable elements after deletions: exact fallback
                return self._exact_locked(vec, k)
            return labels[0].astype(np.int64), (1.0 - dists[0]).astype(np.float32)

    def _exact_locked(self, vec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        assert self._index is not None
        ids = np.fromiter(self._ids, dtype=np.int64)
        vecs = np.asarray(self._index.get_items(ids), dtype=np.float32)
        sims = vecs @ (vec / max(float(np.linalg.norm(vec)), 1e-9))
        order = np.argsort(-sims)[:k]
        return ids[order], sims[order].astype(np.float32)

    def get(self, labels: list[int]) -> np.ndarray:
        """Stored (normalised) vectors, one row per label; zeros for a label not indexed yet
        (the catalog commits a batch just before the index receives it)."""
        with self.lock.read():
            out = np.zeros((len(labels), self.dim), np.float32)
            if self._index is None or not labels:
                return out
            have = [i for i, lab in enumerate(labels) if int(lab) in self._ids]
            if have:
                got = self._index.get_items([int(labels[i]) for i in have])
                out[have] = np.asarray(got, dtype=np.float32)
            return out

    def __contains__(self, label: object) -> bool:
        return label in self._ids

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        with self.lock.read():
            if self._index is None or not self._ids:
                return np.zeros((0, self.dim), np.float32)
            ids = sorted(self._ids)
            rng = np.random.default_rng(seed)
            pick = rng.choice(len(ids), size=min(n, len(ids)), replace=False)
            return np.asarray(self._index.get_items([ids[i] for i in pick]), dtype=np.float32)


def _crc32(path: Path) -> int:
    """CRC-32 of a file (zlib reads it at ~1 GB/s without the GIL)."""
    crc = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            crc = zlib.crc32(chunk, crc)
    return crc


def _temp_beside(path: Path) -> Path:
    """A new, empty temporary file next to `path` (same filesystem: os.replace is atomic).
    Ones a killed save left behind over a day ago are removed."""
    for old in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if time.time() - old.stat().st_mtime > 86400:
                old.unlink()
        except OSError:
            pass
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
