"""Downloadable neural embedders (MERT, CLAP): finding, fetching, checking and loading them.

Importing this package is cheap: torch and transformers load only when a model does.
"""

from studio.core.models.manager import ModelManager, ModelStatus
from studio.core.models.specs import SPECS, FolderError, ModelSpec

__all__ = ["SPECS", "FolderError", "ModelManager", "ModelSpec", "ModelStatus"]
