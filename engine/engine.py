"""The engine facade that the bot, the CLI and the benchmarks share.

Nothing heavy happens at construction: torch is imported, the device resolved and
the models loaded on first use, all off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.audio import Audio, crossfade_join, prepare_voice_sample
from engine.config import COVER_CACHE_FOLDER, EngineConfig, SingingMethod
from engine.device import resolve_device
from engine.executor import CancelToken, GpuExecutor, Priority
from engine.text import split_for_speech
from engine.tts.backend import TTSBackend
from engine.tts.chatterbox import ChatterboxBackend
from engine.tts.errors import VoiceNotEnrolledError
from engine.tts.params import SpeechParams
from engine.tts.postprocess import trim_trailing_noise
from engine.tts.profile import PreparedSample, VoiceProfile
from engine.voices import combine_reference, store_prepared_sample

if TYPE_CHECKING:
    from engine.convert import ConversionParams, PitchMethod, RvcModelInfo
    from engine.cover import CoverParams, CoverResult, StageProgress
    from engine.covers import CoverWorkshop
    from engine.singing import SingingParams

BackendFactory = Callable[[EngineConfig, str], TTSBackend]


@dataclass(frozen=True, slots=True)
class SampleLimits:
    """Bounds on an uploaded clip, checked before and while decoding it."""

    max_bytes: int = 25 * 1024 * 1024
    min_seconds: float = 3.0
    max_seconds: float = 300.0
    decode_timeout: float = 60.0


@dataclass(frozen=True, slots=True)
class SpeechChunk:
    """One sentence (or clause group) of synthesized speech."""

    index: int
    text: str
    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


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

    CHUNK_MAX_CHARS = 300
    FIRST_CHUNK_MAX_CHARS = 160
    """A short first chunk makes the first words come sooner."""
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
        self._backend_factory = backend_factory or ChatterboxBackend
        self._max_queued = max_queued
        self._idle_unload_s = idle_unload_s
        self._device: str | None = None
        self._executor: GpuExecutor | None = None
        self._backend: TTSBackend | None = None
        self._start_lock = asyncio.Lock()
        self._conditionals: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._conditionals_cache_size = conditionals_cache_size
        self._workshop: CoverWorkshop | None = None

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
            return self._executor

    def _thread_setup(self) -> None:
        if self.config.torch_threads:
            import torch

            torch.set_num_threads(self.config.torch_threads)

    @property
    def backend_name(self) -> str:
        """The name voices' conditionals are filed under (no model load needed)."""
        if self._backend is not None:
            return self._backend.name
        return self._backend_factory(self.config, "cpu").name

    def profile(self, folder: Path) -> VoiceProfile:
        return VoiceProfile.at(folder, self.backend_name)

    # worker-side helpers (run on the executor thread) ----------------------------------------
    def _tts(self) -> TTSBackend:
        assert self._executor is not None and self._backend is not None
        backend = self._backend

        def load() -> TTSBackend:
            backend.load()
            return backend

        def unload(value: TTSBackend) -> None:
            self._conditionals.clear()
            value.unload()

        slot = self._executor.slot(backend.name, load, unload)
        loaded: TTSBackend = slot.get()
        return loaded

    def _load_conditionals(self, backend: TTSBackend, path: Path) -> Any:
        try:
            stamp = path.stat().st_mtime_ns
        except FileNotFoundError:
            raise VoiceNotEnrolledError(
                f"this voice has no conditionals for {backend.name} yet; enrol it again"
            ) from None
        key = (str(path), stamp)
        if key in self._conditionals:
            self._conditionals.move_to_end(key)
            return self._conditionals[key]
        value = backend.load_conditionals(path)
        self._conditionals[key] = value
        while len(self._conditionals) > self._conditionals_cache_size:
            self._conditionals.popitem(last=False)
        return value

    def _make_profile(
        self, folder: Path, reference: Path, seconds: float, exaggeration: float, token: CancelToken
    ) -> VoiceProfile:
        backend = self._tts()
        token.raise_if_cancelled()
        conditionals = backend.make_conditionals(reference, exaggeration)
        profile = VoiceProfile.at(folder, backend.name)
        backend.save_conditionals(conditionals, profile.conditionals)
        return VoiceProfile(folder, backend.name, profile.conditionals, reference, seconds)

    def _generate(
        self, profile: VoiceProfile, text: str, params: SpeechParams, token: CancelToken
    ) -> np.ndarray:
        backend = self._tts()
        conditionals = self._load_conditionals(backend, profile.conditionals)
        token.raise_if_cancelled()
        samples = backend.generate(conditionals, text, params, token)
        return trim_trailing_noise(samples, backend.sample_rate)

    # enrolment -----------------------------------------------------------------------------
    async def prepare_sample(
        self, source: Path, destination: Path, limits: SampleLimits
    ) -> PreparedSample:
        """Decode, check and normalise one uploaded clip into ``destination`` (a WAV)."""
        audio, report = await asyncio.to_thread(
            prepare_voice_sample,
            source,
            sample_rate=24_000,
            max_bytes=limits.max_bytes,
            min_seconds=limits.min_seconds,
            max_seconds=limits.max_seconds,
            timeout=limits.decode_timeout,
        )
        return await asyncio.to_thread(store_prepared_sample, audio, report, destination)

    async def build_profile(
        self, folder: Path, samples: Sequence[PreparedSample], *, exaggeration: float = 0.5
    ) -> VoiceProfile:
        """Combine a voice's samples into one reference and compute its conditionals."""
        if not samples:
            raise ValueError("a voice needs at least one sample")
        reference, seconds = await asyncio.to_thread(combine_reference, folder, samples)
        executor = await self._started()
        return await executor.run(
            functools.partial(self._make_profile, folder, reference, seconds, exaggeration),
            priority=Priority.ENROLMENT,
            label=f"enrol {folder.name}",
        )

    async def enroll(
        self, folder: Path, sources: Sequence[Path], limits: SampleLimits
    ) -> tuple[VoiceProfile, list[PreparedSample]]:
        """Prepare every sample into ``folder/samples`` and build the voice's profile."""
        prepared = []
        for index, source in enumerate(sources):
            destination = folder / "samples" / f"{index:03d}.wav"
            prepared.append(await self.prepare_sample(source, destination, limits))
        return await self.build_profile(folder, prepared), prepared

    # speech ----------------------------------------------------------------------------------
    async def speak(
        self, profile: VoiceProfile, text: str, params: SpeechParams | None = None
    ) -> AsyncIterator[SpeechChunk]:
        """Yield one chunk of audio per sentence group, generating ahead of the consumer.

        Each chunk is its own executor job, so other work can run between chunks; with a
        seed, chunk ``i`` uses ``seed + i`` so the whole text is reproducible.
        """
        params = params or SpeechParams()
        if not profile.exists:
            raise VoiceNotEnrolledError(
                f"voice at {profile.folder} is not enrolled for {profile.backend}"
            )
        pieces = split_for_speech(
            text, max_chars=self.CHUNK_MAX_CHARS, first_chunk_max_chars=self.FIRST_CHUNK_MAX_CHARS
        )
        if not pieces:
            raise ValueError("there is nothing to say in that text")
        executor = await self._started()
        assert self._backend is not None
        sample_rate = self._backend.sample_rate
        ready: asyncio.Queue[SpeechChunk | BaseException | None] = asyncio.Queue(maxsize=2)

        async def produce() -> None:
            try:
                for index, piece in enumerate(pieces):
                    seed = None if params.seed is None else params.seed + index
                    samples = await executor.run(
                        functools.partial(self._generate, profile, piece, params.with_seed(seed)),
                        priority=Priority.SPEECH,
                        label=f"speech chunk {index}",
                    )
                    await ready.put(SpeechChunk(index, piece, samples, sample_rate))
                await ready.put(None)
            except asyncio.CancelledError:
                raise
            except BaseException as error:
                await ready.put(error)

        producer = asyncio.create_task(produce())
        try:
            while True:
                item = await ready.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer

    async def synthesize(
        self,
        profile: VoiceProfile,
        text: str,
        params: SpeechParams | None = None,
        on_chunk: Callable[[SpeechChunk, int], None] | None = None,
    ) -> Audio:
        """The whole text as one clip, chunks joined with short crossfades."""
        chunks: list[SpeechChunk] = []
        async for chunk in self.speak(profile, text, params):
            chunks.append(chunk)
            if on_chunk is not None:
                on_chunk(chunk, len(chunks))
        rate = chunks[0].sample_rate
        joined = crossfade_join([c.samples for c in chunks], rate, fade_ms=self.CROSSFADE_MS)
        return Audio(joined, rate)

    def count_chunks(self, text: str) -> int:
        return len(
            split_for_speech(
                text,
                max_chars=self.CHUNK_MAX_CHARS,
                first_chunk_max_chars=self.FIRST_CHUNK_MAX_CHARS,
            )
        )

    async def check_model_available(self) -> None:
        """Fail fast (ModelNotDownloadedError) when speech could not load its model."""
        await self._started()
        assert self._backend is not None
        await asyncio.to_thread(self._backend.check_available)

    # covers ------------------------------------------------------------------------------------
    async def _covers(self) -> CoverWorkshop:
        """Cover machinery (imports torch and the cover stack on first use only)."""
        executor = await self._started()
        if self._workshop is None:
            from engine.covers import CoverWorkshop

            assert self._device is not None and self._backend is not None
            self._workshop = CoverWorkshop(
                self.config, executor, self._device, self._tts, self._backend.check_available
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
        from engine.covers import choose_method

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
        from engine.convert import PitchMethod
        from engine.covers import choose_method

        workshop = await self._covers()
        chosen = choose_method(method, has_singing_model)
        await asyncio.to_thread(workshop.check_available, chosen, pitch_method or PitchMethod.RMVPE)
        return chosen

    async def prune_cover_cache(self, max_bytes: int) -> int:
        """Drop the least recently used cover stages until the cache fits; returns how many."""
        from engine.separate.cache import prune_cache

        folder = self.config.data_dir / COVER_CACHE_FOLDER
        return len(await asyncio.to_thread(prune_cache, folder, max_bytes))

    async def describe_singing_model(self, model: Path, index: Path | None = None) -> RvcModelInfo:
        """Validate an RVC export (and its index); raises ``RvcCheckpointError`` or
        ``RvcIndexError`` with what is wrong. Nothing is loaded onto the device."""
        from engine.convert.describe import describe_voice_files

        return await asyncio.to_thread(describe_voice_files, model, index)

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
