"""CLAP's zero-shot opinion on each sample's category, fused with the built-in classifier's.

Each category has a short prompt; CLAP's cosine between a sample and every prompt, scaled
and soft-maxed, gives its probabilities. They are fused with the built-in ones by a
geometric mean, p ∝ p_builtin^(1-W) · p_clap^W, so that either model can veto a category
the other is unsure of. The built-in probabilities stay in the analysis as
`probs_builtin`; `probs` and `category` become the fused ones.
"""

from __future__ import annotations

import numpy as np

PROMPTS: dict[str, str] = {
    "kick": "a kick drum one-shot",
    "snare": "a snare drum hit",
    "clap": "a hand clap",
    "rim": "a rimshot or side stick click",
    "tom": "a tom drum hit",
    "hihat_closed": "a closed hi-hat",
    "hihat_open": "an open hi-hat",
    "crash": "a crash cymbal",
    "ride": "a ride cymbal",
    "shaker": "a shaker or tambourine",
    "perc": "a percussion hit like a cowbell, conga or wood block",
    "other": "a sound effect that is not a drum",
}
CLAP_WEIGHT = 0.5
SCALE = 20.0  # cosine -> logit: CLAP's cosines between audio and text sit in a narrow band


def clap_probs(audio_vecs: np.ndarray, prompt_vecs: np.ndarray) -> np.ndarray:
    """(n, d) audio and (len(PROMPTS), d) text unit vectors -> (n, len(PROMPTS)) probs."""
    logits = SCALE * (np.asarray(audio_vecs, np.float32) @ np.asarray(prompt_vecs, np.float32).T)
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def fuse(analysis: dict, p_clap: dict[str, float], weight: float = CLAP_WEIGHT) -> dict:
    """A copy of `analysis` with fused `probs`/`category`/`category_conf`."""
    base = analysis.get("probs_builtin") or analysis.get("probs") or {}
    cats = list(PROMPTS)
    pb = np.array([max(float(base.get(c, 0.0)), 1e-6) for c in cats])
    pc = np.array([max(float(p_clap.get(c, 0.0)), 1e-6) for c in cats])
    f = np.exp((1 - weight) * np.log(pb) + weight * np.log(pc))
    f /= f.sum()
    out = dict(analysis)
    out["probs_builtin"] = {c: float(v) for c, v in zip(cats, pb, strict=True)}
    out["probs_clap"] = {c: round(float(v), 5) for c, v in zip(cats, pc, strict=True)}
    out["probs"] = {c: round(float(v), 5) for c, v in zip(cats, f, strict=True)}
    best = int(np.argmax(f))
    out["category"] = cats[best]
    out["category_conf"] = round(float(f[best]), 5)
    return out
