"""Keeping a library current without rescanning it: back-filling an embedder over items it
lacks (MERT/CLAP once their weights arrive, or the built-in one after its maths changed),
re-analysing what an older analysis version made, and fusing CLAP's zero-shot categories.

Runs on the indexer's thread, so every write still comes from the one writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np

from studio.core import drums, zeroshot
from studio.core.analysis import MAX_ANALYSED_SECONDS
from studio.core.audio import DecodeError, decode
from studio.core.catalog import Catalog
from studio.core.embedders.base import Embedder
from studio.core.embedders.builtin import EMBEDDER_ID as BUILTIN_ID
from studio.core.progress import Progress, ProgressFn, StopFn
from studio.core.scanner import iter_batches
from studio.core.vindex import VectorIndex


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

    # ---- after an upgrade: vectors or analyses made by an older version ----------------------
    def upgrade(self, report: ProgressFn, stop: StopFn) -> tuple[int, int]:
        """Re-embed items the current built-in embedder has no vector for (its maths changed
        since they were indexed) and re-analyse contents analysed by an older version.
        Returns (items re-embedded, contents re-analysed)."""
        with self.catalog.write() as db:
            db.execute(
                "DELETE FROM vectors WHERE embedder LIKE 'builtin-%' AND embedder != ?",
                (self.builtin.id,),
            )
        self._drop_superseded_builtin_indexes()
        embedded = reanalysed = 0
        stale = self.catalog.db.execute(
            "SELECT c.id, (SELECT f.path FROM files f WHERE f.content_id=c.id LIMIT 1) "
            "FROM contents c WHERE c.analysis_version IS NOT ?",
            (drums.ANALYSIS_VERSION,),
        ).fetchall()
        index = self._index_for(self.builtin)
        # The analysis's embedding vote reads vectors of the shipped built-in embedder only.
        same_space = self.builtin.id == BUILTIN_ID
        for n, (cid, path) in enumerate(stale):
            if stop():
                return embedded, reanalysed
            try:
                a = decode(path, sr=drums.ANALYSIS_SR, max_seconds=MAX_ANALYSED_SECONDS)
            except DecodeError:
                continue  # the next scan records what is wrong with the file
            # One decode serves both the analysis and, when the built-in embedder changed too,
            # a one-shot's vector: the whole sound's, as the indexer makes it.
            whole = self.builtin.embed_audio([a.samples])[0] if same_space else None
            short = len(a.samples) <= int(drums.ANALYSIS_SECONDS * a.sr)
            an = drums.analyze(
                a.samples, a.sr, duration=a.duration, embedding=whole if short else None
            )
            items = self.catalog.db.execute(
                "SELECT i.id, EXISTS(SELECT 1 FROM vectors v WHERE v.item_id=i.id "
                "AND v.embedder=?) FROM items i WHERE i.content_id=?",
                (self.builtin.id, cid),
            ).fetchall()
            one_shot_needs_vector = (
                whole is not None and an.get("kind") != "loop" and len(items) == 1
                and not items[0][1]
            )  # fmt: skip
            with self.catalog.write() as db:
                db.execute(
                    "UPDATE contents SET analysis=?, analysis_version=?, category=? WHERE id=?",
                    (
                        json.dumps(an, default=plain_json),
                        drums.ANALYSIS_VERSION,
                        an.get("category"),
                        cid,
                    ),
                )
                if one_shot_needs_vector:
                    assert whole is not None
                    db.execute(
                        "INSERT OR REPLACE INTO vectors(item_id, embedder, vec) VALUES(?,?,?)",
                        (items[0][0], self.builtin.id, whole.astype(np.float32).tobytes()),
                    )
            if one_shot_needs_vector:
                assert whole is not None
                index.add(np.array([items[0][0]], np.int64), whole[None, :])
                embedded += 1
            self.changed.add(int(cid))
            reanalysed += 1
            if n % 50 == 0:
                report(Progress("analyse", n, len(stale), path))
                self._save_all()
        # What is left: loops' windows, and every item when only the embedder changed.
        if not stop() and self.catalog.items_missing(self.builtin.id, limit=1):
            embedded += self.backfill(self.builtin, report, stop)
        return embedded, reanalysed

    def _drop_superseded_builtin_indexes(self) -> None:
        """Delete the index files an older built-in embedder left (their vectors are gone)."""
        current = self._index_for(self.builtin)
        keep = {current.path.name, current.sidecar.name}
        keep |= {f"{n}.tmp" for n in keep}
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
        while not stop():
            rows = self.catalog.items_missing(emb.id, limit=max(emb.batch_size, 8))
            if not rows:
                break
            clips, ids, failed = [], [], []
            for iid, _cid, s, e, path in rows:
                span = e - s if e > s else emb.max_seconds
                whole_item = emb is self.builtin
                try:
                    a = decode(
                        path,
                        sr=emb.sample_rate,
                        offset_seconds=s,
                        max_seconds=span + 0.05 if whole_item else min(span, emb.max_seconds),
                    )
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
                except DecodeError as err:
                    failed.append((iid, err.reason))
            vecs = emb.embed_audio(clips) if clips else np.zeros((0, emb.dim), np.float32)
            with self.catalog.write() as db:
                for iid, v in zip(ids, vecs, strict=True):
                    db.execute(
                        "INSERT OR REPLACE INTO vectors(item_id, embedder, vec) VALUES(?,?,?)",
                        (iid, emb.id, v.astype(np.float32).tobytes()),
                    )
                for iid, reason in failed:
                    # The file went unreadable since it was analysed: record why on its row
                    # and let go of the content; the next scan looks at the file again.
                    db.execute(
                        "UPDATE files SET error=?, content_id=NULL, mtime_ns=-1 "
                        "WHERE content_id=(SELECT content_id FROM items WHERE id=?)",
                        (reason, iid),
                    )
            if ids:
                index.add(np.array(ids, np.int64), vecs)
            done += len(rows)
            report(Progress(phase, done, total, rows[-1][4]))
            self._save_all()
        return done

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
