"""Text search without neural models: precision@10 for drum words, leave-one-kit-out.

    python bench/text_search.py [CORPUS_DIR]     # default /tmp/corpus_anon (anonymized)

Each kit's files are analysed by a classifier trained without that kit (nor the sounds it
shares with other kits: bench/loko.py); file names are not
used (they carry no words in the anonymized corpus). A hit is a sample whose true class fits
the query word. Also prints the top 5 for a few descriptive queries.
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
from studio.core.drums import ANALYSIS_SR, analyze, parse_query, score  # noqa: E402

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


def loko_analyses(corpus: Path) -> tuple[list[dict], list[dict]]:
    x, rows, xa, src = T.corpus_features(corpus)
    audio = [decode(corpus / r["path"], sr=ANALYSIS_SR, max_seconds=30.0) for r in rows]
    cats = np.array([r["category"] for r in rows], dtype=object)
    analyses: list[dict] = [{} for _ in rows]
    folds = Folds(corpus, rows)
    for _, test, tr in folds:
        # The held-out kit's files, the sounds it shares and their augmented copies stay out
        # of its model, and out of the built-in projection its embedding vote uses.
        tra = tr[src]
        emb = folds.embeddings(tr)
        model = T.train(x[tr], list(cats[tr]), xa[tra], list(cats[src[tra]]), emb[tr])
        for i in np.flatnonzero(test):
            analyses[i] = analyze(
                audio[i].samples, duration=audio[i].duration, model=model, embedding=emb[i]
            )
    return rows, analyses


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/corpus_anon")
    require_corpus(corpus)
    rows, analyses = loko_analyses(corpus)
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


if __name__ == "__main__":
    main()
