"""Fetching a model's files from the Hugging Face hub into its cache, on the user's request.

Only this module talks to the network, and only when `download_files` is called. Progress is
reported in bytes over all files; `should_stop` is polled on every chunk and cancels by
raising `DownloadCancelled`; a partial file stays in the cache and the next download resumes
it (hf_hub_download continues `.incomplete` files).
"""

from __future__ import annotations

import fnmatch
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.core.models.specs import ModelSpec

Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]


# A hub that accepts the connection and never answers fails the listing after this long
# (huggingface_hub waits forever by default); file reads time out after
# HF_HUB_DOWNLOAD_TIMEOUT (10 s by default).
LIST_TIMEOUT_S = 20.0


class DownloadError(RuntimeError):
    """A download could not run or failed; the message says what to do."""


class DownloadCancelled(DownloadError):
    pass


def link_hint(spec: ModelSpec) -> str:
    return (
        f"download {spec.repo_id} on a connected machine and run "
        f"`studio models link {spec.name} /path/to/{spec.repo_id.split('/')[-1]}`"
    )


def offline_reason() -> str | None:
    """Why the hub cannot be reached right now, or None if it seems reachable."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return f"offline mode is on ({var}=1)"
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    hostname, _, port = host.partition(":")
    try:
        with socket.create_connection((hostname, int(port or 443)), timeout=5):
            return None
    except OSError as e:
        return f"cannot reach {hostname} ({e.__class__.__name__})"


def _tqdm_class(
    seen: dict[str, int], total: int, progress: Progress | None, stop: ShouldStop | None
) -> Any:
    """A tqdm stand-in for hf_hub_download that forwards bytes and polls for a cancel."""
    from huggingface_hub.utils import tqdm as hf_tqdm

    class _Report(hf_tqdm):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self._mine = int(kwargs.get("initial") or 0)
            seen["current"] = self._mine
            self._tick()

        def _tick(self) -> None:
            if stop is not None and stop():
                raise DownloadCancelled("download cancelled")
            if progress is not None:
                progress(min(seen["done"] + seen["current"], total), total)

        def update(self, n: float | None = 1) -> bool | None:
            self._mine += int(n or 0)
            seen["current"] = self._mine
            self._tick()
            return None

    return _Report


def download_files(
    spec: ModelSpec,
    cache_dir: Path | None,
    progress: Progress | None = None,
    should_stop: ShouldStop | None = None,
) -> Path:
    """Download `spec`'s files into the hub cache; return the snapshot folder."""
    why = offline_reason()
    if why:
        raise DownloadError(f"cannot download {spec.name}: {why}; {link_hint(spec)}")
    from huggingface_hub import HfApi, hf_hub_download

    try:
        info = HfApi().model_info(spec.repo_id, files_metadata=True, timeout=LIST_TIMEOUT_S)
    except Exception as e:  # network, auth, hub errors: all end the same way for the user
        raise DownloadError(f"cannot list {spec.repo_id}: {_short(e)}; {link_hint(spec)}") from e
    files = [
        (s.rfilename, int(s.size or 0))
        for s in info.siblings or []
        if any(fnmatch.fnmatch(s.rfilename, p) for p in spec.allow_patterns)
    ]
    names = {f for f, _ in files}
    if "model.safetensors" not in names:
        raise DownloadError(f"{spec.repo_id} has no model.safetensors; {link_hint(spec)}")
    total = sum(size for _, size in files)
    seen = {"done": 0, "current": 0}
    folder: Path | None = None
    for name, size in sorted(files, key=lambda f: f[1]):
        if should_stop is not None and should_stop():
            raise DownloadCancelled("download cancelled")
        seen["current"] = 0
        try:
            path = hf_hub_download(
                spec.repo_id,
                name,
                revision=info.sha,
                cache_dir=str(cache_dir) if cache_dir else None,
                tqdm_class=_tqdm_class(seen, total, progress, should_stop),
            )
        except DownloadCancelled:
            raise
        except Exception as e:
            # A cancel raised inside a native (xet) progress callback may come back wrapped.
            if should_stop is not None and should_stop():
                raise DownloadCancelled("download cancelled") from e
            raise DownloadError(f"downloading {name} failed: {_short(e)}") from e
        seen["done"] += size
        if progress is not None:
            progress(min(seen["done"], total), total)
        folder = Path(str(path)).parent
    assert folder is not None
    return folder


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else e.__class__.__name__
