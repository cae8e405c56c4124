"""Studio: find drum samples by how they sound."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("studio")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+src"
