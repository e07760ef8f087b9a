"""Where the shared conversion weights come from: PARROT_MODELS_DIR or the hub cache.

Lookups never touch the network, so a missing model fails at once with the command that
downloads it. Voice models (``.pth``/``.index``) are per voice and come from uploads.
"""

from __future__ import annotations

from pathlib import Path

from engine.config import EngineConfig
from engine.convert.errors import ConversionWeightsMissingError
from engine.models import ModelSpec, find_weights

DOWNLOAD_COMMAND = "parrot models download rvc"

CONTENT_ENCODER = ModelSpec(
    key="contentvec",
    repo_id="lengyue233/content-vec-best",
    required_files=("config.json", "pytorch_model.bin"),
    download_patterns=("config.json", "pytorch_model.bin"),
    description="ContentVec content encoder for RVC (HuBERT-base with final_proj, 95 M)",
)
RMVPE = ModelSpec(
    key="rmvpe",
    repo_id="lj1995/VoiceConversionWebUI",
    required_files=("rmvpe.pt",),
    download_patterns=("rmvpe.pt",),
    description="RMVPE pitch extractor for RVC",
)
RVC_SHARED_MODELS = (CONTENT_ENCODER, RMVPE)
"""What ``parrot models download rvc`` fetches (about 550 MB together)."""


def _locate(config: EngineConfig, spec: ModelSpec) -> Path:
    folder = find_weights(config, spec)
    if folder is None:
        where = (
            f" or copy its files into {config.models_dir / spec.key}" if config.models_dir else ""
        )
        raise ConversionWeightsMissingError(
            f"{spec.description} is not downloaded: run `{DOWNLOAD_COMMAND}` on a machine "
            f"with internet access{where}"
        )
    return folder


def content_encoder_folder(config: EngineConfig) -> Path:
    return _locate(config, CONTENT_ENCODER)


def rmvpe_path(config: EngineConfig) -> Path:
    return _locate(config, RMVPE) / "rmvpe.pt"
