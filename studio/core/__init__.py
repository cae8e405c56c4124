"""Studio's engine: catalog, scanner, decoding, embedders, vector indexes and search.

Nothing in this package imports Qt; `lint-imports` enforces it.
"""
