"""Drum intelligence without neural models: category, sound words, pitch, tempo, text queries.

`analyze(y)` measures one sound (numpy only, ~1 ms for a one-second one-shot) and returns a
JSON-ready dict; `parse_query` + `score` rank analysed samples for a text query such as
"dusty lo-fi snare". The category model is a small numpy classifier whose parameters ship in
resources/drums/classifier.npz (made by resources/drums/train_classifier.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from studio.core.drums.classifier import Model, default_model
from studio.core.drums.descriptors import (
    WORD_DEFINITIONS,
    note_name,
    onset_envelope,
    strong_onset_starts,
    tempo,
    windows,
    words,
)
from studio.core.drums.features import clean, feature_vector, measure
from studio.core.drums.query import (
    CATEGORY_GROUPS,
    Query,
    ScoreTable,
    category_share,
    category_word,
    excluded_share,
    hears_nothing,
    name_matches,
    parse_query,
    score,
    score_table,
    sound_words,
    steer_table,
)
from studio.core.embedders import builtin

ANALYSIS_VERSION = 7  # 7: a loop's category is its hits'
# Older versions whose analyses differ from this one's only for loops: a one-shot analysed
# by one of them is current as it is (upkeep re-stamps it instead of decoding it again).
SAME_FOR_ONE_SHOTS = (6,)
ANALYSIS_SR = 22050
# What analyze() looks at for category and words; tempo/loop detection reads all of y.
ANALYSIS_SECONDS = 4.0
CATEGORIES: tuple[str, ...] = (
    "kick", "snare", "clap", "rim", "tom", "hihat_closed", "hihat_open",
    "crash", "ride", "shaker", "perc", "other",
)  # fmt: skip
# A category filter keeps a sound of that category, and one the model gives at least this
# probability for it (summed over a group's members): 4 sounds in 10 get under 80 % for
# their top category, and the right one is then often the second. Leave-one-kit-out on the
# dev corpus, over the main classes, recall goes from 0.80 to 0.85 and precision from 0.74
# to 0.70 (open hat recall 0.48 -> 0.66, crash 0.63 -> 0.72, ride 0.85 -> 0.92).
FILTER_MIN_PROB = 0.3
# A file at least this long with this many onsets, spread over it, is a loop.
LOOP_MIN_SECONDS = 1.5
LOOP_MIN_ONSETS = 4
LOOP_SURE_ONSETS = 6
# A sound that falls 30 dB below its peak this soon is a click (an impulse, a glitch, a file
# of a few samples), not a drum: the shortest hit of the dev corpus, a 17 ms rim, takes
# 12 ms, and its claps 35 ms or more. Such a sound, if it also rises that fast (a reversed
# hit ends at its peak), is 'other' (the model called a lone sample a rim at 0.8).
CLICK_SECONDS = 0.006

__all__ = [
    "ANALYSIS_SECONDS", "ANALYSIS_SR", "ANALYSIS_VERSION", "CATEGORIES", "CATEGORY_GROUPS",
    "SAME_FOR_ONE_SHOTS",
    "FILTER_MIN_PROB", "Query", "ScoreTable", "WORD_DEFINITIONS", "analyze", "category_share",
    "filter_members",
    "excluded_share", "filter_word_list", "filter_words", "hears_nothing", "may_be", "name_matches", "parse_query", "score", "score_table", "steer_table", "windows",
]  # fmt: skip

LOOP_HITS = 12  # hits of a loop whose categories make its own (spread over the loop)
LOOP_HIT_SECONDS = 0.5  # at most this much of each hit is heard


def _loop_hit_probs(y: np.ndarray, starts: list[int], model: Model) -> dict[str, float] | None:
    """The mean category probabilities of up to LOOP_HITS of a loop's hits, each from its
    start to the next hit's (at most LOOP_HIT_SECONDS)."""
    if len(starts) < 2:
        return None
    pick = np.unique(np.linspace(0, len(starts) - 1, min(LOOP_HITS, len(starts))).astype(int))
    pre = int(0.003 * ANALYSIS_SR)
    total = np.zeros(len(model.classes), np.float64)
    n = 0
    for i in pick.tolist():
        a = max(starts[i] - pre, 0)
        end = starts[i + 1] if i + 1 < len(starts) else y.size
        seg = y[a : min(end, a + int(LOOP_HIT_SECONDS * ANALYSIS_SR))]
        if seg.size < int(0.02 * ANALYSIS_SR):
            continue
        if builtin.SAMPLE_RATE == ANALYSIS_SR:
            seg = builtin.heard(seg)  # what the embedding vote hears: measured for both
        m = measure(seg, ANALYSIS_SR)
        if m["silent"]:
            continue
        emb = _vote_embedding(seg, m) if model.uses_embedding(builtin.EMBEDDER_ID) else None
        total += model.predict(feature_vector(m, seg.size / ANALYSIS_SR), emb)
        n += 1
    return _probs(model, total / n) if n else None


def _vote_embedding(y: np.ndarray, measured: dict | None = None) -> np.ndarray:
    """The built-in embedding of `y` (at ANALYSIS_SR, at most ANALYSIS_SECONDS), for the
    classifier's embedding vote; `measured` is measure(y), which the embedding reads too."""
    if builtin.SAMPLE_RATE != ANALYSIS_SR:
        return builtin.features(_resample_linear(y, ANALYSIS_SR, builtin.SAMPLE_RATE))
    return builtin.features(y, measured)


def _probs(model: Model, p: np.ndarray) -> dict[str, float]:
    """The model's class probabilities `p` over every category (0 for those it lacks)."""
    probs = {c: 0.0 for c in CATEGORIES}
    for c, v in zip(model.classes, p.tolist(), strict=True):
        probs[c] = round(float(v), 6)
    return probs


_RAW_KEYS = (
    "peak_db", "attack", "t20", "t40", "centroid", "rolloff", "edge_hz",
    "clip_frac", "bits", "tail_db", "low_frac",
)  # fmt: skip


@lru_cache(maxsize=64)
def filter_members(name: str) -> tuple[str, ...]:
    """The categories a filter name stands for: a category ('kick', 'hihat_open'), a group
    ('hihat', 'cymbal'), or a producer's word for either that text search knows ('hh',
    'open hat', 'bd', 'cymbals'). A category wins over the group of the same name ('perc').
    Raises ValueError naming the choices for anything else."""
    n = "_".join(name.strip().lower().split())
    if n in CATEGORIES:
        return (n,)
    word = n if n in CATEGORY_GROUPS else category_word(name)
    if word in CATEGORY_GROUPS:
        return CATEGORY_GROUPS[word]
    if word in CATEGORIES:
        return (word,)
    choices = ", ".join(dict.fromkeys((*CATEGORIES, *CATEGORY_GROUPS)))
    raise ValueError(f"unknown category {name!r} (choose from {choices}, or a word like hh)")


@lru_cache(maxsize=64)
def filter_words(name: str) -> tuple[str, ...]:
    """The measured sound words (WORD_DEFINITIONS) a word filter stands for: one of them, or
    a producer's word that text search reads as them ('dusty' is noisy and lofi, 'lo-fi' is
    lofi, 'warm' is dark). Raises ValueError naming the choices for anything else; such a
    filter used to match nothing, silently."""
    n = name.strip().lower()
    if n in WORD_DEFINITIONS:
        return (n,)
    wanted = tuple(w for w, d in sound_words(n).items() if d > 0 and w in WORD_DEFINITIONS)
    if wanted:
        return wanted
    raise ValueError(
        f"unknown sound word {name!r} (choose from {', '.join(WORD_DEFINITIONS)}, "
        "or a word like dusty)"
    )


def filter_word_list(words: Sequence[str]) -> list[str]:
    """The measured sound words a list of word filters stands for, once each, in order
    (ValueError for an unknown one): what a search filters on."""
    return list(dict.fromkeys(m for w in words for m in filter_words(w)))


def may_be(members: tuple[str, ...], category: str | None, probs: dict | None) -> bool:
    """Whether a sound of `category` with these category `probs` passes a filter for
    `members` (see FILTER_MIN_PROB)."""
    if category in members:
        return True
    if not probs:
        return False
    return sum(float(probs.get(m, 0.0)) for m in members) >= FILTER_MIN_PROB


def _resample_linear(y: np.ndarray, sr: int, target: int) -> np.ndarray:
    n = max(int(round(y.size * target / sr)), 1)
    return np.interp(np.linspace(0, y.size - 1, n), np.arange(y.size), y).astype(np.float32)


def _empty(duration: float) -> dict:
    probs = {c: 0.0 for c in CATEGORIES}
    probs["other"] = 1.0
    return {
        "version": ANALYSIS_VERSION, "category": "other", "category_conf": 1.0, "probs": probs,
        "kind": "one-shot", "words": {}, "pitch_hz": None, "note": None, "loudness_db": -100.0,
        "tempo": None, "duration": round(float(duration), 4), "onsets": 0,
    }  # fmt: skip


def analyze(
    y: np.ndarray,
    sr: int = ANALYSIS_SR,
    duration: float | None = None,
    *,
    model: Model | None = None,
    embedding: np.ndarray | None = None,
    measured: dict | None = None,
) -> dict:
    """Category, sound words, pitch/note, loudness, one-shot/loop and tempo of one sound.

    `y` is mono audio, ideally at ANALYSIS_SR (anything else is resampled linearly);
    `duration` is the whole file's length when `y` holds only its beginning. Never raises on
    odd input: silence, a single sample or NaNs give a valid 'other' result. `model`
    replaces the shipped classifier (the bench passes leave-one-kit-out models).
    `embedding` is the built-in embedding of the sound's first ANALYSIS_SECONDS (what the
    classifier was trained on) when the caller has it already, as the indexer has;
    otherwise it is computed here when the classifier uses one. `measured` is
    features.measure() of that head when the caller has it (the indexer's embedding needs it
    too: analysis.py measures once for both).
    """
    y = clean(y)
    if sr and sr > 0 and sr != ANALYSIS_SR:
        y = _resample_linear(y, sr, ANALYSIS_SR)
    dur = (
        float(duration)
        if duration and np.isfinite(duration) and duration > 0
        else y.size / ANALYSIS_SR
    )
    # From where the sound starts, as the embedder hears it: a hit after 4 s of silence was
    # measured as silence ("other"; review 13).
    if measured is not None and embedding is not None:
        head = y  # not read: the caller measured and embedded the head (analysis.py)
    elif builtin.SAMPLE_RATE == ANALYSIS_SR:
        head = builtin.heard(y)
    else:
        head = y[: int(ANALYSIS_SECONDS * ANALYSIS_SR)]
    m = measure(head, ANALYSIS_SR) if measured is None else measured
    if m["silent"]:
        return _empty(dur)
    model = model or default_model()
    if m["t30"] < CLICK_SECONDS and m["attack"] < CLICK_SECONDS:  # not a reversed hit
        probs = {c: (1.0 if c == "other" else 0.0) for c in CATEGORIES}
    elif model is not None:
        if not model.uses_embedding(builtin.EMBEDDER_ID):
            embedding = None
        elif embedding is None:
            embedding = _vote_embedding(head, m)
        probs = _probs(model, model.predict(feature_vector(m, dur), embedding))
    else:
        probs = {c: (1.0 if c == "other" else 0.0) for c in CATEGORIES}
    category = max(probs, key=probs.__getitem__)
    w = words(m)
    kind, bpm, n_on = "one-shot", None, 0
    if y.size >= LOOP_MIN_SECONDS * ANALYSIS_SR:
        onset, period = onset_envelope(y, ANALYSIS_SR)
        starts = strong_onset_starts(y, ANALYSIS_SR)
        n_on = len(starts)
        if n_on >= LOOP_MIN_ONSETS:
            bpm, strength = tempo(onset, period)
            # A steady beat makes 4 hits a loop; a syncopated groove needs a few more.
            if n_on >= LOOP_SURE_ONSETS or (bpm is not None and strength > 0.2):
                kind = "loop"
            if strength <= 0.1:
                bpm = None
        if kind == "loop" and model is not None and category != "other":
            # The model knows one-shots: a loop heard whole read as a shaker or a tom (a
            # loop of kicks: "shaker 68 %"). Its category is that of its hits, averaged: a
            # kick loop is a kick, a breakbeat shares kick, snare and hat.
            hit_probs = _loop_hit_probs(y, starts, model)
            if hit_probs is not None:
                probs = hit_probs
                category = max(probs, key=probs.__getitem__)
    tonal = w["tonal"] > 0.5 and kind == "one-shot"
    pitch = round(m["pitch_hz"], 2) if tonal and m["pitch_hz"] > 0 else None
    out = {
        "version": ANALYSIS_VERSION,
        "category": category,
        "category_conf": probs[category],
        "probs": probs,
        "kind": kind,
        "words": w,
        "pitch_hz": pitch,
        "note": note_name(pitch) if pitch else None,
        "loudness_db": round(m["loudness_db"], 2),
        "tempo": bpm,
        "duration": round(dur, 4),
        "onsets": n_on,
    }
    for k in _RAW_KEYS:
        out[k] = round(float(m[k]), 5)
    return out
