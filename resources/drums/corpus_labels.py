"""Hydrogen dev-corpus labels with one rule bug fixed, for training and scoring the classifier.

../shared/corpus/make_dev_corpus.py labels each hit by the first of its RULES that the
instrument's name matches. Its tom rule (`\\btom|tom\\b|tom\\d|floor`) also matches the end of
a word: ForzeeStereo's three ride cymbals, 'Ride (Custom, Zagrebin 22")', 'Ride Bell (Custom,
...)' and 'Ride Bow (Custom, ...)', are labelled tom ("Cus-tom,"): 11 files. Here a tom must
start a word ('Tom Low', 'tom1', 'tomhi2', 'Floor'); a name the tom rule matched only inside
another word takes the next rule it matches (ride, for those three). Nothing else changes.

The fix needs each file's instrument name, which the manifest does not keep: it is read from
the kits' drumkit.xml files, and an anonymised file is matched to its source by the same
sha1 of the source path that make_dev_corpus.py named it with.

    python resources/drums/corpus_labels.py [CORPUS_DIR]   # lists what is relabelled
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS_SCRIPT_DIR = ROOT.parent / "shared" / "corpus"
KITS_DIR = "/usr/share/hydrogen/data/drumkits"
TOM_WORD = re.compile(r"(?<![a-z])tom|floor")


def _rules() -> list[tuple[str, str]]:
    sys.path.insert(0, str(CORPUS_SCRIPT_DIR))
    try:
        import make_dev_corpus
    finally:
        sys.path.remove(str(CORPUS_SCRIPT_DIR))
    return list(make_dev_corpus.RULES)


def fixed_label(name: str, label: str, rules: list[tuple[str, str]] | None = None) -> str:
    """The corpus label of a hit of instrument `name`, with the tom rule's bug fixed."""
    n = name.lower()
    if label != "tom" or TOM_WORD.search(n):
        return label
    for cls, pat in rules if rules is not None else _rules():
        if cls != "tom" and re.search(pat, n):
            return cls
    return label


def instrument_names(kits_dir: str = KITS_DIR) -> dict[str, str]:
    """Corpus-relative path (anonymised and plain) -> the instrument name it was cut from."""
    out: dict[str, str] = {}
    for kit in sorted(os.listdir(kits_dir)):
        xml = os.path.join(kits_dir, kit, "drumkit.xml")
        if not os.path.exists(xml):
            continue
        kit_id = re.sub(r"[^A-Za-z0-9]+", "_", kit).strip("_")
        for inst in ET.parse(xml).getroot().iter():
            if not inst.tag.endswith("instrument"):
                continue
            name = next((c.text or "" for c in inst if c.tag.endswith("name")), "")
            for c in inst.iter():
                if c.tag.endswith("filename") and c.text:
                    path = os.path.join(kits_dir, kit, c.text)
                    ext = os.path.splitext(path)[1].lower()
                    anon = f"{kit_id}/{hashlib.sha1(path.encode()).hexdigest()[:10]}{ext}"
                    out.setdefault(anon, name)
                    out.setdefault(f"{kit_id}/{os.path.basename(path)}", name)
    return out


def corrected_labels(rows: list[dict[str, str]], kits_dir: str = KITS_DIR) -> list[str]:
    """Each manifest row's label with the fix applied. Without the kits or the corpus script
    (needed to know the names and the rules), the manifest's labels, and a notice on stderr."""
    try:
        names = instrument_names(kits_dir)
        rules = _rules()
    except (OSError, ImportError) as e:
        print(f"corpus labels: manifest labels kept, the fix needs the kits ({e})", file=sys.stderr)
        return [r["cls"] for r in rows]
    return [fixed_label(names.get(r["path"], ""), r["cls"], rules) for r in rows]


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/corpus_anon")
    rows = list(csv.DictReader(open(corpus / "manifest.csv", newline="")))
    names, rules = instrument_names(), _rules()
    fixed = [fixed_label(names.get(r["path"], ""), r["cls"], rules) for r in rows]
    changed = [(r, f) for r, f in zip(rows, fixed, strict=True) if f != r["cls"]]
    for r, f in changed:
        print(f"{r['path']}: {r['cls']} -> {f}  ({names.get(r['path'], '?')})")
    print(f"{len(changed)} of {len(rows)} labels fixed")


if __name__ == "__main__":
    main()
