"""``RayEngine``: the engine API with its model work on Ray Serve replicas.

Model-free work (decoding uploads, combining samples, validating singing models, counting
chunks) runs here as in the embedded engine, through an embedded :class:`Engine` that is
never started. Model work goes to a replica; files go by content (see
:mod:`engine.remote.registry`), and what comes back is written on this side.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path
from typing import Any

from engine.audio import Audio
from engine.config import COVER_CACHE_FOLDER, EngineConfig, SingingMethod, SpeechScheduling
from engine.convert.info import RvcModelInfo
from engine.convert.params import ConversionParams, PitchMethod
from engine.cover.params import CoverParams
from engine.cover.result import CoverResult, StageProgress
from engine.engine import MAX_WATERMARK_SECONDS, Engine, EngineStatus
from engine.enrolment import SampleLimits, enroll_samples
from engine.files import atomic_write_bytes
from engine.remote import app
from engine.remote.calls import call, stream
from engine.remote.errors import BlobMissingError
from engine.remote.inventory import REPORT_MAX_AGE_S
from engine.remote.jobs import cover_result, retried_once, trained_model
from engine.remote.messages import Blob, CoverRequest, VoiceBlobs
from engine.remote.placement import LOCAL, RayPlacement
from engine.remote.publish import Publisher
from engine.remote.registry import registry
from engine.remote.training import resume_point
from engine.singing.singer import SingingParams
from engine.speech import SpeechChunk, join_speech, pieces_to_speak
from engine.training.params import TrainingParams
from engine.training.progress import TrainedModel, TrainingProgress
from engine.tts.params import SpeechParams
from engine.tts.profile import PreparedSample, VoiceProfile
from engine.tts.registry import RegisteredTTSModel
from engine.voices import combine_reference
from engine.watermark import WatermarkCheck

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Timeouts:
    first_chunk_s: float = 300.0
    """A replica loads its models on its first request: the first audio may take a while."""
    next_chunk_s: float = 120.0
    """A crashed replica is noticed at once; these bound a replica that hangs."""
    call_s: float = 300.0
    job_silence_s: float = 1800.0
    """The longest a cover or a training may go without a progress update."""


class RayEngine:
    """Voice work on a Ray cluster, behind the same API as :class:`Engine`."""

    CROSSFADE_MS = Engine.CROSSFADE_MS

    def __init__(
        self,
        config: EngineConfig,
        *,
        address: str = LOCAL,
        placement: RayPlacement | None = None,
        timeouts: Timeouts | None = None,
        runtime_env: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self._local = Engine(config)  # model-free work only: never started
        self.tts_model: RegisteredTTSModel = self._local.tts_model
        self.address = address
        self.placement = placement or RayPlacement()
        self.timeouts = timeouts or Timeouts()
        self._runtime_env = runtime_env
        self._handle: Any = None
        self._registry: Any = None
        self._started_ray = False
        self._connect_lock = asyncio.Lock()
        self._publisher: Publisher | None = None

    # connection -------------------------------------------------------------------------
    async def _deployment(self) -> Any:
        async with self._connect_lock:
            if self._handle is None:
                self._started_ray = (
                    await asyncio.to_thread(app.connect, self.address, self._runtime_env)
                    or self._started_ray
                )
                self._registry = registry()
                self._publisher = Publisher(self._registry)
                self._handle = await asyncio.to_thread(app.deploy, self.config, self.placement)
            return self._handle

    async def _publish(self, path: Path, suffix: str = "") -> Blob:
        await self._deployment()
        assert self._publisher is not None
        return await self._publisher.blob(path, suffix)

    # model-free, here -------------------------------------------------------------------
    @property
    def backend_name(self) -> str:
        return self._local.backend_name

    @property
    def batched_speech(self) -> bool:
        return self.config.speech_scheduling is SpeechScheduling.BATCHED

    def profile(self, folder: Path) -> VoiceProfile:
        return self._local.profile(folder)

    async def prepare_sample(
        self, source: Path, destination: Path, limits: SampleLimits
    ) -> PreparedSample:
        return await self._local.prepare_sample(source, destination, limits)

    def count_chunks(self, text: str) -> int:
        return self._local.count_chunks(text)

    async def describe_singing_model(self, model: Path, index: Path | None = None) -> RvcModelInfo:
        return await self._local.describe_singing_model(model, index)

    # enrolment --------------------------------------------------------------------------
    async def build_profile(
        self, folder: Path, samples: Sequence[PreparedSample], *, exaggeration: float = 0.5
    ) -> VoiceProfile:
        if not samples:
            raise ValueError("a voice needs at least one sample")
        reference, seconds = await asyncio.to_thread(combine_reference, folder, samples)
        handle = await self._deployment()
        data = await asyncio.to_thread(reference.read_bytes)
        conditionals: bytes = await call(
            handle.build_profile.remote(data, exaggeration),
            "enrolling a voice",
            self.timeouts.call_s,
        )
        profile = self.profile(folder)
        await asyncio.to_thread(atomic_write_bytes, profile.conditionals, conditionals)
        return VoiceProfile(folder, profile.backend, profile.conditionals, reference, seconds)

    async def enroll(
        self, folder: Path, sources: Sequence[Path], limits: SampleLimits
    ) -> tuple[VoiceProfile, list[PreparedSample]]:
        return await enroll_samples(self, folder, sources, limits)

    # speech -----------------------------------------------------------------------------
    async def speak(
        self, profile: VoiceProfile, text: str, params: SpeechParams | None = None
    ) -> AsyncGenerator[SpeechChunk, None]:
        """Chunks streamed from the replica holding the voice (or any, which then fetches
        it once). A replica lost mid-way ends the stream with :class:`WorkerLostError`."""
        pieces_to_speak(profile, text)
        handle = await self._deployment()
        for attempt in range(2):
            blob = await self._publish(profile.conditionals)
            response = handle.options(stream=True, multiplexed_model_id=blob.digest).speak.remote(
                text, params
            )
            chunks = stream(
                response,
                "speaking",
                first_timeout_s=self.timeouts.first_chunk_s,
                next_timeout_s=self.timeouts.next_chunk_s,
            )
            started = False
            try:
                async for chunk in chunks:
                    started = True
                    yield chunk
                return
            except BlobMissingError:
                if started or attempt or self._publisher is None:
                    raise
                self._publisher.forget()
            finally:
                await chunks.aclose()

    async def synthesize(
        self,
        profile: VoiceProfile,
        text: str,
        params: SpeechParams | None = None,
        on_chunk: Callable[[SpeechChunk, int], None] | None = None,
    ) -> Audio:
        return await join_speech(
            self.speak(profile, text, params), fade_ms=self.CROSSFADE_MS, on_chunk=on_chunk
        )

    async def check_model_available(self) -> None:
        handle = await self._deployment()
        await call(
            handle.check_model_available.remote(), "checking the model", self.timeouts.call_s
        )

    # watermark --------------------------------------------------------------------------
    async def detect_watermark(
        self,
        clip: Path,
        *,
        max_bytes: int,
        max_seconds: float = MAX_WATERMARK_SECONDS,
        decode_timeout: float = 60.0,
    ) -> WatermarkCheck:
        handle = await self._deployment()
        data = await asyncio.to_thread(clip.read_bytes)
        response = handle.detect_watermark.remote(
            data, clip.suffix, max_bytes, max_seconds, decode_timeout
        )
        result: WatermarkCheck = await call(response, "checking a watermark", self.timeouts.call_s)
        return result

    # covers -----------------------------------------------------------------------------
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
        """As :meth:`Engine.cover`; a cover whose replica dies is tried once more (on a
        replica that Serve has running, or has started in its place)."""
        handle = await self._deployment()
        assert self._publisher is not None

        async def attempt() -> CoverResult:
            request = await self._cover_request(
                song, profile, singing_model, method, params, conversion, singing
            )
            return await cover_result(
                handle.options(stream=True).cover.remote(request),
                self.timeouts.job_silence_s,
                output,
                self.config.data_dir / COVER_CACHE_FOLDER / "remote",
                progress,
            )

        return await retried_once(attempt, self._publisher, "this cover")

    async def _cover_request(
        self,
        song: Path,
        profile: VoiceProfile,
        singing_model: tuple[Path, Path | None] | None,
        method: SingingMethod,
        params: CoverParams | None,
        conversion: ConversionParams | None,
        singing: SingingParams | None,
    ) -> CoverRequest:
        voice = None
        if profile.exists:
            reference = None
            if profile.reference.is_file():
                reference = await self._publish(profile.reference, profile.reference.suffix)
            voice = VoiceBlobs(await self._publish(profile.conditionals), reference)
        model = None
        if singing_model is not None:
            pth, index = singing_model
            model = (
                await self._publish(pth, pth.suffix),
                await self._publish(index, index.suffix) if index is not None else None,
            )
        return CoverRequest(
            await self._publish(song, song.suffix),
            voice,
            model,
            method,
            params,
            conversion,
            singing,
        )

    async def check_cover_available(
        self,
        method: SingingMethod,
        *,
        has_singing_model: bool,
        pitch_method: PitchMethod | None = None,
    ) -> SingingMethod:
        handle = await self._deployment()
        response = handle.check_cover_available.remote(method, has_singing_model, pitch_method)
        chosen: SingingMethod = await call(response, "checking covers", self.timeouts.call_s)
        return chosen

    async def prune_cover_cache(self, max_bytes: int) -> int:
        """Prunes the cache of the replica the call reaches (each keeps its own)."""
        handle = await self._deployment()
        response = handle.prune_cover_cache.remote(max_bytes)
        removed: int = await call(response, "pruning its cache", self.timeouts.call_s)
        return removed

    # training ---------------------------------------------------------------------------
    async def check_training_available(self, params: TrainingParams) -> None:
        handle = await self._deployment()
        response = handle.check_training_available.remote(params)
        await call(response, "checking training", self.timeouts.call_s)

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
        """As :meth:`Engine.train`. The replica trains in its own folder and sends its
        checkpoints back into ``work_dir`` (:mod:`engine.remote.training`): a training whose
        replica is lost goes on once elsewhere, and one interrupted by a restart resumes,
        from the last checkpoint kept here."""
        handle = await self._deployment()
        assert self._publisher is not None

        async def attempt() -> TrainedModel:
            blobs = [await self._publish(source, source.suffix) for source in sources]
            resume = await resume_point(work_dir, self._publish)
            return await trained_model(
                handle.options(stream=True).train.remote(blobs, params, name, resume),
                self.timeouts.job_silence_s,
                work_dir,
                output_dir,
                progress,
            )

        return await retried_once(attempt, self._publisher, "this model")

    # state ------------------------------------------------------------------------------
    async def replica_reports(self) -> list[dict[str, Any]]:
        """What each live replica last said about itself (see ``VoiceWorker._report``)."""
        await self._deployment()
        reports: list[dict[str, Any]] = await self._registry.reports.remote(REPORT_MAX_AGE_S)
        return reports

    async def status(self) -> EngineStatus:
        reports = await self.replica_reports()
        devices = sorted({str(report["device"]) for report in reports})
        device = f"ray: {len(reports)} replica(s) on {', '.join(devices) or 'none yet'}"
        return EngineStatus(
            device,
            sorted({model for report in reports for model in report["loaded_models"]}),
            sum(int(report["queued_jobs"]) for report in reports),
            any(int(report["ongoing"]) for report in reports),
        )

    async def unload(self) -> list[str]:
        """Unloads the replica the call reaches (idle replicas unload on their own)."""
        handle = await self._deployment()
        released: list[str] = await call(
            handle.unload.remote(), "unloading its models", self.timeouts.call_s
        )
        return released

    async def shutdown(self) -> None:
        """Let go of the cluster; stop it only when this engine started it."""
        self._handle = None
        if self._started_ray:
            self._started_ray = False
            await asyncio.to_thread(app.stop_local)
