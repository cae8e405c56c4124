"""Words shown to people for the ids the core uses: categories, and where in a file a match is.

The core keeps its ids ("hihat_closed"); every place the window shows a category goes through
`category_label` (and `category_cell`, which adds the runner-up when the model is unsure), so
the wording lives here and nowhere else.
"""

from __future__ import annotations

from typing import Any

CATEGORY_LABELS: dict[str, str] = {
    "kick": "kick",
    "snare": "snare",
    "clap": "clap",
    "rim": "rim",
    "tom": "tom",
    "hihat_closed": "closed hat",
    "hihat_open": "open hat",
    "crash": "crash",
    "ride": "ride",
    "shaker": "shaker",
    "perc": "perc",
    "other": "other",
    # groups the search filter understands (studio.core.drums.CATEGORY_GROUPS)
    "hihat": "any hat",
    "cymbal": "cymbal",
}
# The facet offers each group right after the categories it stands for.
FACET_GROUPS: dict[str, str] = {"hihat_open": "hihat", "ride": "cymbal"}
# A category the model gives less than this shows its runner-up too ("open hat / crash"),
# when that one has at least RUNNER_UP: below 0.6 it is right about half the time and the
# runner-up is the answer in most of the rest (leave-one-kit-out on the dev corpus).
UNSURE_BELOW = 0.6
RUNNER_UP = 0.25


def category_label(cat: str | None) -> str:
    """'hihat_closed' -> 'closed hat'; an unknown id reads with spaces instead of underscores."""
    if not cat:
        return ""
    return CATEGORY_LABELS.get(cat, cat.replace("_", " "))


def _ranked(hit: Any) -> list[tuple[str, float]]:
    probs = (getattr(hit, "analysis", None) or {}).get("probs") or {}
    return sorted(((c, float(p)) for c, p in probs.items()), key=lambda cp: -cp[1])


LOOP_OF_ONE = 0.6  # a loop whose hits are mostly one drum is that drum's loop


def category_cell(hit: Any) -> str:
    """The category as the results list shows it: 'kick', or 'open hat / crash' when unsure;
    for a loop, 'kick loop' when its hits are mostly one drum, else 'drum loop'."""
    label = category_label(hit.category)
    ranked = _ranked(hit)
    if (getattr(hit, "analysis", None) or {}).get("kind") == "loop" and label:
        sure = bool(ranked) and ranked[0][0] == hit.category and ranked[0][1] >= LOOP_OF_ONE
        return f"{label} loop" if sure else "drum loop"
    if (
        label
        and len(ranked) > 1
        and ranked[0][0] == hit.category
        and ranked[0][1] < UNSURE_BELOW
        and ranked[1][1] >= RUNNER_UP
    ):
        return f"{label} / {category_label(ranked[1][0])}"
    return label


def category_odds(hit: Any) -> str:
    """'open hat 48 % · crash 35 %': the likeliest categories, for a tooltip."""
    return " · ".join(
        f"{category_label(c)} {p:.0%}".replace("%", " %") for c, p in _ranked(hit)[:3] if p >= 0.05
    )


def facet_entries(categories: tuple[str, ...]) -> list[tuple[str, str]]:
    """(label, id) for the category facet, groups after their members."""
    out: list[tuple[str, str]] = []
    for c in categories:
        out.append((category_label(c), c))
        group = FACET_GROUPS.get(c)
        if group is not None:
            out.append((category_label(group), group))
    return out


def match_window(hit: Any) -> tuple[float, float] | None:
    """(start, end) in seconds when the match is a window inside a longer file, else None."""
    dur = getattr(hit, "duration", None)
    start, end = float(getattr(hit, "start", 0.0) or 0.0), float(getattr(hit, "end", 0.0) or 0.0)
    if dur is None or end <= start:
        return None
    if start > 1e-3 or end < dur - 1e-3:
        return start, min(end, dur)
    return None


def match_note(hit: Any) -> str:
    """'same file' for a copy of the query's bytes ("you have this already"); 'at 1.50–2.50
    s' for a match inside a longer file; else ''."""
    if getattr(hit, "identical", False):
        return "same file"
    w = match_window(hit)
    return f"at {w[0]:.2f}–{w[1]:.2f} s" if w else ""


def hit_info(hit: Any) -> str:
    """'closed hat · bright, short': the category and the top sound words, for the preview."""
    words = (getattr(hit, "analysis", None) or {}).get("words") or {}
    top = [w for w, v in sorted(words.items(), key=lambda kv: -kv[1])[:3] if v >= 0.5]
    return " · ".join(x for x in (category_cell(hit), ", ".join(top)) if x)
