"""How long work reports how far it got, and is asked to stop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Progress:
    phase: str  # "scan", "analyse", "embed:<name>", "done"
    done: int
    total: int
    message: str = ""


ProgressFn = Callable[[Progress], None]
StopFn = Callable[[], bool]
