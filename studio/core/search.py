"""Search: by example (one or more audio files), by words, or both at once.

How scores are fused (one documented way, used by the CLI and the app alike):

* Each embedder's cosine similarity s is first put on a common scale,
  c = (s - mu) / (1 - mu), where mu is that embedder's mean cosine between random pairs of
  the library (measured from a sample of its index). 0 means "as alike as two random samples
  of this library", 1 means identical. This keeps an embedder whose cosines all sit near 0.9
  (MERT) from drowning one whose cosines spread over [0, 1] (the built-in one).
* An audio query asks every embedder that covers the library for candidates, takes their
  union, and scores each candidate by the mean of the calibrated similarities of all the
  answering embedders (exact cosines from the stored vectors, not only the ones that
  happened to return it).
* A text query reads the words into a drum category and sound words (studio.core.drums) and
  scores every sample on them; with CLAP ready, that score is averaged with CLAP's
  calibrated text-audio similarity.
* An audio query's similarity is then mixed with category agreement (the probability that
  candidate and query are the same drum, from the category model's probabilities):
  0.85 x similarity + 0.15 x agreement, so that "similar" stays in the right category, as
  producers ask. Measured on the dev corpus, leave-one-kit-out (bench/quality.py).
* Audio and text together ("like this, but brighter"): 0.7 x audio similarity + 0.3 x how
  far each candidate moves from the query sound the way the words ask (brighter than it,
  shorter than it: drums.steer_table), over the audio query's candidates. On the dev corpus
  (bench/text_search.py) 69-78 % of the top 10 then have more of the word than the query
  (46-48 % unsteered), at a cost of 3-4 points of same-class precision; at 0.4 it is 77-84 %
  for 6-8 points. Words that name
  a drum ("like this kick, but a snare") look among that drum's sounds, and category
  agreement is then with it, not with the query sound's category.
"""

from __future__ import annotations

import filecmp
import json
import os
import time
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.core import drums
from studio.core.analysis import MAX_ANALYSED_SECONDS, SILENT
from studio.core.audio import DecodeError, decode
from studio.core.paths import is_inside, search_name
from studio.core.scanner import FULL_HASH_BYTES, content_hash

if TYPE_CHECKING:
    from studio.core.library import Library

AUDIO_TEXT_MIX = 0.3
CATEGORY_MIX = 0.15
CLAP_TEXT_MIX = 0.5


class QueryError(Exception):
    """A query that cannot run; the message tells the user why."""


@dataclass
class Filters:
    category: str | None = None
    min_seconds: float | None = None
    max_seconds: float | None = None
    words: list[str] = field(default_factory=list)

    def active(self) -> bool:
        return bool(
            self.category
            or self.min_seconds is not None
            or self.max_seconds is not None
            or self.words
        )


@dataclass
class Query:
    like: list[str] = field(default_factory=list)
    text: str | None = None
    k: int = 10
    filters: Filters = field(default_factory=Filters)

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {}
        if self.like:
            d["like"] = self.like[0] if len(self.like) == 1 else list(self.like)
        if self.text:
            d["text"] = self.text
        if not d and self.filters.active():
            d["browse"] = describe_filters(self.filters)
        return d


@dataclass
class Hit:
    path: str
    score: float
    content_id: int
    start: float
    end: float
    duration: float | None
    category: str | None
    scores: dict[str, float] = field(default_factory=dict)
    analysis: dict[str, Any] | None = None
    # The same bytes as a query file, under another name ("you have this already").
    identical: bool = False

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def folder(self) -> str:
        return os.path.basename(os.path.dirname(self.path))

    def category_conf(self) -> float | None:
        """How sure the category model is of `category` (0-1), when the analysis says."""
        probs = (self.analysis or {}).get("probs") or {}
        p = probs.get(self.category) if self.category else None
        return None if p is None else round(float(p), 3)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "path": self.path,
            "score": _num(self.score, 6),
            "category": self.category,
            "category_conf": self.category_conf(),
            "duration": None if self.duration is None else _num(self.duration, 4),
            "scores": {k: _num(v, 6) for k, v in self.scores.items()},
        }
        if self.identical:
            d["identical"] = True
        if self.duration is not None and (self.start > 0 or self.end < self.duration - 1e-3):
            d["start"], d["end"] = round(self.start, 3), round(self.end, 3)
        return d


@dataclass
class SearchResult:
    query: Query
    hits: list[Hit]
    embedders: list[str]  # which answered
    ms: float = 0.0
    notes: list[str] = field(default_factory=list)  # for the user: why nothing came back
    # How many sounds of the library match, when the search can tell (a text query naming a
    # drum: those heard as it), so a list cut at k can say "200 of 2,140"; None: every
    # sound is ranked (by example, or by sound words alone), k is where the list ends.
    total: int | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "query": self.query.describe(),
            "results": [h.to_json() for h in self.hits],
            "embedders": self.embedders,
        }
        if self.total is not None:
            d["total"] = self.total
        return d


_HASHED: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> its content hash
# ((path, size, mtime), content) -> whether a long file holds that content's bytes, read whole
_CONFIRMED: dict[tuple[tuple[str, int, int], int], bool] = {}


def _known_content(lib: Library, path: str) -> int | None:
    """The library sound whose bytes `path` holds, if any (a file dropped from outside the
    library, or the target of a link the library knows it by). The content hash reads a
    file whole up to FULL_HASH_BYTES; a longer one is hashed from samples of it, and two
    takes that differ in the middle would be "the same file", so a match is confirmed by
    reading both files whole (review 14: a 45 MB take dropped from outside ranked its own
    copy 524th). What was found is kept per path, size and date, so the searches that
    follow (a refresh, another page, more words) read nothing."""
    try:
        st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns)
        h = _HASHED.get(key)
        if h is None:
            h = content_hash(path, st.st_size)
            if len(_HASHED) > 256:
                _HASHED.clear()
                _CONFIRMED.clear()
            _HASHED[key] = h
        cid = lib.catalog.content_by_hash(h)
        if cid is None or st.st_size <= FULL_HASH_BYTES:
            return cid
        same = _CONFIRMED.get((key, cid))
        if same is None:
            same = _CONFIRMED[(key, cid)] = any(
                os.path.getsize(p) == st.st_size and filecmp.cmp(path, p, shallow=False)
                for p in lib.catalog.paths_of(cid)
                if os.path.isfile(p)
            )
    except OSError:
        return None
    return cid if same else None


def describe_filters(f: Filters) -> str:
    """The filters in words: 'category clap, 0.5 s or longer, bright'."""
    parts = []
    if f.category:
        parts.append(f"category {f.category}")
    if f.min_seconds is not None and f.max_seconds is not None:
        parts.append(f"{f.min_seconds:g}–{f.max_seconds:g} s long")
    elif f.min_seconds is not None:
        parts.append(f"{f.min_seconds:g} s or longer")
    elif f.max_seconds is not None:
        parts.append(f"{f.max_seconds:g} s or shorter")
    parts += f.words
    return ", ".join(parts)


class Searcher:
    def __init__(self, library: Library) -> None:
        self.lib = library
        self._mu: dict[str, tuple[int, float]] = {}

    # ---- public --------------------------------------------------------------------------
    def search(self, q: Query) -> SearchResult:
        t0 = time.perf_counter()
        if q.k <= 0:
            raise QueryError("-k must be at least 1")
        if not q.like and not q.text and not q.filters.active():
            raise QueryError(
                "give a sample to search like, words to search for, or filters to browse by"
            )
        try:
            if q.filters.category:
                drums.filter_members(q.filters.category)
            if q.filters.words:  # producers' words for the measured ones ('dusty')
                words = drums.filter_word_list(q.filters.words)
                q = replace(q, filters=replace(q.filters, words=words))
        except ValueError as e:
            raise QueryError(str(e)) from None
        notes: list[str] = []  # for the user; searches may run on several threads at once
        total: int | None = None
        if not q.like and not q.text:
            hits, used, total = self._browse(q)
        elif q.like:
            hits, used = self._like(q)
            if q.text and drums.hears_nothing(drums.parse_query(q.text)):
                notes.append(
                    f"no drum or sound word Studio knows in {q.text!r}: it can only move up "
                    "files whose names hold it; try brighter, darker, shorter, punchier, "
                    "dustier… or a drum (\"like this, but a snare\")"
                )
        else:
            hits, used, total = self._text(q, notes)
        if not hits and not notes and q.filters.active():
            notes.append(f"nothing in the library passes the filters ({describe_filters(q.filters)}): "
                         "loosen them to see more")
        return SearchResult(q, hits, used, (time.perf_counter() - t0) * 1000, notes, total)

    # ---- audio ---------------------------------------------------------------------------
    def _query_vectors(
        self, paths: Sequence[str]
    ) -> tuple[
        dict[str, np.ndarray], set[int], dict[str, float], set[str], set[int], dict[str, float]
    ]:
        """Per answering embedder the mean query vector; the query's own items (its sound
        and loop windows: they take candidate slots); the query's mean category
        probabilities; the query files as the library names them and as the disk does
        (left out of the hits); the library sounds the query files are byte for byte
        (their other copies are hits, first: "you have this already"); and the query's mean
        sound-word degrees (what "but brighter" is measured from)."""
        lib = self.lib
        per: dict[str, list[np.ndarray]] = {}
        exclude: set[int] = set()
        own: set[str] = set()  # the query files as the library names them
        same: set[int] = set()
        probs: list[dict[str, float]] = []
        words: list[dict[str, float]] = []
        embedders = lib.answering_embedders()
        for p in paths:
            ap = os.path.abspath(p)
            row = lib.catalog.file_by_path(ap)
            if row is None:  # a library file named through a symlink (or the other way)
                for alias in _library_aliases(ap, lib.roots()):
                    row = lib.catalog.file_by_path(alias)
                    if row is not None:
                        ap = alias
                        break
            if row is not None:
                own.add(ap)
            if row is not None and not _unchanged(ap, row.size, row.mtime_ns):
                row = None  # overwritten since it was indexed: what it holds now is the query
            own.add(os.path.realpath(ap))  # the file itself, whatever the library calls it
            cid = row.content_id if row is not None else _known_content(lib, ap)
            # Other files of that content are the same bytes where the hash read all of them.
            if cid is not None and (row is None or row.size <= FULL_HASH_BYTES):
                same.add(cid)
            item = lib.first_item(row.content_id) if row and row.content_id else None
            an = None
            decoded: np.ndarray | None = None
            if item is not None:
                exclude.update(lib.items_of(row.content_id))  # type: ignore[union-attr, arg-type]
                an = lib.catalog.analysis_of(row.content_id)  # type: ignore[union-attr, arg-type]
            if an is None:
                try:
                    # As far as the indexer reads: the sound may start late (review 13).
                    a = decode(ap, sr=drums.ANALYSIS_SR, max_seconds=MAX_ANALYSED_SECONDS)
                except DecodeError as e:
                    raise QueryError(f"{p}: {e.reason}") from None
                if not np.any(a.samples):  # nothing to be like (the indexer skips it too)
                    raise QueryError(f"{p}: {SILENT}")
                an = drums.analyze(a.samples, a.sr, duration=a.duration)
                decoded = a.samples
            probs.append(an.get("probs") or {})
            words.append(an.get("words") or {})
            # Decoded clips by (rate, length): the analysis's serves the built-in embedder,
            # which reads as far (both look for where the sound starts).
            clip_cache: dict[tuple[int, float], np.ndarray] = {}
            if decoded is not None:
                clip_cache[(drums.ANALYSIS_SR, MAX_ANALYSED_SECONDS)] = decoded
            for emb in embedders:
                vec = None
                if item is not None and item in lib.index_for(emb):
                    vec = lib.index_for(emb).get([item])[0]
                if vec is None:
                    ck = (emb.sample_rate, emb.max_seconds)
                    if ck not in clip_cache:
                        try:
                            clip_cache[ck] = decode(
                                ap, sr=emb.sample_rate, max_seconds=emb.max_seconds
                            ).samples
                        except DecodeError as e:
                            raise QueryError(f"{p}: {e.reason}") from None
                    vec = emb.embed_audio([clip_cache[ck]])[0]
                per.setdefault(emb.id, []).append(np.asarray(vec, np.float32))
        cats = {c for p in probs for c in p}
        mean_probs = {c: float(np.mean([p.get(c, 0.0) for p in probs])) for c in cats}
        vecs = {e: _unit(np.mean(v, axis=0)) for e, v in per.items()}
        names = {w for d in words for w in d}
        mean_words = {w: float(np.mean([d.get(w, 0.5) for d in words])) for w in names}
        return vecs, exclude, mean_probs, own, same, mean_words

    def _like(self, q: Query) -> tuple[list[Hit], list[str]]:
        lib = self.lib
        qv, exclude, qprobs, own, same, qwords = self._query_vectors(q.like)
        skip = set(q.like) | own
        steer = drums.parse_query(q.text) if q.text else None
        if steer is not None and steer.category:
            # "Like this kick, but a snare": snares, ranked by likeness to the kick, and
            # category agreement with a snare, not with the kick.
            members = drums.filter_members(steer.category)
            qprobs = {c: 1.0 / len(members) for c in members}
            if not q.filters.category:
                q = replace(q, filters=replace(q.filters, category=steer.category))
        embs = [e for e in lib.answering_embedders() if e.id in qv]
        widen = q.filters.active() or bool(q.text)
        n_cand = max(64, q.k * (10 if widen else 4)) + len(exclude)
        size = max((len(lib.index_for(e)) for e in embs), default=0)
        hits = self._like_among(q, qv, qprobs, embs, n_cand, skip, same, qwords=qwords)
        while len(hits) < q.k and not q.filters.active() and n_cand < size + len(exclude):
            # The nearest were files gone from disk (a folder on an unplugged drive keeps
            # its rows, hidden): look further.
            n_cand *= 4
            hits = self._like_among(q, qv, qprobs, embs, n_cand, skip, same, qwords=qwords)
        if len(hits) < q.k and q.filters.active() and n_cand < size + len(exclude):
            # Too few of the nearest pass the filters (a rim's neighbours, filtered to
            # snares): rank exactly the items that pass, however far they are.
            table = lib.content_table()
            keep = _filter_mask(q.filters, table)
            among = lib.catalog.items_of_contents(
                [c for c, k in zip(table.content_ids, keep, strict=True) if k]
            )
            hits = (
                self._like_among(q, qv, qprobs, embs, n_cand, skip, same, among, qwords)
                if among
                else []
            )
        return hits, [e.name for e in embs]

    def _like_among(
        self,
        q: Query,
        qv: dict[str, np.ndarray],
        qprobs: dict[str, float],
        embs: list[Any],
        n_cand: int,
        skip: set[str],
        same: AbstractSet[int],
        among: list[int] | None = None,
        qwords: dict[str, float] | None = None,
    ) -> list[Hit]:
        """The hits among each embedder's n_cand nearest items (of `among`, scored exactly,
        when given)."""
        lib = self.lib
        found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        cand: set[int] = set()
        for emb in embs:
            if among is None:
                labels, sims = lib.index_for(emb).query(qv[emb.id], n_cand)
            else:
                all_sims = lib.index_for(emb).get(among) @ qv[emb.id]
                top = np.argsort(-all_sims, kind="stable")[:n_cand]
                labels, sims = np.asarray(among, np.int64)[top], all_sims[top]
            found[emb.id] = (labels, sims)
            cand.update(int(x) for x in labels)
        ids = sorted(cand)
        if not ids:
            return []
        per_emb: dict[str, np.ndarray] = {}
        for emb in embs:
            if len(embs) == 1:  # the index's own cosines are exact for what it returned
                labels, sims = found[emb.id]
                pos = {int(lab): float(v) for lab, v in zip(labels, sims, strict=True)}
                raw = np.array([pos[i] for i in ids], np.float32)
            else:  # every candidate scored by every embedder, not only where it was found
                vecs = lib.index_for(emb).get(ids)
                raw = vecs @ qv[emb.id]
            per_emb[emb.name] = self._calibrate(emb, raw)
        fused = np.mean(np.stack(list(per_emb.values())), axis=0)
        rows = lib.catalog.item_rows(ids)
        agree = category_agreement(qprobs, [lib_analysis(rows.get(i)).get("probs") for i in ids])
        fused = (1 - CATEGORY_MIX) * fused + CATEGORY_MIX * agree
        words = None
        if q.text:
            words = self._steer_scores(q.text, qwords or {}, [rows.get(i) for i in ids])
            fused = (1 - AUDIO_TEXT_MIX) * fused + AUDIO_TEXT_MIX * words
        extra = {name: v for name, v in per_emb.items()}
        extra["category"] = agree
        if words is not None:
            extra["words"] = words
        return self._hits(ids, fused, rows, extra, q, skip, same)

    def _calibrate(self, emb: Any, sims: np.ndarray) -> np.ndarray:
        idx = self.lib.index_for(emb)
        n = len(idx)
        cached = self._mu.get(emb.id)
        if cached is None or abs(cached[0] - n) > max(50, 0.2 * cached[0]):
            sample = idx.sample(256)
            if len(sample) >= 2:
                g = sample @ sample.T
                mu = float((g.sum() - np.trace(g)) / (len(g) * (len(g) - 1)))
            else:
                mu = 0.0
            mu = min(mu, 0.95)
            self._mu[emb.id] = cached = (n, mu)
        mu = cached[1]
        return np.clip((sims - mu) / (1.0 - mu), -1.0, 1.0).astype(np.float32)

    # ---- text ----------------------------------------------------------------------------
    def _steer_scores(
        self, text: str, like: dict[str, float], rows: list[dict[str, Any] | None]
    ) -> np.ndarray:
        """drums.steer_table of the candidates `rows` for words `text` and a query sound
        whose word degrees are `like`."""
        pq = drums.parse_query(text)
        analyses = [lib_analysis(r) for r in rows]
        roots = self.lib.roots()
        names = [search_name(r["paths"], roots) if r else "" for r in rows]
        table = drums.ScoreTable.build(analyses, names)
        return np.asarray(drums.steer_table(pq, table, like), dtype=np.float32)

    def _text(self, q: Query, notes: list[str]) -> tuple[list[Hit], list[str], int | None]:
        lib = self.lib
        table = lib.content_table()
        if not table.item_ids:
            return [], ["words"], 0
        pq = drums.parse_query(q.text or "")
        scores = drums.score_table(pq, table.scores)
        used = ["words"]
        per: dict[str, np.ndarray] = {"words": scores}
        clap = lib.text_embedder()
        if clap is not None:
            tv = _unit(clap.embed_text([q.text or ""])[0])
            idx = lib.index_for(clap)
            vecs = idx.get(table.item_ids)
            if len(vecs) == len(table.item_ids):
                csims = self._calibrate(clap, vecs @ tv)
                per["clap"] = csims
                scores = (1 - CLAP_TEXT_MIX) * scores + CLAP_TEXT_MIX * csims
                # CLAP hears "not a snare" as a snare: what the words rule out stays out.
                ruled_out = drums.excluded_share(pq, table.scores)
                if ruled_out is not None:
                    scores = scores * (1.0 - ruled_out)
                used.append(clap.name)
        order = np.argsort(-scores, kind="stable")
        if clap is None and drums.hears_nothing(pq):
            # No drum and no sound word: without CLAP only names can match. Every other
            # sample scored the same ~0.95, and 'guitar' listed the library in folder order.
            order = order[drums.name_matches(pq, table.scores)[order]]
            if not len(order):
                notes.append(
                    f"no sound Studio knows in {q.text!r}, and no file or folder name holds "
                    "it: try a drum (kick, snare, open hat, 808, perc…) or a sound word "
                    "(bright, dusty, punchy, long…); with CLAP (a model to download) any "
                    "words work"
                )
                return [], used, 0
        counted = False
        share = drums.category_share(pq, table.scores)
        if clap is None and (share is not None or drums.hears_nothing(pq)):
            # The query names a drum: the sounds heard as it match (as the category filter
            # keeps them), and no more. "snare" listed the library's 100 snares and then 100
            # rims, hats and toms at 0.01, under "200 results".
            if share is not None:
                order = order[share[order] >= drums.FILTER_MIN_PROB]
            counted = True
        if q.filters.active():  # rank only what can pass (each hit is still checked)
            order = order[_filter_mask(q.filters, table)[order]]
        hits, total = self._table_hits(
            q, table, order, scores, per, max(q.k * (20 if q.filters.active() else 3), 64)
        )
        return hits, used, total if counted else None

    def _table_hits(
        self,
        q: Query,
        table: Any,
        order: np.ndarray,
        scores: np.ndarray,
        per: dict[str, np.ndarray],
        n: int,
    ) -> tuple[list[Hit], int]:
        """The first q.k hits of the content-table rows `order` (best first), looking at `n`
        rows, then four times more while too few pass; and how many files match."""
        while True:
            take = order[:n]
            ids = [table.item_ids[i] for i in take]
            rows = self.lib.catalog.item_rows(ids)
            extra = {k: v[take] for k, v in per.items()}
            hits = self._hits(ids, scores[take], rows, extra, q, set())
            # Words are matched to a sound as a whole (its first window stands for it in
            # the table): a hit claims no place inside a longer file.
            hits = [replace(h, start=0.0, end=h.duration) if h.duration else h for h in hits]
            # As for audio: too few of the best passed the filters, or had their files on
            # disk (an unplugged drive's are hidden), so look further.
            if len(hits) >= q.k or n >= len(order):
                # Short of k, every candidate was looked at: the hits are all there is (a
                # hit is a file; a row, a content that several files may hold).
                # Files of a folder that is not there are no results, so not counted.
                total = (max(int(table.files_present()[order].sum()), len(hits))
                         if len(hits) >= q.k else len(hits))
                return hits, total
            n *= 4

    # ---- filters alone ---------------------------------------------------------------------
    def _browse(self, q: Query) -> tuple[list[Hit], list[str], int | None]:
        """Every sound that passes the filters, with no sample or words (XO's and Sononym's
        "all kicks under 250 ms"): the likeliest of a category filter's drum first, else
        those the word filters fit best, else by name. Review 12: setting only a filter
        showed nothing at all."""
        lib = self.lib
        table = lib.content_table()
        if not table.item_ids:
            return [], ["filters"], 0
        keep = np.flatnonzero(_filter_mask(q.filters, table))
        sc = table.scores
        score = np.ones(len(table.item_ids), np.float32)
        if q.filters.category:
            score = _category_prob(q.filters.category, sc).astype(np.float32)
        elif q.filters.words:
            cols = [sc.word_names.index(w) for w in q.filters.words if w in sc.word_names]
            if cols:
                score = sc.words[:, cols].mean(axis=1).astype(np.float32)
        names = np.array([n.lower() for n in table.names], dtype=object)
        order = keep[np.lexsort((names[keep], -score[keep]))]
        hits, total = self._table_hits(q, table, order, score, {}, max(q.k * 3, 64))
        return hits, ["filters"], total

    # ---- shared --------------------------------------------------------------------------
    def _hits(
        self,
        ids: list[int],
        score: np.ndarray,
        rows: dict[int, dict[str, Any]],
        extra: dict[str, np.ndarray],
        q: Query,
        skip_paths: set[str],
        same: AbstractSet[int] = frozenset(),
    ) -> list[Hit]:
        best: dict[int, tuple[float, int]] = {}  # content -> (score, position)
        for pos, iid in enumerate(ids):
            r = rows.get(iid)
            if r is None:
                continue
            cid = r["content_id"]
            # A copy of the query's bytes is the best match there is, whatever the category
            # mix made of it (an uncertain category pulled an exact copy to 0.91, behind
            # re-encodes of it).
            sc = 1.0 + 1e-6 if cid in same else float(score[pos])
            if cid not in best or sc > best[cid][0]:
                best[cid] = (sc, pos)
        # The query files, as given, as the library names them and as the disk does
        # (_query_vectors); other copies of the same sound elsewhere are results, first
        # ("you have this already").
        skip = {os.path.abspath(p) for p in skip_paths}
        hits: list[Hit] = []
        for cid, (s, pos) in sorted(best.items(), key=lambda kv: -kv[1][0]):
            r = rows[ids[pos]]
            an = lib_analysis(r)
            if not _passes(q.filters, r, an):
                continue
            for path in r["paths"]:
                # A file the disk no longer has (a folder on an unplugged drive keeps its
                # rows until it reads again) is no result: it cannot be played or dragged.
                if path in skip or not os.path.exists(path):
                    continue
                if cid in same and os.path.realpath(path) in skip:
                    continue  # the query file itself, through a link
                hits.append(
                    Hit(
                        path=path,
                        score=min(s, 1.0),
                        content_id=cid,
                        start=r["start"],
                        end=r["end"],
                        duration=r["duration"],
                        category=r["category"],
                        scores={k: float(v[pos]) for k, v in extra.items()},
                        analysis=an,
                        identical=cid in same,
                    )
                )
            if len(hits) >= q.k:
                break
        return hits[: q.k]


def category_agreement(
    query: dict[str, float], candidates: Sequence[dict[str, float] | None]
) -> np.ndarray:
    """Probability that a candidate and the query are the same category (sum of p_q·p_x)."""
    out = np.zeros(len(candidates), np.float32)
    if not query:
        return out
    for i, p in enumerate(candidates):
        if p:
            out[i] = sum(v * p.get(c, 0.0) for c, v in query.items())
    return out


def lib_analysis(r: dict[str, Any] | None) -> dict[str, Any]:
    if r is None or not r.get("analysis"):
        return {}
    an = r.get("_an")
    if an is None:
        an = r["_an"] = json.loads(r["analysis"])
    return an


def _passes(f: Filters, r: dict[str, Any], an: dict[str, Any]) -> bool:
    if f.category and not drums.may_be(
        drums.filter_members(f.category), r.get("category"), an.get("probs")
    ):
        return False
    dur = r.get("duration") or 0.0
    if f.min_seconds is not None and dur < f.min_seconds:
        return False
    if f.max_seconds is not None and dur > f.max_seconds:
        return False
    words = an.get("words", {})
    return all(words.get(w, 0.0) >= 0.5 for w in f.words)


def _filter_mask(f: Filters, table: Any) -> np.ndarray:
    """Per row of a Library.content_table, whether it can pass the filters: what _passes
    decides, from the table's columns (it keeps at least every row that passes)."""
    scores = table.scores
    keep = np.ones(len(table.item_ids), bool)
    if f.category:
        p = _category_prob(f.category, scores)
        keep &= np.isin(table.categories, drums.filter_members(f.category)) | (
            p >= drums.FILTER_MIN_PROB - 1e-6
        )
    if f.min_seconds is not None:
        keep &= table.durations >= f.min_seconds - 1e-6
    if f.max_seconds is not None:
        keep &= table.durations <= f.max_seconds + 1e-6
    for w in f.words:
        if w in scores.word_names:
            keep &= scores.words[:, scores.word_names.index(w)] >= 0.5 - 1e-6
        else:
            keep[:] = False  # no analysis measures it
    return keep


def _category_prob(category: str, scores: Any) -> np.ndarray:
    """Per row of a ScoreTable, the probability of the category (or group) `category`."""
    members = drums.filter_members(category)
    cols = [scores.categories.index(c) for c in members if c in scores.categories]
    if not cols:
        return np.zeros(len(scores.probs), np.float32)
    return scores.probs[:, cols].sum(axis=1)


def _unchanged(path: str, size: int, mtime_ns: int) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    return st.st_size == size and st.st_mtime_ns == mtime_ns


def _library_aliases(path: str, roots: Sequence[str]) -> list[str]:
    """`path` as the library may hold it: its real path, and the same file under each root
    whose real folder holds it (a root added through a link, a file dropped by its target)."""
    real = os.path.realpath(path)
    out = [real] if real != path else []
    for r in roots:
        rr = os.path.realpath(r)
        if is_inside(real, rr):
            alias = r.rstrip(os.sep) + real[len(rr.rstrip(os.sep)):]
            if alias not in out and alias != path:
                out.append(alias)
    return out


def _num(v: float, digits: int) -> float | None:
    """A JSON number; None (null) for NaN or infinity, which JSON has not."""
    f = float(v)
    return round(f, digits) if np.isfinite(f) else None


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-9)
