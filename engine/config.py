"""The engine's own configuration: plain values, so that the engine never imports the bot."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

COVER_CACHE_FOLDER = Path("cache") / "covers"
"""Under the data directory: song stems and every later cover stage, keyed by their inputs."""


class TTSModel(StrEnum):
    """Which Chatterbox variant speaks."""

    ORIGINAL = "original"
    TURBO = "turbo"
    MULTILINGUAL = "multilingual"


class SpeechScheduling(StrEnum):
    """How speech requests share the device."""

    BATCHED = "batched"
    """One decode step for every active request at once (continuous batching), audio
    streamed in pieces before a sentence ends; for backends that support it."""
    SERIAL = "serial"
    """One sentence after another through the backend's own generation (the old path)."""


class EngineKind(StrEnum):
    """Where model work runs."""

    EMBEDDED = "embedded"
    """In this process, on this machine's device (the default)."""
    RAY = "ray"
    """On Ray Serve deployments of a Ray cluster (the ``ray`` extra)."""


class SpeechDtype(StrEnum):
    FLOAT32 = "float32"
    BFLOAT16 = "bfloat16"


class SeparationModel(StrEnum):
    """Which Demucs model separates songs into stems."""

    HTDEMUCS = "htdemucs"
    HTDEMUCS_FT = "htdemucs_ft"


class SingingMethod(StrEnum):
    """How a cover's vocals are turned into the voice."""

    AUTO = "auto"
    """RVC when the voice has a singing model, zero-shot otherwise."""
    RVC = "rvc"
    ZERO_SHOT = "zero-shot"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Everything the engine needs to know about its environment."""

    data_dir: Path
    device: str = "auto"
    tts_model: TTSModel = TTSModel.ORIGINAL
    separation_model: SeparationModel = SeparationModel.HTDEMUCS
    models_dir: Path | None = None
    max_song_seconds: float = 480.0
    """Longer songs are refused before separation starts."""
    max_song_bytes: int = 100 * 1024 * 1024
    torch_threads: int = 0
    """Intra-op threads for CPU inference; 0 keeps torch's default."""
    speech_scheduling: SpeechScheduling = SpeechScheduling.BATCHED
    max_speech_batch: int = 0
    """Requests decoded together at most (more are told the engine is busy); 0 picks
    16 on CUDA and 8 on CPU. Each takes its own key/value cache."""
    speech_dtype: SpeechDtype = SpeechDtype.FLOAT32
    """The speech-token model's weights and cache; bfloat16 halves their memory."""
    speech_cuda_graphs: bool = False
    """Replay the decode step from CUDA graphs (CUDA only; falls back to eager when
    capture fails). Off by default until measured on a GPU."""
    first_audio_tokens: int = 25
    """Speech tokens (25 per second) decoded before a sentence's first audio is made."""
