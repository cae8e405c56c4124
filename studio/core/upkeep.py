"""Keeping a library current without rescanning it: back-filling an embedder over items it
lacks (MERT/CLAP once their weights arrive, or the built-in one after its maths changed),
re-analysing what an older analysis version made, and fusing CLAP's zero-shot categories.

Runs on the indexer's thread, so every write still comes from the one writer; the heavy part
of an upgrade (decoding and analysing every sound again) runs in the indexer's processes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from studio.core import drums, zeroshot
from studio.core.analysis import FileAnalysis, analyze_path
from studio.core.audio import DecodeError, decode, is_access_error
from studio.core.catalog import Catalog
from studio.core.embedders.base import Embedder
from studio.core.embedders.builtin import EMBEDDER_ID as BUILTIN_ID
from studio.core.progress import Progress, ProgressFn, StopFn
from studio.core.scanner import iter_batches
from studio.core.vindex import VectorIndex

AnalyseFn = Callable[[list[str]], Iterable[FileAnalysis]]


def plain_json(o: object) -> object:
    """numpy scalars and arrays in an analysis, as JSON can hold them."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


class Upkeep:
    def __init__(
        self,
        catalog: Catalog,
        index_for: Callable[[Embedder], VectorIndex],
        builtin: Embedder,
        save: Callable[[], None],
    ) -> None:
        self.catalog = catalog
        self._index_for = index_for
        self.builtin = builtin
        self._save_all = save
        # Contents whose analysis this run rewrote: caches of parsed analyses drop them.
        self.changed: set[int] = set()
        self.files_failed = False  # the back-fill let go of a file: tables of names change

    # ---- after an upgrade: vectors or analyses made by an older version ----------------------
    def upgrade(
        self, report: ProgressFn, stop: StopFn, analyse: AnalyseFn | None = None
    ) -> tuple[int, int]:
        """Re-analyse contents analysed by an older version, and re-embed items the current
        built-in embedder has no vector for (its maths changed since they were indexed).
        `analyse` maps paths to FileAnalysis in order (the indexer's worker processes, so
        the app's window keeps the GIL to itself); in this thread when None.
        Returns (items re-embedded, contents re-analysed)."""
        with self.catalog.write() as db:
            db.execute(
                "DELETE FROM vectors WHERE embedder LIKE 'builtin-%' AND embedder != ?",
                (self.builtin.id,),
            )
        self._drop_superseded_builtin_indexes()
        embedded = reanalysed = 0
        if drums.SAME_FOR_ONE_SHOTS:
            # Only loops changed since those versions: a one-shot's analysis stands.
            q = ",".join("?" * len(drums.SAME_FOR_ONE_SHOTS))
            with self.catalog.write() as db:
                db.execute(
                    f"UPDATE contents SET analysis_version=? WHERE analysis_version IN ({q}) "
                    "AND analysis IS NOT NULL AND json_extract(analysis, '$.kind') = 'one-shot'",
                    (drums.ANALYSIS_VERSION, *drums.SAME_FOR_ONE_SHOTS),
                )
        # Contents analysed by an older version, or with an item lacking a built-in vector:
        # one decode (analysis.analyze_path, what the indexer runs) gives both.
        stale = [
            (int(cid), path)
            for cid, path in self.catalog.db.execute(
                "SELECT c.id, (SELECT f.path FROM files f WHERE f.content_id=c.id LIMIT 1) "
                "FROM contents c WHERE c.analysis_version IS NOT ? OR EXISTS (SELECT 1 FROM "
                "items i WHERE i.content_id=c.id AND NOT EXISTS (SELECT 1 FROM vectors v "
                "WHERE v.item_id=i.id AND v.embedder=?))",
                (drums.ANALYSIS_VERSION, self.builtin.id),
            ).fetchall()
            if path is not None
        ]
        # analyze_path's vectors are the shipped built-in embedder's.
        same_space = self.builtin.id == BUILTIN_ID
        run = analyse or (lambda paths: (analyze_path(p) for p in paths))
        pending: list[tuple[int, FileAnalysis]] = []
        for n, (item, res) in enumerate(zip(stale, run([p for _, p in stale]), strict=False)):
            if stop():
                break
            if res.error is None and res.analysis is not None:
                pending.append((item[0], res))
            if len(pending) >= 64:
                e, r = self._commit_upgrade(pending, same_space)
                embedded, reanalysed, pending = embedded + e, reanalysed + r, []
                report(Progress("analyse", n + 1, len(stale), item[1]))
                self._save_all()
        e, r = self._commit_upgrade(pending, same_space)
        embedded, reanalysed = embedded + e, reanalysed + r
        # What is left: loops' windows (and whatever a stop left undone).
        if not stop() and self.catalog.items_missing(self.builtin.id, limit=1):
            embedded += self.backfill(self.builtin, report, stop)
        return embedded, reanalysed

    def _commit_upgrade(
        self, results: list[tuple[int, FileAnalysis]], same_space: bool
    ) -> tuple[int, int]:
        """Store new analyses, and a one-shot's vector where its only item lacks one; a file
        that did not decode is left for the next scan. Returns (vectors, analyses) written."""
        if not results:
            return 0, 0
        index = self._index_for(self.builtin)
        labels: list[int] = []
        vecs: list[np.ndarray] = []
        with self.catalog.write() as db:
            for cid, res in results:
                an = res.analysis or {}
                db.execute(
                    "UPDATE contents SET analysis=?, analysis_version=?, category=? WHERE id=?",
                    (
                        json.dumps(an, default=plain_json),
                        drums.ANALYSIS_VERSION,
                        an.get("category"),
                        cid,
                    ),
                )
                self.changed.add(cid)
                items = db.execute(
                    "SELECT i.id, EXISTS(SELECT 1 FROM vectors v WHERE v.item_id=i.id "
                    "AND v.embedder=?) FROM items i WHERE i.content_id=?",
                    (self.builtin.id, cid),
                ).fetchall()
                needs = same_space and an.get("kind") != "loop" and len(items) == 1
                if res.vectors is not None and needs and not items[0][1]:
                    v = res.vectors[0].astype(np.float32)
                    db.execute(
                        "INSERT OR REPLACE INTO vectors(item_id, embedder, vec) VALUES(?,?,?)",
                        (int(items[0][0]), self.builtin.id, v.tobytes()),
                    )
                    labels.append(int(items[0][0]))
                    vecs.append(v)
        if labels:
            index.add(np.array(labels, np.int64), np.stack(vecs))
        return len(labels), len(results)

    def _drop_superseded_builtin_indexes(self) -> None:
        """Delete the index files an older built-in embedder left (their vectors are gone)."""
        current = self._index_for(self.builtin)
        keep = {current.path.name, current.sidecar.name}
        for f in list(current.dir.glob("builtin-*")):
            if f.name not in keep:
                try:
                    f.unlink(missing_ok=True)
                except OSError:  # open elsewhere (Windows); the next upgrade retries
                    pass

    # ---- 5: back-fill another embedder ---------------------------------------------------
    def backfill(self, emb: Embedder, report: ProgressFn, stop: StopFn) -> int:
        index = self._index_for(emb)
        total = self.catalog.count_items_missing(emb.id)
        done = 0
        phase = f"embed:{emb.name}"
        report(Progress(phase, 0, total))
        after = 0  # items are taken in id order; ones that cannot be read now are passed
        while not stop():
            rows = self.catalog.items_missing(emb.id, limit=max(emb.batch_size, 8), after=after)
            if not rows:
                break
            after = rows[-1][0]
            clips, ids, failed = [], [], []
            for iid, cid, s, e, path in rows:
                span = e - s if e > s else emb.max_seconds
                whole_item = emb is self.builtin
                # This item's sound from the first of its files that reads. One that cannot
                # be reached now (its drive unplugged, its folder locked) is left alone, with
                # its sound (the scan keeps them too); one that no longer decodes lets go.
                for p in self._copies(cid, path):
                    try:
                        a = decode(
                            p,
                            sr=emb.sample_rate,
                            offset_seconds=s,
                            max_seconds=span + 0.05 if whole_item else min(span, emb.max_seconds),
                        )
                    except DecodeError as err:
                        if not is_access_error(err.reason):
                            failed.append((p, err.reason))
                        continue
                    y = a.samples
                    if whole_item and e > s:
                        # The built-in embedder finds the onset against the item's peak: give
                        # it what the indexer cut (analysis.py), all of a one-shot (its stored
                        # end is rounded) and a loop window's span.
                        n = int(e * emb.sample_rate) - int(s * emb.sample_rate)
                        if n < len(y) - emb.sample_rate // 100:
                            y = y[: max(n, 1)]
                    clips.append(y)
                    ids.append(iid)
                    break
            vecs = emb.embed_audio(clips) if clips else np.zeros((0, emb.dim), np.float32)
            with self.catalog.write() as db:
                for iid, v in zip(ids, vecs, strict=True):
                    db.execute(
                        "INSERT OR REPLACE INTO vectors(item_id, embedder, vec) VALUES(?,?,?)",
                        (iid, emb.id, v.astype(np.float32).tobytes()),
                    )
                for path, reason in failed:
                    # The file no longer decodes (changed without a new mtime, or damaged):
                    # record why on its row and let go of the content; the next scan looks
                    # at the file again. Only that file: a copy elsewhere keeps the sound.
                    db.execute(
                        "UPDATE files SET error=?, content_id=NULL, mtime_ns=-1 WHERE path=?",
                        (reason, path),
                    )
                    self.files_failed = True
            if ids:
                index.add(np.array(ids, np.int64), vecs)
            done += len(rows)
            report(Progress(phase, done, total, rows[-1][4]))
            self._save_all()
        return done

    def _copies(self, content_id: int, first: str) -> Iterator[str]:
        """`first`, then the content's other files: looked up only if `first` fails."""
        yield first
        yield from self.catalog.paths_of(content_id, but=first)

    def zero_shot(self, emb: Embedder) -> None:
        """Fuse the text-audio model's zero-shot category into every analysis lacking it."""
        db = self.catalog.db
        rows = db.execute(
            "SELECT c.id, c.analysis, MIN(i.id) FROM contents c JOIN items i "
            "ON i.content_id=c.id WHERE c.analysis IS NOT NULL "
            "AND c.analysis NOT LIKE '%\"probs_clap\"%' GROUP BY c.id"
        ).fetchall()
        if not rows:
            return
        prompts = emb.embed_text(list(zeroshot.PROMPTS.values()))
        cats = list(zeroshot.PROMPTS)
        for chunk in iter_batches(rows, 500):
            labels, vecs = self.catalog.vectors(emb.id, [r[2] for r in chunk])
            by_item = dict(zip(labels.tolist(), vecs, strict=True))
            todo = [(cid, an, by_item[iid]) for cid, an, iid in chunk if iid in by_item]
            if not todo:
                continue
            probs = zeroshot.clap_probs(np.stack([v for *_, v in todo]), prompts)
            with self.catalog.write() as w:
                for (cid, an, _), p in zip(todo, probs, strict=True):
                    fused = zeroshot.fuse(json.loads(an), dict(zip(cats, p.tolist(), strict=True)))
                    w.execute(
                        "UPDATE contents SET analysis=?, category=? WHERE id=?",
                        (json.dumps(fused, default=plain_json), fused["category"], cid),
                    )
                    self.changed.add(int(cid))
