"""The engine's own configuration: plain values, so that the engine never imports the bot."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class TTSModel(StrEnum):
    """Which Chatterbox variant speaks."""

    ORIGINAL = "original"
    TURBO = "turbo"
    MULTILINGUAL = "multilingual"


class SeparationModel(StrEnum):
    """Which Demucs model separates songs into stems."""

    HTDEMUCS = "htdemucs"
    HTDEMUCS_FT = "htdemucs_ft"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything the engine needs to know about its environment."""

    data_dir: Path
    device: str = "auto"
    tts_model: TTSModel = TTSModel.ORIGINAL
    separation_model: SeparationModel = SeparationModel.HTDEMUCS
    models_dir: Path | None = None
    torch_threads: int = 0
    """Intra-op threads for CPU inference; 0 keeps torch's default."""
