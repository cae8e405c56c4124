"""The dev-corpus label fix used to train and score the drum classifier."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "resources" / "drums"))

import corpus_labels  # noqa: E402

# A few of make_dev_corpus.py's rules, in its order (tom before ride, ride before crash).
RULES = [
    ("kick", r"kick|bass\s*drum"),
    ("snare", r"snare"),
    ("tom", r"\btom|tom\b|tom\d|floor"),
    ("ride", r"ride"),
    ("crash", r"crash|splash|china|cymbal|\bcym"),
]


@pytest.mark.parametrize(
    ("name", "label", "want"),
    [
        ('Ride Bell (Custom, Zagrebin 22")', "tom", "ride"),  # "Cus-tom," is no tom
        ("Bottom Crash", "tom", "crash"),
        ("Tom Low (Tama Superstar 16\")", "tom", "tom"),
        ("tomhi2", "tom", "tom"),
        ("Floor", "tom", "tom"),
        ("hi tom", "tom", "tom"),
        ("Custom Kick", "kick", "kick"),  # only tom labels are ever changed
        ("Custom thing", "tom", "tom"),  # no other rule matches: the label stays
    ],
)
def test_fixed_label(name: str, label: str, want: str) -> None:
    assert corpus_labels.fixed_label(name, label, RULES) == want


def test_fix_on_the_dev_corpus_relabels_exactly_the_custom_rides(dev_corpus: Path) -> None:
    rows = list(csv.DictReader(open(dev_corpus / "manifest.csv", newline="")))
    names = corpus_labels.instrument_names()
    fixed = corpus_labels.corrected_labels(rows)
    changed = [(r, f) for r, f in zip(rows, fixed, strict=True) if f != r["cls"]]
    assert len(changed) == 11
    for r, f in changed:
        assert (r["kit"], r["cls"], f) == ("ForzeeStereo", "tom", "ride")
        assert names[r["path"]].startswith("Ride")
    assert all(r["path"] in names for r in rows)
