"""CLAP (laion/larger_clap_music, unfused) as an Embedder with a text tower.

The feature extractor always builds a 10 s mel. With truncation="rand_trunc" a clip gives
one mel, but a clip longer than 10 s would be cropped at a random place; we cut every clip
to its first 10 s ourselves, so the crop never happens and a clip always gives the same
vector, alone or in any batch (shorter clips are repeat-padded, which is per clip).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.embedders.base import Embedder, l2_normalize
from studio.core.models.specs import FolderError

SAMPLE_RATE = 48000
MAX_SECONDS = 10.0
EMBEDDER_ID = "clap-larger-music-v1"
TEXT_CACHE_SIZE = 256


def _features(out: Any) -> Any:
    """get_*_features returns a tensor (transformers 4) or an output with pooler_output (5)."""
    return out if hasattr(out, "shape") else out.pooler_output


class ClapEmbedder(Embedder):
    name = "clap"
    id = EMBEDDER_ID
    sample_rate = SAMPLE_RATE
    max_seconds = MAX_SECONDS
    supports_text = True
    batch_size = 16

    def __init__(
        self, folder: Path, device: str = "cpu", dtype: str = "float32", fast_mel: bool = True
    ) -> None:
        import torch
        from transformers import ClapModel, ClapProcessor

        from studio.core.models.device import torch_dtype

        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if (cfg.get("audio_config") or {}).get("enable_fusion"):
            raise FolderError(
                f"{folder} holds a fused CLAP model; Studio needs the unfused "
                "laion/larger_clap_music (fused ones give random embeddings for short clips)"
            )
        loaded: Any = ClapModel.from_pretrained(
            str(folder), local_files_only=True, use_safetensors=True, output_loading_info=True
        )
        model, info = loaded
        missing = [k for k in info.get("missing_keys", []) if "position_ids" not in k]
        if missing:
            raise FolderError(
                f"{folder}/model.safetensors lacks {len(missing)} CLAP weights "
                f"(e.g. {missing[0]}); download the model again"
            )
        processor = ClapProcessor.from_pretrained(str(folder), local_files_only=True)
        self._torch = torch
        self._device = torch.device(device)
        self._dtype = torch_dtype(dtype)
        self._model = model.to(self._device, dtype=self._dtype).eval()
        self._fe = processor.feature_extractor
        self.fast_mel = fast_mel
        self._window = torch.hann_window(self._fe.fft_window_size, periodic=True)
        self._mel_bank = torch.from_numpy(
            np.asarray(self._fe.mel_filters_slaney, dtype=np.float32).T.copy()
        )
        self._tok = processor.tokenizer
        self.dim = int(cfg.get("projection_dim", 512))
        self.device = device
        self.dtype = dtype
        self._text_cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def _prepare(self, clip: np.ndarray) -> np.ndarray:
        y = np.asarray(clip, dtype=np.float32).reshape(-1)[: int(MAX_SECONDS * SAMPLE_RATE)]
        if y.size == 0 or not np.any(y):
            # repeatpad divides by the length; a silent clip is the same as one zero sample.
            y = np.zeros(1, dtype=np.float32)
        return y

    def _mel_reference(self, batch: list[np.ndarray]) -> Any:
        """The feature extractor's own mel (float64 numpy, ~35 ms a clip)."""
        feats = self._fe(
            batch, sampling_rate=SAMPLE_RATE, truncation="rand_trunc", return_tensors="np"
        )
        return self._torch.from_numpy(np.asarray(feats["input_features"], dtype=np.float32))

    def _mel(self, batch: list[np.ndarray]) -> Any:
        """The same log-mel as ClapFeatureExtractor's rand_trunc path, batched in torch.

        Pads like the extractor ("repeatpad": tile, then zeros up to 10 s), then STFT with a
        periodic Hann window, power, the Slaney mel bank and dB; matches it to ~1e-3 dB.
        """
        torch = self._torch
        fe = self._fe
        n = int(fe.nb_max_samples)
        padded = np.zeros((len(batch), n), dtype=np.float32)
        for i, y in enumerate(batch):
            if fe.padding in ("repeat", "repeatpad") and y.size < n:
                reps = n // y.size + (1 if fe.padding == "repeat" else 0)
                y = np.tile(y, reps)
            padded[i, : min(n, y.size)] = y[:n]
        x = torch.from_numpy(padded)
        spec = (
            torch.stft(
                x,
                n_fft=fe.fft_window_size,
                hop_length=fe.hop_length,
                window=self._window,
                center=True,
                pad_mode="reflect",
                return_complex=True,
            ).abs()
            ** 2
        )
        mel = torch.matmul(self._mel_bank, spec).clamp_min(1e-10)
        return (10.0 * torch.log10(mel)).transpose(1, 2).unsqueeze(1)

    def embed_audio(self, clips: Sequence[np.ndarray]) -> np.ndarray:
        torch = self._torch
        out = np.zeros((len(clips), self.dim), dtype=np.float32)
        for s in range(0, len(clips), self.batch_size):
            batch = [self._prepare(c) for c in clips[s : s + self.batch_size]]
            x = self._mel(batch) if self.fast_mel else self._mel_reference(batch)
            with torch.inference_mode():
                emb = _features(
                    self._model.get_audio_features(input_features=x.to(self._device, self._dtype))
                )
            out[s : s + len(batch)] = emb.float().cpu().numpy()
        return l2_normalize(out)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self._text_cache]
        if todo:
            torch = self._torch
            enc = self._tok(list(todo), padding=True, truncation=True, return_tensors="pt")
            with torch.inference_mode():
                emb = _features(
                    self._model.get_text_features(
                        input_ids=enc["input_ids"].to(self._device),
                        attention_mask=enc["attention_mask"].to(self._device),
                    )
                )
            vecs = l2_normalize(emb.float().cpu().numpy())
            for t, v in zip(todo, vecs, strict=True):
                self._text_cache[t] = v
        result = (
            np.stack([self._text_cache[t] for t in texts]) if texts else np.zeros((0, self.dim))
        )
        for t in texts:
            self._text_cache.move_to_end(t)
        while len(self._text_cache) > TEXT_CACHE_SIZE:
            self._text_cache.popitem(last=False)
        return result.astype(np.float32)
