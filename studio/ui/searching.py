"""Queries off the GUI thread, newest request wins, and the header that says what was asked."""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.library import Library
from studio.core.search import Query, QueryError, SearchResult
from studio.ui.labels import category_label
from studio.ui.worker import Job, LatestRunner


def _search_job(job: Job, lib: Library, q: Query) -> SearchResult:
    return lib.search(q)


def describe(q: Query, n: int, total: int | None = None) -> str:
    """'Like "Kick_03.wav" — 200 results', '"dusty snare" — 200 of 2,140 results', …"""
    if q.like:
        names = [os.path.basename(p) for p in q.like]
        head = f'Like "{names[0]}"' + (f" + {len(names) - 1} more" if len(names) > 1 else "")
        if q.text:
            head += f', but "{q.text}"'
    elif q.text:
        head = f'"{q.text}"'
    else:
        head = "All sounds"
    f = q.filters
    if f.category:
        head += f" · {category_label(f.category)}"
    # Every filter shows, so a short list says why (review 12: only the category did).
    if f.min_seconds is not None and f.max_seconds is not None:
        head += f" · {f.min_seconds:g}–{f.max_seconds:g} s"
    elif f.min_seconds is not None:
        head += f" · > {f.min_seconds:g} s"
    elif f.max_seconds is not None:
        head += f" · < {f.max_seconds:g} s"
    if f.words:
        head += " · " + ", ".join(f.words)
    count = f"{n:,} of {total:,}" if total is not None and total > n else f"{n:,}"
    return f"{head} — {count} {'result' if count == '1' else 'results'}"


class SearchController(QObject):
    results = Signal(object, str)  # SearchResult, header text
    failed = Signal(str)

    def __init__(self, lib: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lib = lib
        self.runner = LatestRunner("Search", self)
        self.runner.result.connect(self._done)
        self.runner.failed.connect(self._failed)
        self.last: SearchResult | None = None

    def search(self, q: Query) -> None:
        self.runner.submit(q, _search_job, self.lib, q)

    def cancel(self) -> None:
        self.runner.cancel()

    def busy(self) -> bool:
        return self.runner.busy()

    def shutdown(self) -> None:
        self.runner.shutdown()

    def _done(self, q: Any, res: Any) -> None:
        self.last = res
        self.results.emit(res, describe(q, len(res.hits), res.total))

    def _failed(self, _q: Any, exc: object) -> None:
        if isinstance(exc, QueryError):
            self.failed.emit(str(exc))
        else:
            self.failed.emit(f"Search failed: {exc}")
