"""Text search without neural models: precision@10 for drum words, leave-one-kit-out.

    python bench/text_search.py [CORPUS_DIR]     # default /tmp/corpus_anon (anonymized)

Each kit's files are analysed by a classifier trained without that kit (nor the sounds it
shares with other kits: bench/loko.py); file names are not
used (they carry no words in the anonymized corpus). A hit is a sample whose true class fits
the query word. Also prints the top 5 for a few descriptive queries, and how "like this,
but brighter" steering moves the ranking of a file's nearest neighbours (each file's fold
embedding, as search.Search._like_among scores them).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # 2-core box shared with other jobs

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "resources" / "drums"))

import train_classifier as T  # noqa: E402
from loko import Folds, require_corpus  # noqa: E402

from studio.core.audio import decode  # noqa: E402
from studio.core.drums import (  # noqa: E402
    ANALYSIS_SR,
    ScoreTable,
    analyze,
    parse_query,
    score,
    score_table,
    steer_table,
)
from studio.core.search import AUDIO_TEXT_MIX, CATEGORY_MIX, category_agreement  # noqa: E402

# Query word -> true corpus classes that count as a hit.
WORD_QUERIES = {
    "kick": {"kick"},
    "snare": {"snare"},
    "clap": {"clap"},
    "rim": {"rim"},
    "tom": {"tom"},
    "closed hat": {"hihat_closed"},
    "open hat": {"hihat_open"},
    "crash": {"crash"},
    "ride": {"ride"},
    "shaker": {"shaker", "tambourine"},
    "hh": {"hihat_closed", "hihat_open"},
    "bd": {"kick"},
    "sd": {"snare"},
    "cymbal": {"crash", "ride"},
    "perc": {"cowbell", "wood", "hand_drum", "triangle", "shaker", "tambourine"},
}
DESCRIPTIVE = [
    "dusty lo-fi snare",
    "short tight rim",
    "808 with a long tail",
    "bright open hat",
    "punchy kick",
]
# "Like this, but <words>": the sound word each should move the ranking toward.
STEER_WORDS = {
    "brighter": "bright",
    "darker": "dark",
    "shorter": "short",
    "longer": "long",
    "punchier": "punchy",
    "softer": "soft",
}
STEER_CANDIDATES = 64  # a query's nearest items that get ranked
STEER_TOP = 10
OLD_STEER_MIX = 0.3  # the mix of score_table in the "like this + words" scoring steer replaced


def loko_analyses(
    corpus: Path,
) -> tuple[list[dict], list[dict], list[tuple[np.ndarray, np.ndarray]]]:
    """Rows, their leave-one-kit-out analyses, and per fold (test mask, every row's
    embedding under the projection fitted without the fold's kit)."""
    x, rows, xa, src = T.corpus_features(corpus)
    audio = [decode(corpus / r["path"], sr=ANALYSIS_SR, max_seconds=30.0) for r in rows]
    cats = np.array([r["category"] for r in rows], dtype=object)
    analyses: list[dict] = [{} for _ in rows]
    folds = Folds(corpus, rows)
    fold_embs: list[tuple[np.ndarray, np.ndarray]] = []
    for _, test, tr in folds:
        # The held-out kit's files, the sounds it shares and their augmented copies stay out
        # of its model, and out of the built-in projection its embedding vote uses.
        tra = tr[src]
        emb = folds.embeddings(tr)
        fold_embs.append((test, emb))
        model = T.train(x[tr], list(cats[tr]), xa[tra], list(cats[src[tra]]), emb[tr])
        for i in np.flatnonzero(test):
            analyses[i] = analyze(
                audio[i].samples, duration=audio[i].duration, model=model, embedding=emb[i]
            )
    return rows, analyses, fold_embs


def steering(
    analyses: list[dict], truth: list[str], fold_embs: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    """'Like this, but <words>' over every file's nearest items (its fold's embedding), as
    Search._like_among ranks them: plain, steered (steer_table, AUDIO_TEXT_MIX), and the
    scoring steer replaced (score_table, OLD_STEER_MIX)."""
    n, k, top = len(analyses), STEER_CANDIDATES, STEER_TOP
    table = ScoreTable.build(analyses)  # rows taken per query: the candidates' own table
    truth_a = np.asarray(truth, dtype=object)
    cand = np.zeros((n, k), np.int64)
    base = np.zeros((n, k), np.float32)  # plain score: calibrated cosine + category agreement
    for test, emb in fold_embs:
        g = emb @ emb.T
        mu = min(float((g.sum() - np.trace(g)) / (n * (n - 1))), 0.95)
        for i in np.flatnonzero(test):
            cos = g[i].copy()
            cos[i] = -np.inf
            c = np.argpartition(-cos, k)[:k]
            c = c[np.argsort(-cos[c], kind="stable")]
            cal = np.clip((cos[c] - mu) / (1.0 - mu), -1.0, 1.0)
            agree = category_agreement(
                analyses[i].get("probs") or {}, [analyses[j].get("probs") for j in c]
            )
            cand[i] = c
            base[i] = (1 - CATEGORY_MIX) * cal + CATEGORY_MIX * agree

    def top_of(scores: np.ndarray) -> np.ndarray:
        order = np.argsort(-scores, axis=1, kind="stable")[:, :top]
        return np.take_along_axis(cand, order, axis=1)

    tables = [table.take(c) for c in cand]  # each query's candidates
    plain = top_of(base)
    same_plain = float(np.mean(truth_a[plain] == truth_a[:, None]))
    print(
        f"\nlike this, but <words>: top {top} of each file's {k} nearest "
        f"(fold embedding), all {n} files as queries"
    )
    print(
        "  moved = share of the top that has more of the word than the query "
        "(pool: all candidates);\n  p@10 = same true class as the query; overlap = "
        f"with the plain top {top}. steer mix {AUDIO_TEXT_MIX}, old (score_table) mix "
        f"{OLD_STEER_MIX}"
    )
    print(
        f"  {'words':9s} {'word':7s} {'pool':>5s} | {'moved plain/steer/old':>21s} | "
        f"{'p@10 plain/steer/old':>20s} | {'overlap steer/old':>17s}"
    )
    for text, word in STEER_WORDS.items():
        pq = parse_query(text)
        assert word in pq.words, (text, pq.words)
        col = table.words[:, table.word_names.index(word)]
        steer = np.zeros((n, k), np.float32)
        old = np.zeros((n, k), np.float32)
        for i, t in enumerate(tables):
            steer[i] = steer_table(pq, t, analyses[i]["words"])
            old[i] = score_table(pq, t)
        steered = top_of((1 - AUDIO_TEXT_MIX) * base + AUDIO_TEXT_MIX * steer)
        olds = top_of((1 - OLD_STEER_MIX) * base + OLD_STEER_MIX * old)
        q = col[:, None]
        pool = float(np.mean(col[cand] > q))
        moved = [float(np.mean(col[t] > q)) for t in (plain, steered, olds)]
        same = [same_plain]
        same += [float(np.mean(truth_a[t] == truth_a[:, None])) for t in (steered, olds)]
        overlap = [
            np.mean([len(np.intersect1d(a, b)) for a, b in zip(plain, t, strict=True)]) / top
            for t in (steered, olds)
        ]
        print(
            f"  {text:9s} {word:7s} {pool:5.2f} | "
            f"{moved[0]:5.2f} / {moved[1]:5.2f} / {moved[2]:5.2f}   | "
            f"{same[0]:5.2f} / {same[1]:5.2f} / {same[2]:5.2f}  | "
            f"{overlap[0]:5.2f} / {overlap[1]:5.2f}"
        )


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/corpus_anon")
    require_corpus(corpus)
    rows, analyses, fold_embs = loko_analyses(corpus)
    truth = T.corrected_labels(rows)
    print("precision@10 (leave-one-kit-out analyses, names unused):")
    precs = []
    for text, fits in WORD_QUERIES.items():
        s = score(parse_query(text), analyses)
        top = np.argsort(-s, kind="stable")[:10]
        p = float(np.mean([truth[i] in fits for i in top]))
        precs.append(p)
        print(f"  {text:12s} {p:.2f}   (category {parse_query(text).category})")
    print(f"  mean         {np.mean(precs):.3f}")
    for text in DESCRIPTIVE:
        q = parse_query(text)
        s = score(q, analyses)
        print(f"\n'{text}' -> category={q.category} words={q.words}")
        for i in np.argsort(-s, kind="stable")[:5]:
            a = analyses[i]
            keys = sorted(a["words"].items(), key=lambda kv: -kv[1])[:4]
            want = {w: a["words"].get(w) for w in q.words}
            print(
                f"  {s[i]:.3f} {rows[i]['path'][-24:]:24s} true={truth[i]:12s} cat={a['category']:12s} "
                f"want={want} top={dict(keys)} note={a['note']}"
            )
    steering(analyses, truth, fold_embs)


if __name__ == "__main__":
    main()
