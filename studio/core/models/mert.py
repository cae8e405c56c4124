"""MERT-v1-95M as an Embedder, run by transformers' HubertModel (no trust_remote_code).

MERT-v1 is HuBERT with a music-trained checkpoint; with the CQT front end and deepnorm off
(as in the released 95M model) HubertModel computes the same function. We read the config
ourselves, refuse the variants HubertModel cannot reproduce, and build a HubertConfig.

Embedding: the hidden states of chosen layers, averaged over the layers, pooled over time
("mean", or "meanstd": mean and standard deviation concatenated), L2-normalised.
Default: layer 6 of 12, mean over time - see DEFAULT_LAYERS for why. Only the transformer
layers up to the deepest one used are run.

A one-shot's tail is cut once it stays 60 dB below its peak (trim_db; None keeps it all):
compute grows with length, and trailing silence then no longer changes the embedding.

Clips are batched only with clips of the same length: the conv front end uses group norm
over time, so zero padding would change a clip's embedding.

`precision="int8"` (opt-in, CPU) quantises the transformer's Linears to int8 with dynamic
activation scales taken per clip (see device.quantize_int8); it gives different vectors, so
it has its own embedder id ("-int8"). The conv front end stays fp32 (torch's oneDNN conv).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.embedders.base import Embedder, l2_normalize
from studio.core.models.specs import FolderError

SAMPLE_RATE = 24000
MAX_SECONDS = 5.0
# Shorter clips are zero-padded to this many samples (the conv front end needs >= 400).
MIN_SAMPLES = 2400
# The MERT paper's layer-wise probes put timbre-like tasks (NSynth instrument and pitch) in
# the lower-middle layers and genre/key/emotion higher; layer 6 of 12 is a middle layer and
# runs only half the transformer. Not yet measured with real weights (none could be fetched
# here); the measurement that should settle it: every layer 0..12 and pairs/triples of
# neighbours, mean and meanstd pooled, scored by same-class precision@10 and near-duplicate
# recall@1 on the dev corpus. The id records the choice, so changing it re-embeds.
DEFAULT_LAYERS: tuple[int, ...] = (6,)
DEFAULT_POOLING = "mean"
POOLINGS = ("mean", "meanstd")
# The tail after a one-shot has fallen this far below its peak is not embedded.
TRIM_DB = 60.0
TRIM_STEP = 1200  # 50 ms
PRECISIONS = ("fp32", "int8")


def check_mert_config(cfg: dict[str, Any]) -> None:
    """Refuse MERT variants that HubertModel would silently compute differently."""
    if cfg.get("feature_extractor_cqt"):
        raise FolderError("this MERT checkpoint uses the CQT front end, which Studio cannot run")
    if cfg.get("deepnorm"):
        raise FolderError("this MERT checkpoint uses deepnorm, which Studio cannot run")
    relax = cfg.get("attention_relax", -1.0)
    if relax is not None and float(relax) > 0:
        raise FolderError("this MERT checkpoint uses attention_relax, which Studio cannot run")
    if cfg.get("feat_extract_norm", "group") != "group" or cfg.get("do_stable_layer_norm"):
        raise FolderError("this is not a MERT-v1 style checkpoint (expected group-norm conv)")


def hubert_config(cfg: dict[str, Any]) -> Any:
    """A HubertConfig from a MERT config.json: keep only the fields HubertConfig knows."""
    from transformers import HubertConfig

    check_mert_config(cfg)
    known = set(HubertConfig().to_dict())
    skip = {"model_type", "architectures", "auto_map", "transformers_version", "_name_or_path"}
    kwargs = {k: v for k, v in cfg.items() if k in known and k not in skip}
    return HubertConfig(**kwargs)


def trim_tail(y: np.ndarray, db: float = TRIM_DB) -> np.ndarray:
    """Cut a one-shot's tail once it stays `db` below its peak, keeping whole TRIM_STEPs.

    Compute grows with length, and a quiet tail (or trailing silence some packs add) says
    little about the sound; rounding to TRIM_STEP keeps real audio, never adds padding, and
    gives clips of equal length a chance to share a batch.
    """
    peak = float(np.max(np.abs(y)))
    if peak <= 0.0:
        return y[:MIN_SAMPLES]
    loud = np.flatnonzero(np.abs(y) > peak * 10.0 ** (-db / 20.0))
    end = int(loud[-1]) + 1
    end = min(y.size, -(-end // TRIM_STEP) * TRIM_STEP)
    return y[:end]


def embedder_id(
    layers: Sequence[int],
    pooling: str,
    trim_db: float | None = TRIM_DB,
    precision: str = "fp32",
) -> str:
    if len(layers) == 1:
        part = f"l{layers[0]}"
    elif list(layers) == list(range(layers[0], layers[-1] + 1)):
        part = f"l{layers[0]}-{layers[-1]}"
    else:
        part = "l" + "+".join(str(i) for i in layers)
    trim = "" if trim_db is None else f"-trim{trim_db:g}"
    prec = "" if precision == "fp32" else f"-{precision}"
    return f"mert-v1-95m-{part}-{pooling}{trim}{prec}"


class MertEmbedder(Embedder):
    name = "mert"
    sample_rate = SAMPLE_RATE
    max_seconds = MAX_SECONDS
    supports_text = False
    batch_size = 16

    def __init__(
        self,
        folder: Path,
        device: str = "cpu",
        dtype: str = "float32",
        layers: Sequence[int] = DEFAULT_LAYERS,
        pooling: str = DEFAULT_POOLING,
        trim_db: float | None = TRIM_DB,
        precision: str = "fp32",
    ) -> None:
        """`precision`: "fp32", or "int8" (dynamic int8 Linears, CPU only; its own id)."""
        import json

        import torch
        from transformers import HubertModel, Wav2Vec2FeatureExtractor

        from studio.core.models.device import torch_dtype

        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        config = hubert_config(cfg)
        n_layers = int(config.num_hidden_layers)
        layers = tuple(int(i) for i in layers)
        if not layers or min(layers) < 0 or max(layers) > n_layers:
            raise ValueError(f"MERT layers must be within 0..{n_layers}, got {layers}")
        if pooling not in POOLINGS:
            raise ValueError(f"MERT pooling must be one of {POOLINGS}, got {pooling!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"MERT precision must be one of {PRECISIONS}, got {precision!r}")
        if precision == "int8" and (device != "cpu" or dtype != "float32"):
            raise ValueError("MERT precision int8 runs on the CPU in float32 only")
        loaded: Any = HubertModel.from_pretrained(
            str(folder),
            config=config,
            local_files_only=True,
            use_safetensors=True,
            output_loading_info=True,
        )
        model, info = loaded
        # masked_spec_embed is only used for training-time masking.
        missing = [k for k in info.get("missing_keys", []) if "masked_spec_embed" not in k]
        if missing:
            raise FolderError(
                f"{folder}/model.safetensors lacks {len(missing)} MERT weights "
                f"(e.g. {missing[0]}); download the model again"
            )
        # Layers past the deepest one we read never influence the result: drop them.
        model.encoder.layers = model.encoder.layers[: max(max(layers), 1)]
        self._torch = torch
        self._device = torch.device(device)
        self._dtype = torch_dtype(dtype)
        model = model.to(self._device, dtype=self._dtype).eval()
        if precision == "int8":
            from studio.core.models.device import quantize_int8

            model.feature_projection = quantize_int8(model.feature_projection)
            model.encoder = quantize_int8(model.encoder)
        self._model = model
        fe_path = folder / "preprocessor_config.json"
        if fe_path.is_file():
            self._fe = Wav2Vec2FeatureExtractor.from_pretrained(str(folder), local_files_only=True)
        else:
            self._fe = Wav2Vec2FeatureExtractor(sampling_rate=SAMPLE_RATE, do_normalize=True)
        self._layers = layers
        self._pooling = pooling
        hidden = int(config.hidden_size)
        self.dim = hidden * (2 if pooling == "meanstd" else 1)
        self._trim_db = trim_db
        self.precision = precision
        self.id = embedder_id(layers, pooling, trim_db, precision)
        self.device = device
        self.dtype = dtype

    def _prepare(self, clip: np.ndarray) -> np.ndarray:
        y = np.asarray(clip, dtype=np.float32).reshape(-1)[: int(MAX_SECONDS * SAMPLE_RATE)]
        if self._trim_db is not None and y.size:
            y = trim_tail(y, self._trim_db)
        if y.size < MIN_SAMPLES:
            y = np.pad(y, (0, MIN_SAMPLES - y.size))
        return y

    def _embed_same_length(self, batch: list[np.ndarray]) -> np.ndarray:
        torch = self._torch
        feats = self._fe(batch, sampling_rate=SAMPLE_RATE, return_tensors="np")
        x = torch.from_numpy(np.asarray(feats["input_values"], dtype=np.float32))
        x = x.to(self._device, dtype=self._dtype)
        with torch.inference_mode():
            out = self._model(x, output_hidden_states=True)
            hs = torch.stack([out.hidden_states[i] for i in self._layers]).float().mean(0)
            pooled = hs.mean(1)
            if self._pooling == "meanstd":
                pooled = torch.cat([pooled, hs.std(1, unbiased=False)], dim=-1)
        return pooled.cpu().numpy()

    def embed_audio(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        prepared = [self._prepare(c) for c in clips]
        out = np.zeros((len(prepared), self.dim), dtype=np.float32)
        by_len: dict[int, list[int]] = defaultdict(list)
        for i, y in enumerate(prepared):
            by_len[y.size].append(i)
        for idx in by_len.values():
            for s in range(0, len(idx), self.batch_size):
                chunk = idx[s : s + self.batch_size]
                out[chunk] = self._embed_same_length([prepared[i] for i in chunk])
        return l2_normalize(out)
