"""Where model weights come from: a local folder, or the Hugging Face hub cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.config import EngineConfig, TTSModel


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One downloadable model: where it lives on the hub and which files make it whole."""

    key: str
    """Folder name under ``PARROT_MODELS_DIR`` and the name the CLI uses."""
    repo_id: str
    required_files: tuple[str, ...]
    download_patterns: tuple[str, ...]
    description: str


TTS_MODELS: dict[TTSModel, ModelSpec] = {
    TTSModel.ORIGINAL: ModelSpec(
        key="chatterbox",
        repo_id="ResembleAI/chatterbox",
        required_files=(
            "ve.safetensors",
            "t3_cfg.safetensors",
            "s3gen.safetensors",
            "tokenizer.json",
        ),
        download_patterns=(
            "ve.safetensors",
            "t3_cfg.safetensors",
            "s3gen.safetensors",
            "tokenizer.json",
            "conds.pt",
        ),
        description="Chatterbox TTS (English, 0.5 B)",
    ),
    TTSModel.TURBO: ModelSpec(
        key="chatterbox-turbo",
        repo_id="ResembleAI/chatterbox-turbo",
        required_files=("ve.safetensors", "t3_turbo_v1.safetensors", "s3gen_meanflow.safetensors"),
        download_patterns=("*.safetensors", "*.json", "*.txt", "*.pt", "*.model"),
        description="Chatterbox Turbo (English, fast)",
    ),
    TTSModel.MULTILINGUAL: ModelSpec(
        key="chatterbox-multilingual",
        repo_id="ResembleAI/chatterbox",
        required_files=(
            "ve.pt",
            "t3_mtl23ls_v2.safetensors",
            "s3gen.pt",
            "grapheme_mtl_merged_expanded_v1.json",
        ),
        download_patterns=(
            "ve.pt",
            "t3_mtl23ls_v2.safetensors",
            "s3gen.pt",
            "grapheme_mtl_merged_expanded_v1.json",
            "conds.pt",
            "Cangjie5_TC.json",
        ),
        description="Chatterbox Multilingual (23 languages)",
    ),
}


def _complete(folder: Path, spec: ModelSpec) -> bool:
    return all((folder / name).is_file() for name in spec.required_files)


def local_folder(config: EngineConfig, spec: ModelSpec) -> Path | None:
    """``PARROT_MODELS_DIR/<key>`` when it holds every required file."""
    if config.models_dir is None:
        return None
    folder = config.models_dir / spec.key
    return folder if _complete(folder, spec) else None


def cached_folder(spec: ModelSpec) -> Path | None:
    """The hub cache's snapshot of the model when every required file is there (no network)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = Path(
            snapshot_download(
                spec.repo_id, allow_patterns=list(spec.download_patterns), local_files_only=True
            )
        )
    except (LocalEntryNotFoundError, FileNotFoundError, OSError):
        return None
    return folder if _complete(folder, spec) else None


def find_weights(config: EngineConfig, spec: ModelSpec) -> Path | None:
    """Where the weights are on this machine, or None when they must be downloaded."""
    return local_folder(config, spec) or cached_folder(spec)
