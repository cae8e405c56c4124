"""What each downloadable model is, and how a folder of its weights is checked.

Checks read only JSON and the safetensors header (a few KB), so linking a folder or showing
status never imports torch. Errors are `FolderError` with a message that says what is wrong
and what to do.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class FolderError(ValueError):
    """A weights folder is missing files, corrupt, or holds a different model."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    repo_id: str
    licence: str
    licence_note: str
    model_types: tuple[str, ...]  # config.json model_type values accepted
    required: tuple[str, ...]
    # Each group needs at least one of its files present.
    any_of: tuple[tuple[str, ...], ...]
    allow_patterns: tuple[str, ...]
    size_bytes: int  # approximate download size, until the hub says exactly


MERT = ModelSpec(
    name="mert",
    title="MERT-v1-95M",
    repo_id="m-a-p/MERT-v1-95M",
    licence="CC-BY-NC-4.0",
    licence_note=(
        "MERT-v1-95M is licensed CC-BY-NC-4.0: non-commercial use only, with attribution "
        "(https://huggingface.co/m-a-p/MERT-v1-95M)."
    ),
    model_types=("mert_model", "hubert"),
    required=("config.json", "model.safetensors", "preprocessor_config.json"),
    any_of=(),
    allow_patterns=("config.json", "model.safetensors", "preprocessor_config.json"),
    size_bytes=377_000_000,
)

CLAP = ModelSpec(
    name="clap",
    title="CLAP larger_clap_music",
    repo_id="laion/larger_clap_music",
    licence="Apache-2.0",
    licence_note="laion/larger_clap_music is licensed Apache-2.0.",
    model_types=("clap",),
    required=("config.json", "model.safetensors"),
    any_of=(
        ("preprocessor_config.json", "processor_config.json"),
        ("tokenizer.json", "vocab.json"),
    ),
    allow_patterns=(
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
        "processor_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "vocab.json",
        "merges.txt",
    ),
    size_bytes=776_000_000,
)

SPECS: dict[str, ModelSpec] = {MERT.name: MERT, CLAP.name: CLAP}


def get_spec(name: str) -> ModelSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise FolderError(f"unknown model {name!r}: choose one of {', '.join(SPECS)}") from None


def missing_files(spec: ModelSpec, folder: Path) -> list[str]:
    missing = [f for f in spec.required if not (folder / f).is_file()]
    for group in spec.any_of:
        if not any((folder / f).is_file() for f in group):
            missing.append(" or ".join(group))
    return missing


def read_config(spec: ModelSpec, folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FolderError(f"{path} cannot be read as JSON ({e}); download or copy it again") from e
    if not isinstance(cfg, dict):
        raise FolderError(f"{path} is not a model config")
    mtype = cfg.get("model_type")
    if mtype is None:
        raise FolderError(
            f"{path} names no model_type: it is not a {spec.title} config; link a folder "
            f"with {spec.repo_id}"
        )
    if mtype not in spec.model_types:
        other = next((s.name for s in SPECS.values() if mtype in s.model_types), None)
        hint = (
            f" (it looks like {other} weights: `studio models link {other} {folder}`)"
            if other
            else ""
        )
        raise FolderError(
            f"{folder} holds a {mtype!r} model, not {spec.title}{hint}; "
            f"link a folder with {spec.repo_id}"
        )
    return cfg


def safetensors_header(path: Path) -> dict[str, Any]:
    """The tensor table of a .safetensors file, checked against the file's size."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise FolderError(f"{path} is empty or truncated; download it again")
            (n,) = struct.unpack("<Q", head)
            if n > 100_000_000 or 8 + n > size:
                raise FolderError(f"{path} is not a safetensors file or is truncated")
            header = json.loads(f.read(n))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FolderError(f"{path} is not a readable safetensors file ({e})") from e
    header.pop("__metadata__", None)
    end = max((int(t["data_offsets"][1]) for t in header.values()), default=0)
    if 8 + n + end > size:
        raise FolderError(
            f"{path} is truncated ({size:,} of {8 + n + end:,} bytes); download it again"
        )
    return header


def _shape(header: dict[str, Any], suffix: str) -> list[int] | None:
    for key, t in header.items():
        if key == suffix or key.endswith("." + suffix):
            return list(t["shape"])
    return None


def _expect(header: dict[str, Any], folder: Path, suffix: str, shape: list[int]) -> None:
    got = _shape(header, suffix)
    if got is None:
        raise FolderError(
            f"{folder}/model.safetensors has no tensor {suffix!r}: these weights are for a "
            "different model"
        )
    if got != shape:
        raise FolderError(
            f"{folder}/model.safetensors: {suffix} has shape {got}, config.json says {shape}; "
            "the weights and config do not match"
        )


def check_shapes(
    spec: ModelSpec, cfg: dict[str, Any], header: dict[str, Any], folder: Path
) -> None:
    if spec.name == "mert":
        h = int(cfg.get("hidden_size", 768))
        conv = list(cfg.get("conv_dim", [512]))
        kern = list(cfg.get("conv_kernel", [10]))
        _expect(
            header, folder, "feature_extractor.conv_layers.0.conv.weight", [conv[0], 1, kern[0]]
        )
        _expect(header, folder, "feature_projection.projection.weight", [h, conv[-1]])
        last = int(cfg.get("num_hidden_layers", 12)) - 1
        _expect(header, folder, f"encoder.layers.{last}.attention.q_proj.weight", [h, h])
    elif spec.name == "clap":
        text = cfg.get("text_config") or {}
        proj = int(cfg.get("projection_dim", 512))
        th = int(text.get("hidden_size", 768))
        _expect(header, folder, "text_projection.linear1.weight", [proj, th])
        ah = int((cfg.get("audio_config") or {}).get("hidden_size", 768))
        _expect(header, folder, "audio_projection.linear1.weight", [proj, ah])


def validate_folder(spec: ModelSpec, folder: Path, deep: bool = True) -> dict[str, Any]:
    """Raise FolderError unless `folder` holds usable weights for `spec`; return its config.

    `deep` also reads the safetensors header and checks tensor shapes against the config.
    """
    if not folder.is_dir():
        raise FolderError(f"{folder} is not a folder")
    # A wrong model is the likelier story than missing files, so the config speaks first.
    cfg = read_config(spec, folder) if (folder / "config.json").is_file() else None
    missing = missing_files(spec, folder)
    if missing:
        raise FolderError(
            f"{folder} is missing {', '.join(missing)}; it needs the files of {spec.repo_id}"
        )
    assert cfg is not None
    if spec.name == "mert":
        from studio.core.models.mert import check_mert_config

        check_mert_config(cfg)
    if deep:
        header = safetensors_header(folder / "model.safetensors")
        check_shapes(spec, cfg, header, folder)
    return cfg
