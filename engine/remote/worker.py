"""The Ray Serve deployment: one embedded :class:`Engine` per replica, serving the engine API.

Every kind of voice work goes to the same replica class, as in one embedded engine: the
engine's executor keeps speech ahead of enrolment, covers and training on the replica's
device, and the models it needs load once per replica (speech, enrolment and zero-shot
covers all use the TTS model). Requests for a voice carry the hash of its conditionals as
their multiplexed model id, so Serve sends a voice to a replica that already holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import ray
from ray import serve

from engine.config import EngineConfig, SingingMethod
from engine.convert.params import PitchMethod
from engine.cover.result import CoverResult
from engine.engine import Engine, EngineStatus
from engine.remote.cache import BlobCache
from engine.remote.messages import (
    Blob,
    CoverDone,
    CoverProgress,
    CoverRequest,
    ResumePoint,
    TrainingDone,
    TrainingFilePiece,
    VoiceBlobs,
)
from engine.remote.registry import registry
from engine.remote.training import CheckpointWatch, checkpoints_in, result_pieces
from engine.speech import SpeechChunk
from engine.training.checkpoints import place_checkpoint
from engine.training.params import TrainingParams
from engine.training.progress import TrainedModel, TrainingProgress
from engine.tts.params import SpeechParams
from engine.tts.profile import PreparedSample, VoiceProfile
from engine.voices import load_prepared_sample
from engine.watermark import WatermarkCheck

REPORT_EVERY_S = 2.0
VOICES_PER_REPLICA = 32
"""Voices a replica keeps ready (Serve's multiplexing LRU); their files stay in the cache."""
BLOB_CACHE_BYTES = 8 * 1024**3


@dataclasses.dataclass
class HeldVoice:
    """A voice this replica holds (Serve's multiplexing calls ``__del__`` when it lets go)."""

    profile: VoiceProfile
    held: dict[str, HeldVoice]

    def __del__(self) -> None:
        self.held.pop(self.profile.conditionals.name, None)


@serve.deployment(name="voice")
class VoiceWorker:
    def __init__(self, config: EngineConfig, engine_options: dict[str, Any]) -> None:
        # Serve runs the constructor on the replica's event loop: tasks can start here.
        self._root = Path(tempfile.mkdtemp(prefix="parrot-replica-"))
        self.engine = Engine(
            dataclasses.replace(config, data_dir=self._root / "data"), **engine_options
        )
        self._registry = registry()
        self._blobs = BlobCache(self._root / "blobs", self._registry, BLOB_CACHE_BYTES)
        self._held: dict[str, HeldVoice] = {}
        self._ongoing = 0
        context = serve.get_replica_context()
        self._name = context.replica_id.unique_id
        self._reporter = asyncio.create_task(self._report_forever())

    # voices -----------------------------------------------------------------------------
    @serve.multiplexed(max_num_models_per_replica=VOICES_PER_REPLICA)  # type: ignore[untyped-decorator]  # Ray's decorator is untyped
    async def voice(self, conditionals: str) -> HeldVoice:
        path = await self._blobs.fetch(conditionals)
        held = HeldVoice(self._profile(path, None), self._held)
        self._held[path.name] = held
        return held

    def _profile(self, conditionals: Path, reference: Path | None) -> VoiceProfile:
        return VoiceProfile(
            conditionals.parent,
            self.engine.backend_name,
            conditionals,
            reference or conditionals.with_suffix(".no-reference"),
            0.0,
        )

    async def _voice_files(self, voice: VoiceBlobs) -> VoiceProfile:
        conditionals = await self._file(voice.conditionals)
        reference = await self._file(voice.reference) if voice.reference is not None else None
        return self._profile(conditionals, reference)

    async def _file(self, blob: Blob) -> Path:
        return await self._blobs.fetch(blob.digest, blob.suffix, blob.pieces)

    # speech -----------------------------------------------------------------------------
    async def speak(
        self, text: str, params: SpeechParams | None
    ) -> AsyncGenerator[SpeechChunk, None]:
        """The voice is the request's multiplexed model id (its conditionals' hash)."""
        with self._working():
            held = await self.voice(serve.get_multiplexed_model_id())
            stream = self.engine.speak(held.profile, text, params)
            async with contextlib.aclosing(stream) as chunks:
                async for chunk in chunks:
                    yield chunk

    async def check_model_available(self) -> None:
        await self.engine.check_model_available()

    # enrolment --------------------------------------------------------------------------
    async def build_profile(self, reference: bytes, exaggeration: float) -> bytes:
        """The conditionals file of a voice whose combined reference is ``reference`` (WAV)."""
        with self._working():
            folder = Path(tempfile.mkdtemp(dir=self._root, prefix="enrol-"))
            try:
                sample_path = folder / "samples" / "000.wav"
                sample_path.parent.mkdir(parents=True)
                await asyncio.to_thread(sample_path.write_bytes, reference)
                sample: PreparedSample = await asyncio.to_thread(load_prepared_sample, sample_path)
                profile = await self.engine.build_profile(
                    folder, [sample], exaggeration=exaggeration
                )
                return await asyncio.to_thread(profile.conditionals.read_bytes)
            finally:
                await asyncio.to_thread(shutil.rmtree, folder, True)

    # covers -----------------------------------------------------------------------------
    async def cover(self, request: CoverRequest) -> AsyncGenerator[CoverProgress | CoverDone, None]:
        """Progress as it comes, then the finished file's bytes."""
        with self._working():
            song = await self._file(request.song)
            profile = (
                await self._voice_files(request.voice)
                if request.voice is not None
                else self._profile(self._root / "no-voice", None)
            )
            singing_model = None
            if request.singing_model is not None:
                model, index = request.singing_model
                singing_model = (
                    await self._file(model),
                    await self._file(index) if index is not None else None,
                )
            updates: asyncio.Queue[CoverProgress] = asyncio.Queue()
            task = asyncio.create_task(
                self.engine.cover(
                    song,
                    profile,
                    singing_model=singing_model,
                    method=request.method,
                    params=request.params,
                    conversion=request.conversion,
                    singing=request.singing,
                    progress=lambda stage, fraction: updates.put_nowait(
                        CoverProgress(stage, fraction)
                    ),
                )
            )
            async for update in _progress_until_done(task, updates):
                yield update
            result: CoverResult = task.result()
            yield CoverDone(result, await asyncio.to_thread(result.path.read_bytes))

    async def check_cover_available(
        self, method: SingingMethod, has_singing_model: bool, pitch_method: PitchMethod | None
    ) -> SingingMethod:
        return await self.engine.check_cover_available(
            method, has_singing_model=has_singing_model, pitch_method=pitch_method
        )

    async def prune_cover_cache(self, max_bytes: int) -> int:
        return await self.engine.prune_cover_cache(max_bytes)

    # training ---------------------------------------------------------------------------
    async def check_training_available(self, params: TrainingParams) -> None:
        await self.engine.check_training_available(params)

    async def train(
        self,
        sources: list[Blob],
        params: TrainingParams,
        name: str,
        resume: ResumePoint | None = None,
    ) -> AsyncGenerator[TrainingProgress | TrainingFilePiece | TrainingDone, None]:
        """Progress as it comes with new checkpoints now and then (the run resumes from
        ``resume``), then the model's and the index's files, all in pieces, then done."""
        with self._working():
            files = [await self._file(source) for source in sources]
            folder = Path(tempfile.mkdtemp(dir=self._root, prefix="train-"))
            checkpoints = checkpoints_in(folder / "work")
            if resume is not None:
                kept = await self._file(resume.checkpoint)
                await asyncio.to_thread(place_checkpoint, checkpoints, kept, resume.source_hash)
            watch = await asyncio.to_thread(CheckpointWatch, checkpoints)
            updates: asyncio.Queue[TrainingProgress] = asyncio.Queue()
            task = asyncio.create_task(
                self.engine.train(
                    files,
                    folder / "work",
                    folder / "out",
                    params,
                    name=name,
                    progress=updates.put_nowait,
                )
            )
            try:
                async for update in _progress_until_done(task, updates):
                    yield update
                    async with contextlib.aclosing(watch.pieces_due()) as checkpoint:
                        async for piece in checkpoint:
                            yield piece
                result: TrainedModel = task.result()
                async with contextlib.aclosing(result_pieces(result)) as results:
                    async for piece in results:
                        yield piece
                yield TrainingDone(result)
            finally:
                await asyncio.to_thread(shutil.rmtree, folder, True)

    # watermark --------------------------------------------------------------------------
    async def detect_watermark(
        self, clip: bytes, suffix: str, max_bytes: int, max_seconds: float, decode_timeout: float
    ) -> WatermarkCheck:
        with self._working(), tempfile.TemporaryDirectory(dir=self._root) as folder:
            path = Path(folder) / f"clip{suffix}"
            await asyncio.to_thread(path.write_bytes, clip)
            return await self.engine.detect_watermark(
                path, max_bytes=max_bytes, max_seconds=max_seconds, decode_timeout=decode_timeout
            )

    # state ------------------------------------------------------------------------------
    async def status(self) -> EngineStatus:
        return await self.engine.status()

    async def unload(self) -> list[str]:
        return await self.engine.unload()

    @contextlib.contextmanager
    def _working(self) -> Any:
        self._ongoing += 1
        try:
            yield
        finally:
            self._ongoing -= 1

    async def _report_forever(self) -> None:
        starting: EngineStatus | None = EngineStatus("starting")  # at once: no torch yet
        while True:
            with contextlib.suppress(Exception):  # a report is best effort
                await self._registry.report.remote(self._name, await self._report(starting))
            starting = None
            await asyncio.sleep(REPORT_EVERY_S)

    async def _report(self, status: EngineStatus | None = None) -> dict[str, Any]:
        status = status or await self.engine.status()
        return {
            "replica": self._name,
            "actor": ray.get_runtime_context().get_actor_name(),
            "node": ray.get_runtime_context().get_node_id(),
            "pid": os.getpid(),
            "gpus": [str(gpu) for gpu in ray.get_gpu_ids()],
            "device": status.device,
            "loaded_models": list(status.loaded_models),
            "queued_jobs": status.queued_jobs,
            "ongoing": self._ongoing,
            "voices": sorted(self._held),
        }

    def __del__(self) -> None:
        """Serve's graceful stop (the process ends next: the engine goes with it)."""
        self._reporter.cancel()
        with contextlib.suppress(Exception):
            self._registry.forget.remote(self._name)
        shutil.rmtree(self._root, ignore_errors=True)


async def _progress_until_done(
    task: asyncio.Task[Any], updates: asyncio.Queue[Any]
) -> AsyncGenerator[Any, None]:
    """The updates ``task`` posts until it ends (it is cancelled if the stream is closed)."""
    try:
        while not task.done():
            waiter = asyncio.ensure_future(updates.get())
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if waiter.done():
                yield waiter.result()
            else:
                waiter.cancel()
        while not updates.empty():
            yield updates.get_nowait()
    finally:
        task.cancel()
