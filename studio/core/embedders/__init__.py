"""Embedders turn audio (and, for some, text) into unit vectors for the vector indexes."""

from studio.core.embedders.base import Embedder, EmbedderUnavailable

__all__ = ["Embedder", "EmbedderUnavailable"]
