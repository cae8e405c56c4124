"""Where MERT's and CLAP's weights are, their state, and loading them as Embedders.

Weights are looked for in: a folder the user linked (data_dir/models.json), else the Hugging
Face cache (read locally, no network), else nowhere until the user starts a download. A
running download writes data_dir/models/<name>.download.json so another process (the app
while the CLI downloads, or the reverse) can show its progress.

Nothing here imports torch or touches the network until `load` or `download` is called.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.embedders.base import Embedder, EmbedderUnavailable
from studio.core.models import download as download_mod
from studio.core.models.download import DownloadCancelled, DownloadError, download_files, link_hint
from studio.core.models.specs import SPECS, FolderError, ModelSpec, get_spec, validate_folder

LINKS_FILE = "models.json"
LINKS_VERSION = 1
STATES = ("missing", "downloading", "ready", "failed")


@dataclass
class ModelStatus:
    name: str
    state: str  # one of STATES
    percent: float | None
    reason: str | None
    path: str | None
    licence: str
    repo_id: str
    size_bytes: int


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class ModelManager:
    def __init__(self, data_dir: Path, cache_dir: Path | None = None) -> None:
        """`cache_dir`: the Hugging Face hub cache to search and fill (default: HF's own)."""
        self.data_dir = Path(data_dir)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    # --- where the weights are -------------------------------------------------------------
    def _links(self) -> dict[str, str]:
        path = self.data_dir / LINKS_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        links = data.get("links", {}) if isinstance(data, dict) else {}
        return {k: str(v) for k, v in links.items() if isinstance(v, str)}

    def _save_links(self, links: dict[str, str]) -> None:
        _write_json_atomic(
            self.data_dir / LINKS_FILE,
            {"version": LINKS_VERSION, "links": dict(sorted(links.items()))},
        )

    def _cache(self) -> str | None:
        """The hub cache: ours if given, else HF's own, read from the environment now."""
        if self.cache_dir is not None:
            return str(self.cache_dir)
        if os.environ.get("HF_HUB_CACHE"):
            return os.environ["HF_HUB_CACHE"]
        if os.environ.get("HF_HOME"):
            return str(Path(os.environ["HF_HOME"]) / "hub")
        return None

    def _cached_folder(self, spec: ModelSpec) -> Path | None:
        from huggingface_hub import try_to_load_from_cache

        cache = self._cache()
        found = try_to_load_from_cache(spec.repo_id, "config.json", cache_dir=cache)
        if not isinstance(found, str):
            return None
        return Path(found).parent

    def _download_file(self, name: str) -> Path:
        return self.data_dir / "models" / f"{name}.download.json"

    def find(self, name: str) -> tuple[Path | None, str]:
        """The folder with `name`'s weights, and where it came from: linked, cache or ''."""
        spec = get_spec(name)
        linked = self._links().get(spec.name)
        if linked:
            return Path(linked), "linked"
        cached = self._cached_folder(spec)
        if cached is not None and (cached / "model.safetensors").is_file():
            return cached, "cache"
        return None, ""

    # --- state ------------------------------------------------------------------------------
    def status(self, name: str) -> ModelStatus:
        spec = get_spec(name)

        def make(
            state: str,
            percent: float | None = None,
            reason: str | None = None,
            path: Path | None = None,
        ) -> ModelStatus:
            size = spec.size_bytes
            if path is not None and (path / "model.safetensors").is_file():
                size = (path / "model.safetensors").stat().st_size
            return ModelStatus(
                spec.name,
                state,
                percent,
                reason,
                str(path) if path else None,
                spec.licence,
                spec.repo_id,
                size,
            )

        dl = self._read_download(spec.name) or {}
        if dl.get("state") == "downloading":
            total = int(dl.get("total") or 0)
            pct = 100.0 * int(dl.get("done") or 0) / total if total else None
            return make("downloading", pct)
        folder, _ = self.find(spec.name)
        if folder is not None:
            try:
                validate_folder(spec, folder, deep=False)
            except FolderError as e:
                return make("failed", reason=str(e), path=folder)
        elif dl.get("state") == "failed":
            return make("failed", reason=str(dl.get("reason") or "download failed"))
        else:
            return make(
                "missing", reason=f"not downloaded; run `studio models download {spec.name}`"
            )
        return make("ready", 100.0, path=folder)

    def list(self) -> builtins.list[ModelStatus]:
        return [self.status(n) for n in SPECS]

    def _read_download(self, name: str) -> dict[str, Any] | None:
        path = self._download_file(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        if data.get("state") == "downloading" and not _pid_alive(int(data.get("pid") or 0)):
            return {
                "state": "failed",
                "reason": "the download was interrupted; start it again to resume",
            }
        return data

    # --- user actions -----------------------------------------------------------------------
    def link(self, name: str, folder: Path | str) -> ModelStatus:
        """Use the weights in `folder`; raise FolderError (a ValueError) if they can't be used."""
        spec = get_spec(name)
        path = Path(folder).expanduser().resolve()
        validate_folder(spec, path, deep=True)
        links = self._links()
        links[spec.name] = str(path)
        self._save_links(links)
        self._download_file(spec.name).unlink(missing_ok=True)
        return self.status(spec.name)

    def unlink(self, name: str) -> None:
        links = self._links()
        if links.pop(get_spec(name).name, None) is not None:
            self._save_links(links)

    def download(
        self,
        name: str,
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> ModelStatus:
        """Download `name` into the hub cache. Raises DownloadError (DownloadCancelled on a
        cancel) with a one-line reason; offline, it fails at once with how to link instead."""
        spec = get_spec(name)
        why = download_mod.offline_reason()
        if why:  # refused before anything started: the model stays "missing", not "failed"
            raise DownloadError(f"cannot download {spec.name}: {why}; {link_hint(spec)}")
        marker = self._download_file(spec.name)
        state: dict[str, Any] = {
            "state": "downloading",
            "pid": os.getpid(),
            "done": 0,
            "total": 0,
            "started": time.time(),
        }
        last = [0.0]

        def report(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] > 0.5 or done >= total:
                last[0] = now
                state.update(done=done, total=total)
                _write_json_atomic(marker, state)
            if progress is not None:
                progress(done, total)

        _write_json_atomic(marker, state)
        try:
            cache = self._cache()
            download_files(spec, Path(cache) if cache else None, report, should_stop)
        except DownloadCancelled:
            marker.unlink(missing_ok=True)  # partial files stay in the cache for a resume
            raise
        except BaseException as e:
            reason = str(e) if isinstance(e, DownloadError) else f"download failed: {e!r}"
            if isinstance(e, KeyboardInterrupt):
                marker.unlink(missing_ok=True)
                raise
            _write_json_atomic(marker, {"state": "failed", "reason": reason, "pid": os.getpid()})
            raise
        marker.unlink(missing_ok=True)
        return self.status(spec.name)

    def load(
        self, name: str, device: str | None = None, dtype: str | None = None, **options: Any
    ) -> Embedder:
        """The model as an Embedder; EmbedderUnavailable says what to do if it can't load.

        `options` go to the embedder (for MERT: layers=..., pooling=...)."""
        spec = get_spec(name)
        folder, _ = self.find(spec.name)
        if folder is None:
            raise EmbedderUnavailable(
                f"{spec.title} is not downloaded: run `studio models download {spec.name}`, "
                f"or {link_hint(spec)}"
            )
        try:
            validate_folder(spec, folder, deep=True)
        except FolderError as e:
            raise EmbedderUnavailable(str(e)) from e
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError as e:
            how = (
                "this build of Studio leaves them out: install the Studio build with models"
                if getattr(sys, "frozen", False)
                else "pip install 'studio[models]'"
            )
            raise EmbedderUnavailable(
                f"{spec.title} needs torch and transformers: {how} ({e})"
            ) from e
        from transformers.utils import logging as hf_logging

        from studio.core.models.device import configure_threads, pick_device, pick_dtype

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        try:
            dev = pick_device(device)
            configure_threads()  # before pick_dtype, which may time matmuls on these threads
            # int8 quantises fp32 Linears: an automatic choice of precision yields to it.
            int8 = options.get("precision") == "int8"
            dt = pick_dtype(
                dev, dtype or ("fp32" if int8 else None), matmul_bound=spec.name == "mert"
            )
            if spec.name == "mert":
                from studio.core.models.mert import MertEmbedder

                return MertEmbedder(folder, device=dev, dtype=dt, **options)
            from studio.core.models.clap import ClapEmbedder

            return ClapEmbedder(folder, device=dev, dtype=dt, **options)
        except Exception as e:  # whatever breaks a load, the user gets one line
            raise EmbedderUnavailable(f"{spec.title} cannot load from {folder}: {e}") from e
