"""Tiny random MERT and CLAP folders, built offline, laid out like the real checkpoints.

The folders go through the same loading code as the downloaded weights: a MERT folder whose
config.json says model_type "mert_model" (with auto_map, feature_extractor_cqt and deepnorm as
the real one has) and a CLAP folder with a tokenizer trained here with `tokenizers`.
"""

from __future__ import annotations

import json
from pathlib import Path

MERT_SR = 24000

_WORDS = (
    "dusty lo-fi snare kick punchy boom tight hat open closed crash ride clap tom rim "
    "shaker vinyl warm bright dark short long distorted acoustic electronic 808 909 trap "
    "house techno jazz brush the sound of a drum hit with reverb"
).split()


def build_tiny_mert(folder: Path, hidden: int = 32, layers: int = 12) -> Path:
    """A small HubertModel saved as a MERT-v1 style folder."""
    import torch
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    config = HubertConfig(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        intermediate_size=hidden * 2,
        conv_dim=(16, 16, 16, 16, 16, 16, 16),
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
    )
    model = HubertModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=MERT_SR,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=True,
    ).save_pretrained(folder)
    cfg_path = folder / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg.update(
        model_type="mert_model",
        architectures=["MERTModel"],
        auto_map={
            "AutoConfig": "configuration_MERT.MERTConfig",
            "AutoModel": "modeling_MERT.MERTModel",
        },
        feature_extractor_cqt=False,
        feature_extractor_cqt_bins=336,
        deepnorm=False,
        attention_relax=-1.0,
        sample_rate=MERT_SR,
    )
    cfg_path.write_text(json.dumps(cfg, indent=2))
    return folder


def _train_tokenizer(folder: Path) -> None:
    from tokenizers import ByteLevelBPETokenizer

    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(
        [" ".join(_WORDS)] * 4,
        vocab_size=300,
        min_frequency=1,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        show_progress=False,
    )
    tok.save_model(str(folder))  # vocab.json + merges.txt


def build_tiny_clap(folder: Path) -> Path:
    """A small unfused ClapModel with its processor (feature extractor + RoBERTa tokenizer)."""
    import torch
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapTextConfig,
        RobertaTokenizer,
    )

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    tok_dir = folder / "_tok"
    tok_dir.mkdir(exist_ok=True)
    _train_tokenizer(tok_dir)
    vocab = json.loads((tok_dir / "vocab.json").read_text())
    merges = [
        tuple(line.split())
        for line in (tok_dir / "merges.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    tokenizer = RobertaTokenizer(vocab=vocab, merges=merges)
    text = ClapTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=80,
        projection_dim=16,
    )
    audio = ClapAudioConfig(
        depths=[1, 1],
        num_attention_heads=[2, 2],
        patch_embeds_hidden_size=16,
        hidden_size=32,
        window_size=8,
        # The 10 s mel (1001 frames) must fit spec_size**2 / num_mel_bins: 128**2 / 16.
        spec_size=128,
        num_mel_bins=16,
        projection_dim=16,
        enable_fusion=False,
    )
    config = ClapConfig(text_config=text.to_dict(), audio_config=audio.to_dict(), projection_dim=16)
    model = ClapModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    fe = ClapFeatureExtractor(
        feature_size=16, sampling_rate=48000, truncation="rand_trunc", padding="repeatpad"
    )
    # Laid out like the hub repo: preprocessor_config.json + the tokenizer's own files.
    fe.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    for p in tok_dir.iterdir():
        p.unlink()
    tok_dir.rmdir()
    return folder
