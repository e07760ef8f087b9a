"""The engine facade that the bot, the CLI and the benchmarks share.

Nothing heavy happens at construction: torch is imported, the device resolved and
the models loaded on first use, all off the event loop. The TTS backend comes from the
model registry (``config.tts_model``); every model, the watermark detector included,
lives in a slot of the one executor.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.audio import Audio
from engine.config import COVER_CACHE_FOLDER, EngineConfig, SingingMethod, SpeechScheduling
from engine.convert.info import RvcModelInfo
from engine.convert.params import ConversionParams, PitchMethod
from engine.cover.method import choose_method
from engine.cover.params import CoverParams
from engine.cover.result import CoverResult, StageProgress
from engine.device import resolve_device
from engine.enrolment import SampleLimits, enroll_samples, prepare_sample
from engine.executor import GpuExecutor, Priority
from engine.separate.cache import prune_cache
from engine.singing.singer import SingingParams
from engine.speech import (
    SpeechChunk,
    SpeechWorker,
    join_speech,
    pieces_to_speak,
    speech_pieces,
)
from engine.speech.scheduler import SpeechScheduler
from engine.training.params import TrainingParams
from engine.training.progress import TrainedModel, TrainingProgress
from engine.tts.backend import BatchedSpeechBackend, TTSBackend, VoiceConversionBackend
from engine.tts.params import SpeechParams
from engine.tts.profile import PreparedSample, VoiceProfile
from engine.tts.registry import BackendFactory, Capability, RegisteredTTSModel, tts_model
from engine.voices import combine_reference
from engine.watermark import OutputMarker, WatermarkCheck

if TYPE_CHECKING:
    from engine.cover.workshop import CoverWorkshop
    from engine.training.service import TrainingService

__all__ = ["Engine", "EngineStatus", "SampleLimits", "SpeechChunk"]

MAX_WATERMARK_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class EngineStatus:
    device: str
    loaded_models: list[str] = field(default_factory=list)
    queued_jobs: int = 0
    busy: bool = False

    @property
    def state(self) -> str:
        if self.busy or self.queued_jobs:
            return f"working ({self.queued_jobs} queued)"
        return "ready" if self.loaded_models else "idle (models load on first use)"


class Engine:
    """Voice work behind a small async API."""

    CROSSFADE_MS = 20

    def __init__(
        self,
        config: EngineConfig,
        *,
        backend_factory: BackendFactory | None = None,
        max_queued: int = 32,
        idle_unload_s: float = 900.0,
        conditionals_cache_size: int = 16,
    ) -> None:
        self.config = config
        self.tts_model: RegisteredTTSModel = tts_model(config.tts_model)
        self._backend_factory = backend_factory or self.tts_model.factory
        self._max_queued = max_queued
        self._idle_unload_s = idle_unload_s
        self._conditionals_cache_size = conditionals_cache_size
        self._device: str | None = None
        self._executor: GpuExecutor | None = None
        self._backend: TTSBackend | None = None
        self._speech: SpeechWorker | None = None
        self._scheduler: SpeechScheduler | None = None
        self._start_lock = asyncio.Lock()
        self._workshop: CoverWorkshop | None = None
        self._training_service: TrainingService | None = None

    # start-up ---------------------------------------------------------------------------
    async def device(self) -> str:
        await self._started()
        assert self._device is not None
        return self._device

    async def _started(self) -> GpuExecutor:
        async with self._start_lock:
            if self._executor is None:
                self._device = await asyncio.to_thread(resolve_device, self.config.device)
                self._backend = self._backend_factory(self.config, self._device)
                self._executor = GpuExecutor(
                    self._device,
                    max_queued=self._max_queued,
                    idle_unload_s=self._idle_unload_s,
                    thread_setup=self._thread_setup,
                )
                self._speech = SpeechWorker(
                    self._executor,
                    self._backend,
                    conditionals_cache_size=self._conditionals_cache_size,
                )
                self._scheduler = self._batched_speech(self._speech, self._backend, self._device)
            return self._executor

    def _batched_speech(
        self, worker: SpeechWorker, backend: TTSBackend, device: str
    ) -> SpeechScheduler | None:
        """The continuous-batching scheduler, when configured and the backend supports it."""
        if self.config.speech_scheduling is not SpeechScheduling.BATCHED:
            return None
        if not isinstance(backend, BatchedSpeechBackend):
            return None
        max_batch = self.config.max_speech_batch or (16 if device.startswith("cuda") else 8)
        return SpeechScheduler(
            worker,
            backend,
            max_batch=max_batch,
            first_audio_tokens=self.config.first_audio_tokens,
        )

    async def _speech_worker(self) -> SpeechWorker:
        await self._started()
        assert self._speech is not None
        return self._speech

    def _thread_setup(self) -> None:
        if self.config.torch_threads:
            import torch  # deferred: torch costs seconds to import

            torch.set_num_threads(self.config.torch_threads)

    @property
    def backend_name(self) -> str:
        """The name voices' conditionals are filed under (no model load needed)."""
        if self._backend is not None:
            return self._backend.name
        return self._backend_factory(self.config, "cpu").name

    def profile(self, folder: Path) -> VoiceProfile:
        return VoiceProfile.at(folder, self.backend_name)

    # enrolment -----------------------------------------------------------------------------
    async def prepare_sample(
        self, source: Path, destination: Path, limits: SampleLimits
    ) -> PreparedSample:
        """Decode, check and normalise one uploaded clip into ``destination`` (a WAV)."""
        return await asyncio.to_thread(prepare_sample, source, destination, limits)

    async def build_profile(
        self, folder: Path, samples: Sequence[PreparedSample], *, exaggeration: float = 0.5
    ) -> VoiceProfile:
        """Combine a voice's samples into one reference and compute its conditionals."""
        if not samples:
            raise ValueError("a voice needs at least one sample")
        reference, seconds = await asyncio.to_thread(combine_reference, folder, samples)
        speech = await self._speech_worker()
        return await speech.executor.run(
            functools.partial(speech.make_profile_job, folder, reference, seconds, exaggeration),
            priority=Priority.ENROLMENT,
            label=f"enrol {folder.name}",
        )

    async def enroll(
        self, folder: Path, sources: Sequence[Path], limits: SampleLimits
    ) -> tuple[VoiceProfile, list[PreparedSample]]:
        """Prepare every sample into ``folder/samples`` and build the voice's profile."""
        return await enroll_samples(self, folder, sources, limits)

    # speech ----------------------------------------------------------------------------------
    async def speak(
        self, profile: VoiceProfile, text: str, params: SpeechParams | None = None
    ) -> AsyncGenerator[SpeechChunk, None]:
        """Yield one chunk of audio per sentence group, generating ahead of the consumer."""
        params = params or SpeechParams()
        pieces = pieces_to_speak(profile, text)
        speech = await self._speech_worker()
        scheduler = self._scheduler
        stream = (
            scheduler.speak(profile, pieces, params)
            if scheduler is not None
            else speech.speak(profile, pieces, params)
        )
        # Closing this generator (a skip) must close the inner one now, so that its text
        # leaves the decoder (or its producer stops queueing chunks nobody will hear);
        # leaving that to the garbage collector let a skipped text keep the executor busy.
        async with contextlib.aclosing(stream) as chunks:
            async for chunk in chunks:
                yield chunk

    @property
    def batched_speech(self) -> bool:
        """Whether speech goes through the continuous-batching scheduler (once started)."""
        return self._scheduler is not None

    async def synthesize(
        self,
        profile: VoiceProfile,
        text: str,
        params: SpeechParams | None = None,
        on_chunk: Callable[[SpeechChunk, int], None] | None = None,
    ) -> Audio:
        """The whole text as one clip, text pieces joined with short crossfades.

        ``on_chunk(chunk, pieces_done)`` is called as each text piece's audio completes.
        """
        return await join_speech(
            self.speak(profile, text, params), fade_ms=self.CROSSFADE_MS, on_chunk=on_chunk
        )

    def count_chunks(self, text: str) -> int:
        return len(speech_pieces(text))

    async def check_model_available(self) -> None:
        """Fail fast (ModelNotDownloadedError) when speech could not load its model."""
        await self._started()
        assert self._backend is not None
        await asyncio.to_thread(self._backend.check_available)

    # watermark ---------------------------------------------------------------------------------
    async def detect_watermark(
        self,
        clip: Path,
        *,
        max_bytes: int,
        max_seconds: float = MAX_WATERMARK_SECONDS,
        decode_timeout: float = 60.0,
    ) -> WatermarkCheck:
        """Whether ``clip`` (any audio file) carries the Perth mark every output gets.

        The detector lives in an executor model slot: loaded on first use, unloaded
        when idle. Raises ``AudioRejectedError`` for a clip that cannot be read.
        """
        executor = await self._started()
        marker = OutputMarker(executor, priority=Priority.ENROLMENT)
        confidence = await marker.file_confidence(
            clip, max_bytes=max_bytes, max_seconds=max_seconds, decode_timeout=decode_timeout
        )
        return WatermarkCheck(confidence)

    # covers ------------------------------------------------------------------------------------
    def _voice_converter(self) -> Any:
        """The loaded TTS model's voice converter (worker thread), for zero-shot singing."""
        assert self._speech is not None
        backend = self._speech.loaded_backend()
        if not self.tts_model.offers(Capability.VOICE_CONVERSION) or not isinstance(
            backend, VoiceConversionBackend
        ):
            raise RuntimeError(f"the {backend.name} model cannot convert voices")
        return backend.voice_converter()

    async def _covers(self) -> CoverWorkshop:
        """Cover machinery (imports torch and the cover stack on first use only)."""
        executor = await self._started()
        if self._workshop is None:
            from engine.cover.workshop import CoverWorkshop  # deferred: imports torch

            assert self._device is not None and self._backend is not None
            self._workshop = CoverWorkshop(
                self.config,
                executor,
                self._device,
                self._voice_converter,
                self._backend.check_available,
            )
        return self._workshop

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
    ) -> CoverResult:
        """``song`` sung by the voice: by its RVC model (``singing_model``: ``.pth`` and
        optional ``.index``) or zero-shot from its conditionals; see :class:`SingingMethod`.

        Cancel by cancelling the awaiting task; the running piece stops at its next check.
        """
        workshop = await self._covers()
        chosen = choose_method(method, singing_model is not None)
        converter = await workshop.converter(
            chosen, profile, singing_model, conversion=conversion, singing=singing
        )
        return await workshop.pipeline.cover(
            song, converter, params, output=output, progress=progress
        )

    async def check_cover_available(
        self,
        method: SingingMethod,
        *,
        has_singing_model: bool,
        pitch_method: PitchMethod | None = None,
    ) -> SingingMethod:
        """The method a cover would use; raises at once when its weights are missing."""
        workshop = await self._covers()
        chosen = choose_method(method, has_singing_model)
        await asyncio.to_thread(workshop.check_available, chosen, pitch_method or PitchMethod.RMVPE)
        return chosen

    async def prune_cover_cache(self, max_bytes: int) -> int:
        """Drop the least recently used cover stages until the cache fits; returns how many."""
        folder = self.config.data_dir / COVER_CACHE_FOLDER
        return len(await asyncio.to_thread(prune_cache, folder, max_bytes))

    async def describe_singing_model(self, model: Path, index: Path | None = None) -> RvcModelInfo:
        """Validate an RVC export (and its index); raises ``RvcCheckpointError`` or
        ``RvcIndexError`` with what is wrong. Nothing is loaded onto the device."""
        from engine.convert.describe import describe_voice_files  # deferred: imports torch

        return await asyncio.to_thread(describe_voice_files, model, index)

    # training ----------------------------------------------------------------------------------
    async def _training(self) -> TrainingService:
        executor = await self._started()
        if self._training_service is None:
            from engine.training.service import TrainingService  # deferred: imports torch

            assert self._device is not None
            self._training_service = TrainingService(self.config, executor, self._device)
        return self._training_service

    async def check_training_available(self, params: TrainingParams) -> None:
        """Fail fast: CpuTrainingNotAllowedError, PretrainedWeightsMissingError."""
        await asyncio.to_thread((await self._training()).check_available, params)

    async def train(
        self,
        sources: Sequence[Path],
        work_dir: Path,
        output_dir: Path,
        params: TrainingParams,
        *,
        name: str = "model",
        progress: Callable[[TrainingProgress], None] | None = None,
    ) -> TrainedModel:
        """An RVC v2 40k model of ``sources`` (see :mod:`engine.training.service`)."""
        work = (await self._training()).train
        return await work(sources, work_dir, output_dir, params, name=name, progress=progress)

    # state -------------------------------------------------------------------------------------
    async def status(self) -> EngineStatus:
        executor = await self._started()
        assert self._device is not None
        return EngineStatus(self._device, executor.loaded_models, executor.queued, executor.busy)

    async def unload(self) -> list[str]:
        if self._executor is None:
            return []
        return await self._executor.unload_models()

    async def shutdown(self) -> None:
        """Cancel queued work, release models, stop the worker. Safe to call twice."""
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.to_thread(executor.shutdown)
