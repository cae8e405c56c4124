"""Reading a producer's text query and ranking analysed samples against it, no model needed.

"dusty lo-fi snare" -> Query(category="snare", words={"noisy": 1, "lofi": 1}). Scores put the
category first (its probability from the classifier) and let the words order sounds within
it; words in file names add a little evidence but are never needed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

# Names a query may use for a set of categories rather than one.
CATEGORY_GROUPS: dict[str, tuple[str, ...]] = {
    "hihat": ("hihat_closed", "hihat_open"),
    "cymbal": ("crash", "ride"),
    "perc": ("perc", "shaker"),
}
# How much each member of a group counts (a "perc" query wants perc before shakers).
_GROUP_WEIGHT: dict[tuple[str, ...], tuple[float, ...]] = {("perc", "shaker"): (1.0, 0.6)}

_PHRASES = [
    (r"\bhi[\s-]?hats?\b", "hihat"),
    (r"\blo[\s-]?fi\b", "lofi"),
    (r"\bopen[\s-]*(?:hihat|hat|hh)s?\b", "openhat"),
    (r"\b(?:hihat|hat|hh)s?[\s-]+open\b", "openhat"),
    (r"\bclosed[\s-]*(?:hihat|hat|hh)s?\b", "closedhat"),
    (r"\b(?:hihat|hat|hh)s?[\s-]+closed\b", "closedhat"),
    (r"\bside[\s-]?stick\b", "sidestick"),
    (r"\brim[\s-]?shot\b", "rimshot"),
    (r"\bkick\s+drum\b", "kick"),
    (r"\bbass[\s-]+drums?\b", "kick"),
    (r"\bsnare\s+drums?\b", "snare"),
]

CATEGORY_WORDS: dict[str, str] = {
    **dict.fromkeys(["kick", "kicks", "bd", "bassdrum", "kik", "808"], "kick"),
    **dict.fromkeys(["snare", "snares", "sd", "snr"], "snare"),
    **dict.fromkeys(["clap", "claps", "handclap"], "clap"),
    **dict.fromkeys(["rim", "rims", "rimshot", "sidestick", "stick"], "rim"),
    **dict.fromkeys(["tom", "toms", "floortom"], "tom"),
    **dict.fromkeys(["hihat", "hihats", "hat", "hats", "hh"], "hihat"),
    **dict.fromkeys(["closedhat", "ch", "chh"], "hihat_closed"),
    **dict.fromkeys(["openhat", "oh", "ohh"], "hihat_open"),
    **dict.fromkeys(["crash", "crashes", "splash", "china"], "crash"),
    **dict.fromkeys(["ride", "rides"], "ride"),
    **dict.fromkeys(["cym", "cymbal", "cymbals"], "cymbal"),
    **dict.fromkeys(["shaker", "shakers", "tamb", "tambourine", "tambo", "maraca", "maracas"],
                    "shaker"),
    **dict.fromkeys(["perc", "percussion", "cowbell", "conga", "bongo", "block", "wood",
                     "woodblock", "clave", "claves", "timbale", "djembe", "cajon", "triangle",
                     "agogo", "guiro"], "perc"),
}  # fmt: skip

WORD_SYNONYMS: dict[str, dict[str, int]] = {
    "bright": {"bright": 1},
    "crisp": {"bright": 1},
    "airy": {"bright": 1},
    "dark": {"dark": 1},
    "warm": {"dark": 1},
    "punchy": {"punchy": 1},
    "hard": {"punchy": 1},
    "snappy": {"punchy": 1, "short": 1},
    "soft": {"soft": 1},
    "gentle": {"soft": 1},
    "short": {"short": 1},
    "tight": {"tight": 1},
    "dry": {"tight": 1},
    "long": {"long": 1},
    "tail": {"long": 1},
    "sustained": {"long": 1},
    "boomy": {"boomy": 1},
    "deep": {"boomy": 1},
    "roomy": {"roomy": 1},
    "room": {"roomy": 1},
    "reverb": {"roomy": 1},
    "wet": {"roomy": 1},
    "clean": {"clean": 1},
    "noisy": {"noisy": 1},
    "dusty": {"noisy": 1, "lofi": 1},
    "vinyl": {"noisy": 1, "lofi": 1},
    "lofi": {"lofi": 1},
    "crunchy": {"distorted": 1, "lofi": 1},
    "distorted": {"distorted": 1},
    "dirty": {"distorted": 1},
    "saturated": {"distorted": 1},
    "clipped": {"distorted": 1},
    "tonal": {"tonal": 1},
    "tuned": {"tonal": 1},
    "808": {"long": 1, "tonal": 1},
    # Comparatives: "like this, but brighter" (`--with`), "a punchier kick".
    "brighter": {"bright": 1},
    "crisper": {"bright": 1},
    "darker": {"dark": 1},
    "warmer": {"dark": 1},
    "duller": {"dark": 1},
    "punchier": {"punchy": 1},
    "harder": {"punchy": 1},
    "snappier": {"punchy": 1, "short": 1},
    "softer": {"soft": 1},
    "gentler": {"soft": 1},
    "shorter": {"short": 1},
    "tighter": {"tight": 1},
    "drier": {"tight": 1},
    "dryer": {"tight": 1},
    "longer": {"long": 1},
    "boomier": {"boomy": 1},
    "deeper": {"boomy": 1},
    "roomier": {"roomy": 1},
    "wetter": {"roomy": 1},
    "cleaner": {"clean": 1},
    "noisier": {"noisy": 1},
    "dustier": {"noisy": 1, "lofi": 1},
    "crunchier": {"distorted": 1, "lofi": 1},
    "dirtier": {"distorted": 1},
}
_OPPOSITE = {
    "bright": "dark", "dark": "bright", "punchy": "soft", "soft": "punchy",
    "short": "long", "long": "short", "tight": "roomy", "roomy": "tight",
    "clean": "noisy", "noisy": "clean",
}  # fmt: skip
_NEGATIONS = {"not", "no", "non", "without", "less"}
# Words between a negation and what it negates ("not too bright", "not so long").
_INTENSIFIERS = {"too", "so", "overly", "that", "really", "very", "much", "any", "all"}
# A negated list goes on through these ("no kicks or snares", "not a kick nor a snare").
_LIST_WORDS = {"or", "nor"}
_STOP = {"a", "an", "the", "with", "and", "of", "in", "some", "very", "sound", "sounds", "sample",
         "samples", "one", "shot", "oneshot", "drum", "drums", "like", "that", "is", "for",
         "this", "but", "more", "bit", "little", "lot", "than", "kind", "sort", "something",
         "same", "similar", "just", "slightly", "please", "it", "to", "on"}  # fmt: skip


@dataclass
class Query:
    category: str | None = None  # a CATEGORIES name or a CATEGORY_GROUPS key
    words: dict[str, int] = field(default_factory=dict)  # word -> +1 wanted / -1 unwanted
    free_words: list[str] = field(default_factory=list)
    # Categories or groups the query rules out ("not a snare", "no hats", "kick without 808"
    # rules out nothing: 808 names a kick).
    exclude: list[str] = field(default_factory=list)
    # Free words negated ("kick, not 909"): names that hold them count against a sound.
    exclude_names: list[str] = field(default_factory=list)
    raw: str = ""


def category_word(text: str) -> str | None:
    """The category or group that one producer's word or phrase names ('hh', 'open hat',
    'bd', 'cymbals'), else None."""
    toks = _tokens(text)
    return CATEGORY_WORDS.get(toks[0]) if len(toks) == 1 else None


def sound_words(text: str) -> dict[str, int]:
    """The sound words one producer's word names, +1 wanted / -1 not ('dusty': noisy and
    lofi, 'lo-fi': lofi), else {}."""
    toks = _tokens(text)
    return WORD_SYNONYMS.get(toks[0], {}) if len(toks) == 1 else {}


# Each phrase rule with a substring it cannot match without: text search tokenises every
# file name of the library when its table is built, and most names hold none of them.
_PHRASE_RULES = [
    (needle, re.compile(pat), f" {rep} ")
    for (pat, rep), needle in zip(
        _PHRASES,
        ("hat", "fi", "open", "open", "closed", "closed", "stick", "shot", "drum", "drum",
         "drum"),
        strict=True,
    )
]  # fmt: skip
_SPLIT = re.compile(r"[^\w#]+|_+")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_RUN = re.compile(r"([A-Z])([A-Z][a-z])")  # "GMRock" -> "GM Rock"


def _fold(text: str) -> str:
    """Lower case without accents ("Café" -> "cafe"); other scripts kept ("Бочка" -> "бочка")."""
    t = text.casefold()
    if t.isascii():
        return t
    t = unicodedata.normalize("NFKD", t)
    return "".join(ch for ch in t if not unicodedata.combining(ch))


def _tokens(text: str) -> list[str]:
    t = _fold(text)
    for needle, pat, rep in _PHRASE_RULES:
        if needle in t:
            t = pat.sub(rep, t)
    return [w for w in _SPLIT.split(t) if w]


def _known(tok: str) -> str:
    """`tok`, or its singular when only that is a word Studio knows ("congas", "808s")."""
    if tok in CATEGORY_WORDS or tok in WORD_SYNONYMS or len(tok) < 4 or tok[-1] != "s":
        return tok
    for cut in (1, 2) if tok.endswith("es") else (1,):  # bongos, 808s; "es" of crashes
        if tok[:-cut] in CATEGORY_WORDS or tok[:-cut] in WORD_SYNONYMS:
            return tok[:-cut]
    return tok


def parse_query(text: str) -> Query:
    q = Query(raw=text or "")
    negate = False
    listing = False  # just negated a word: an "or" keeps the negation going
    for tok in _tokens(text or ""):
        tok = _known(tok)
        if tok in _NEGATIONS:
            negate = True
            continue
        if (negate and (tok in _STOP or tok in _INTENSIFIERS)) or (
            listing and tok in _LIST_WORDS
        ):
            # "not a snare", "not too bright", "no kicks or snares": still negated.
            negate = True
            continue
        listing = False
        if tok in CATEGORY_WORDS:
            cat = CATEGORY_WORDS[tok]
            if negate:
                if cat != q.category and cat not in q.exclude:
                    q.exclude.append(cat)
            # A specific category wins over a group named earlier ("hat ... open hat").
            elif q.category is None or q.category in CATEGORY_GROUPS:
                q.category = cat
        if tok in WORD_SYNONYMS:
            for w, d in WORD_SYNONYMS[tok].items():
                if negate:
                    w, d = (_OPPOSITE[w], d) if w in _OPPOSITE else (w, -d)
                q.words[w] = d
        elif tok not in CATEGORY_WORDS and tok not in _STOP and tok not in _LIST_WORDS:
            (q.exclude_names if negate else q.free_words).append(tok)
        listing = negate
        negate = False
    return q


def _name_tokens(name: str) -> set[str]:
    """A file or folder name's words: as written ("GMRockKit", typed as one word) and split
    where the case changes ("GM Rock Kit": "rock" finds it too)."""
    toks = set(_tokens(name))
    split = _CAMEL_RUN.sub(r"\1 \2", _CAMEL.sub(r"\1 \2", name))
    if split != name:
        toks.update(_tokens(split))
    return toks


def _categories() -> tuple[str, ...]:
    from studio.core.drums import CATEGORIES  # drums imports this module

    return CATEGORIES


class TableRow(NamedTuple):
    """One sound's row of a ScoreTable, from its analysis and its folder/file name."""

    name: str
    categories: tuple[str, ...]
    probs: tuple[float, ...]  # per category
    word_names: tuple[str, ...]  # sorted
    word_values: tuple[float, ...]
    tokens: frozenset[str]


def table_row(analysis: Any, name: str = "", categories: tuple[str, ...] | None = None
              ) -> TableRow:
    if categories is None:
        categories = _categories()
    if isinstance(analysis, dict):
        p = analysis.get("probs") or {analysis.get("category", "other"): 1.0}
        probs = tuple(float(p.get(c, 0.0)) for c in categories)
        words = analysis.get("words") or {}
    else:
        probs, words = (0.0,) * len(categories), {}
    word_names = tuple(sorted(words))
    return TableRow(
        name,
        categories,
        probs,
        word_names,
        tuple(float(words[w]) for w in word_names),
        frozenset(_name_tokens(name)) if name else frozenset(),
    )


@dataclass
class ScoreTable:
    """Analyses laid out as arrays, so one query scores 100k samples in a few milliseconds."""

    probs: np.ndarray  # (n, len(categories)), rows sum to ~1
    categories: tuple[str, ...]
    words: np.ndarray  # (n, len(word_names)), 0.5 where a word was not measured
    word_names: tuple[str, ...]
    name_index: dict[str, np.ndarray]  # file/folder-name token -> rows that have it

    @classmethod
    def build(
        cls,
        analyses: list[dict],
        names: list[str] | None = None,
        categories: tuple[str, ...] | None = None,
    ) -> ScoreTable:
        if names is None:
            names = [""] * len(analyses)
        cats = categories or _categories()
        return cls.from_rows([table_row(a, n, cats) for a, n in zip(analyses, names, strict=True)])

    @classmethod
    def from_rows(cls, rows: Sequence[TableRow]) -> ScoreTable:
        """The table of rows made by table_row, all with the same categories."""
        categories = rows[0].categories if rows else _categories()
        n = len(rows)
        probs = np.array([r.probs for r in rows], np.float32).reshape(n, len(categories))
        word_sets = {r.word_names for r in rows}
        if len(word_sets) == 1:  # the usual case: every analysis from one version
            word_names = next(iter(word_sets))
            words = np.array([r.word_values for r in rows], np.float32).reshape(n, -1)
        else:
            word_names = tuple(sorted({w for r in rows for w in r.word_names}))
            pos = {w: i for i, w in enumerate(word_names)}
            words = np.full((n, len(word_names)), 0.5, np.float32)
            for i, r in enumerate(rows):
                words[i, [pos[w] for w in r.word_names]] = r.word_values
        index: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            for tok in r.tokens:
                index.setdefault(tok, []).append(i)
        return cls(
            probs,
            tuple(categories),
            words,
            word_names,
            {t: np.array(v, np.int64) for t, v in index.items()},
        )

    def take(self, rows: Sequence[int] | np.ndarray) -> ScoreTable:
        """The table of these rows of this one, in this order."""
        sel = np.asarray(rows, np.int64)
        new_pos = np.full(len(self), -1, np.int64)
        new_pos[sel] = np.arange(len(sel))
        # All tokens' rows moved in one pass (a loop of numpy calls per token cost ~0.35 s
        # at 100k sounds, most tokens being one file's number).
        index: dict[str, np.ndarray] = {}
        if self.name_index:
            toks = list(self.name_index)
            arrays = list(self.name_index.values())
            counts = np.fromiter((len(a) for a in arrays), np.int64, len(arrays))
            moved = new_pos[np.concatenate(arrays)]
            keep = moved >= 0
            kept = np.add.reduceat(keep, np.r_[0, np.cumsum(counts)[:-1]]) if len(keep) else counts
            kept = np.where(counts > 0, kept, 0)
            flat = moved[keep]
            ends = np.cumsum(kept).tolist()
            starts = [0, *ends[:-1]]
            index = {t: flat[a:b] for t, a, b in zip(toks, starts, ends, strict=True) if b > a}
        return ScoreTable(
            self.probs[sel], self.categories, self.words[sel], self.word_names, index
        )

    @classmethod
    def concat(cls, tables: Sequence[ScoreTable]) -> ScoreTable:
        """One table of these tables' rows, in order (their word columns merged)."""
        parts = [t for t in tables if len(t)]
        if not parts:
            return tables[0] if tables else cls.from_rows([])
        if len(parts) == 1:
            return parts[0]
        categories = parts[0].categories
        if any(t.categories != categories for t in parts):
            raise ValueError("tables of different categories")
        names = parts[0].word_names
        if any(t.word_names != names for t in parts):
            names = tuple(sorted({w for t in parts for w in t.word_names}))
        words = []
        for t in parts:
            if t.word_names == names:
                words.append(t.words)
            else:
                w = np.full((len(t), len(names)), 0.5, np.float32)
                w[:, [names.index(x) for x in t.word_names]] = t.words
                words.append(w)
        index: dict[str, list[np.ndarray]] = {}
        offset = 0
        for t in parts:
            for tok, arr in t.name_index.items():
                index.setdefault(tok, []).append(arr + offset if offset else arr)
            offset += len(t)
        return cls(
            np.concatenate([t.probs for t in parts]),
            categories,
            np.concatenate(words),
            names,
            {tok: v[0] if len(v) == 1 else np.concatenate(v) for tok, v in index.items()},
        )

    def __len__(self) -> int:
        return len(self.probs)


def excluded_share(query: Query, table: ScoreTable) -> np.ndarray | None:
    """Per row, the probability that it is one of the categories the query rules out (None
    when it rules out none); a sound the query asks for is never ruled out by it ("hats, not
    open hats" keeps the closed ones)."""
    if not query.exclude:
        return None
    out = np.zeros(len(table), np.float32)
    seen: set[str] = set()
    for name in query.exclude:
        if name == query.category:  # "not snare ... snare": asked for after all
            continue
        for c in CATEGORY_GROUPS.get(name, (name,)):
            if c in table.categories and c not in seen:
                seen.add(c)
                out += table.probs[:, table.categories.index(c)]
    return np.clip(out, 0.0, 1.0)


# What a sound whose names hold none of the query's free words keeps of its score, when some
# sounds' names hold them.
FREE_WORD_FLOOR = 0.6


def category_share(query: Query, table: ScoreTable) -> np.ndarray | None:
    """Per row, the probability that it is the drum the query names (None: it names none)."""
    if query.category is None:
        return None
    members = CATEGORY_GROUPS.get(query.category, (query.category,))
    weights = _GROUP_WEIGHT.get(members, (1.0,) * len(members))
    cat = np.zeros(len(table), np.float32)
    for c, weight in zip(members, weights, strict=False):
        if c in table.categories:
            cat += weight * table.probs[:, table.categories.index(c)]
    return cat


def score_table(query: Query, table: ScoreTable) -> np.ndarray:
    """Relevance in [0, 1] per row: category probability x (0.6 + 0.4 x word agreement),
    times the chance that the row is none of the categories the query rules out."""
    n = len(table)
    share = category_share(query, table)
    cat = np.ones(n, np.float32) if share is None else share
    agree = []
    for w, d in query.words.items():
        col = (
            table.words[:, table.word_names.index(w)]
            if w in table.word_names
            else np.full(n, 0.5, np.float32)
        )
        agree.append(col if d > 0 else 1.0 - col)
    wscore = np.mean(agree, axis=0) if agree else 1.0
    s = cat * (0.6 + 0.4 * wscore)
    ruled_out = excluded_share(query, table)
    if ruled_out is not None:
        s = s * (1.0 - ruled_out)
    want = set(query.free_words) | {w for w, d in query.words.items() if d > 0}
    if query.category:
        want |= {k for k, v in CATEGORY_WORDS.items() if v == query.category}
    if want and table.name_index:
        hits = np.zeros(n, np.float32)
        for token in want:
            rows = table.name_index.get(token)
            if rows is not None:
                hits[rows] += 1.0
        s = (s + 0.05 * hits / len(want)) / 1.05
    return np.clip(_narrow_by_names(query, table, s), 0.0, 1.0).astype(np.float32)


def _narrow_by_names(query: Query, table: ScoreTable, s: np.ndarray) -> np.ndarray:
    """Free words that some names hold narrow the ranking to those sounds: "Audiophob kick"
    puts that pack's kicks first (its one kick ranked 29th of the library's kicks). And
    names that hold a negated word ("kick, not 909") count against their sounds."""
    named = [table.name_index[t] for t in dict.fromkeys(query.free_words) if t in table.name_index]
    if named:
        held = np.zeros(len(table), np.float32)
        for idx in named:
            held[idx] += 1.0
        s = s * (FREE_WORD_FLOOR + (1.0 - FREE_WORD_FLOOR) * held / len(named))
    s = np.array(s, np.float32)
    for t in dict.fromkeys(query.exclude_names):
        against = table.name_index.get(t)
        if against is not None:
            s[against] *= FREE_WORD_FLOOR
    return s


STEER_SLOPE = 1.5  # steering: how fast "brighter" saturates per unit of the word's logit


def steer_table(query: Query, table: ScoreTable, like: dict[str, float]) -> np.ndarray:
    """"Like this, but brighter": per row in [0, 1], how far it moves from the sound `like`
    (its words' degrees) the way the query's words ask, times the category share when the
    words name a drum ("like this kick, but a snare").

    A sound word compares: 0.5 for a row as bright as the query sound, toward 1 the brighter
    it is (the word degrees are sigmoids of a measured quantity, so their logits differ by
    e.g. octaves of spectral centroid for bright), toward 0 the darker. "Bright" on its
    own would rank every candidate by how bright it is, and a candidate list of snares
    similar to a dull snare is uniformly dull: "brighter" left their order as it was.
    Words the query does not hear (free words) narrow it by file and folder names, as in
    score_table ("brighter, gmrockkit": that kit's sounds first; review 13)."""
    rel = []
    for w, d in query.words.items():
        if w not in table.word_names or w not in like:
            continue
        col = np.clip(table.words[:, table.word_names.index(w)], 1e-4, 1 - 1e-4)
        q = min(max(float(like[w]), 1e-4), 1 - 1e-4)
        delta = np.log(col / (1 - col)) - np.log(q / (1 - q))
        z = STEER_SLOPE * delta * (1.0 if d > 0 else -1.0)
        rel.append(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))))
    if not rel:
        return score_table(query, table)
    s = np.mean(rel, axis=0).astype(np.float32)
    share = category_share(query, table)
    if share is not None:
        s = s * share
    ruled_out = excluded_share(query, table)
    if ruled_out is not None:
        s = s * (1.0 - ruled_out)
    return np.clip(_narrow_by_names(query, table, s), 0.0, 1.0).astype(np.float32)


def hears_nothing(query: Query) -> bool:
    """Whether the query names no category and no sound word: only its free words can be
    matched, against file and folder names ('guitar', 'vocal chop', 'xyzzy')."""
    return query.category is None and not query.words and not query.exclude


def name_matches(query: Query, table: ScoreTable) -> np.ndarray:
    """Per row, whether its file or folder names hold one of the query's free words."""
    hit = np.zeros(len(table), bool)
    for token in query.free_words:
        rows = table.name_index.get(token)
        if rows is not None:
            hit[rows] = True
    return hit


def score(query: Query, analyses: list[dict], names: list[str] | None = None) -> np.ndarray:
    """Relevance in [0, 1] per analysis (see score_table)."""
    return score_table(query, ScoreTable.build(analyses, names))
