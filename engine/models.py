"""Where model weights come from: a local folder, or the Hugging Face hub cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.config import EngineConfig


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One downloadable model: where it lives on the hub and which files make it whole."""

    key: str
    """Folder name under ``PARROT_MODELS_DIR`` and the name the CLI uses."""
    repo_id: str
    required_files: tuple[str, ...]
    download_patterns: tuple[str, ...]
    description: str


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
