"""The engine surface the bot and the CLI use, whichever implementation serves it.

:class:`engine.engine.Engine` (models in this process) and ``engine.remote.RayEngine``
(models on Ray Serve replicas) both satisfy :class:`VoiceEngine`; code outside ``engine/``
types its engine with this protocol and never learns which one it holds.

Paths in this surface are on the caller's disk: a remote implementation reads and writes
them on the caller's side and ships their content, never the path.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from engine.audio import Audio
from engine.config import EngineConfig, SingingMethod
from engine.convert.info import RvcModelInfo
from engine.convert.params import ConversionParams, PitchMethod
from engine.cover.params import CoverParams
from engine.cover.result import CoverResult, StageProgress
from engine.engine import EngineStatus
from engine.enrolment import SampleLimits
from engine.singing.singer import SingingParams
from engine.speech import SpeechChunk
from engine.training.params import TrainingParams
from engine.training.progress import TrainedModel, TrainingProgress
from engine.tts.params import SpeechParams
from engine.tts.profile import PreparedSample, VoiceProfile
from engine.tts.registry import RegisteredTTSModel
from engine.watermark import WatermarkCheck

__all__ = ["EngineStatus", "VoiceEngine"]


@runtime_checkable
class VoiceEngine(Protocol):
    """Voice work behind a small async API (see :class:`engine.engine.Engine` for the
    meaning of each method)."""

    config: EngineConfig
    tts_model: RegisteredTTSModel

    @property
    def backend_name(self) -> str: ...

    @property
    def batched_speech(self) -> bool: ...

    def profile(self, folder: Path) -> VoiceProfile: ...

    # enrolment
    async def prepare_sample(
        self, source: Path, destination: Path, limits: SampleLimits
    ) -> PreparedSample: ...

    async def build_profile(
        self, folder: Path, samples: Sequence[PreparedSample], *, exaggeration: float = 0.5
    ) -> VoiceProfile: ...

    async def enroll(
        self, folder: Path, sources: Sequence[Path], limits: SampleLimits
    ) -> tuple[VoiceProfile, list[PreparedSample]]: ...

    # speech
    def speak(
        self, profile: VoiceProfile, text: str, params: SpeechParams | None = None
    ) -> AsyncGenerator[SpeechChunk, None]: ...

    async def synthesize(
        self,
        profile: VoiceProfile,
        text: str,
        params: SpeechParams | None = None,
        on_chunk: Callable[[SpeechChunk, int], None] | None = None,
    ) -> Audio: ...

    def count_chunks(self, text: str) -> int: ...

    async def check_model_available(self) -> None: ...

    # watermark
    async def detect_watermark(
        self,
        clip: Path,
        *,
        max_bytes: int,
        max_seconds: float = ...,
        decode_timeout: float = 60.0,
    ) -> WatermarkCheck: ...

    # covers
    async def cover(
        self,
        song: Path,
        profile: VoiceProfile,
        *,
        singing_model: tuple[Path, Path | None] | None = None,
        method: SingingMethod = SingingMethod.AUTO,
        params: CoverParams | None = None,
        conversion: ConversionParams | None = None,
        singing: SingingParams | None = None,
        output: Path | None = None,
        progress: StageProgress | None = None,
    ) -> CoverResult: ...

    async def check_cover_available(
        self,
        method: SingingMethod,
        *,
        has_singing_model: bool,
        pitch_method: PitchMethod | None = None,
    ) -> SingingMethod: ...

    async def prune_cover_cache(self, max_bytes: int) -> int: ...

    async def describe_singing_model(
        self, model: Path, index: Path | None = None
    ) -> RvcModelInfo: ...

    # training (RVC singing models)
    async def check_training_available(self, params: TrainingParams) -> None: ...

    async def train(
        self,
        sources: Sequence[Path],
        work_dir: Path,
        output_dir: Path,
        params: TrainingParams,
        *,
        name: str = "model",
        progress: Callable[[TrainingProgress], None] | None = None,
    ) -> TrainedModel: ...

    # state
    async def status(self) -> EngineStatus: ...

    async def unload(self) -> list[str]: ...

    async def shutdown(self) -> None: ...
