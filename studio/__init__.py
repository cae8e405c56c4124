"""Studio: find drum samples by how they sound."""

# Kept in step with pyproject.toml by tests/test_meta.py (importlib.metadata costs ~90 ms
# of start-up).
__version__ = "0.1.0"
