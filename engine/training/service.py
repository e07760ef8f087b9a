"""Training a voice's RVC model on the engine: the whole job, in pieces on the executor.

Order of work: refusals first (CPU not allowed, pretrained weights missing or wrong, too
little speech), then the training set (``work_dir/set``, reused when its inputs match;
prepared on a thread, every model call a job of its own: see
:mod:`engine.training.worker_models`),
training in pieces of about a second on a GPU (two on the CPU) at the lowest priority,
so speech and covers always get the device between them, with a checkpoint every few
epochs (``work_dir/checkpoints``; a restarted job resumes from it), the index, and the
export. Both results are finished in ``work_dir`` and then moved into ``output_dir``,
so nothing half-written ever appears there. Cancelling the awaiting task stops the job
at the next piece; the last checkpoint stays valid.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from engine.config import EngineConfig
from engine.convert.features import ContentFeatures
from engine.convert.params import PitchMethod
from engine.convert.pitch.base import PitchExtractor
from engine.convert.runtime import ConversionModels
from engine.executor import CancelToken, GpuExecutor, Priority
from engine.files import atomic_copy
from engine.training.checkpoints import checkpoint_set, save_checkpoint
from engine.training.errors import CpuTrainingNotAllowedError, NotEnoughAudioError
from engine.training.export import export_payload, write_payload
from engine.training.index_build import build_index
from engine.training.params import TrainingParams
from engine.training.prepare import prepare_training_set
from engine.training.pretrained import load_pretrained
from engine.training.pretrained_files import pretrained_paths
from engine.training.progress import TrainedModel, TrainingProgress
from engine.training.run import TrainingRun
from engine.training.speech_amount import clean_speech_seconds
from engine.training.training_set import TrainingSet
from engine.training.worker_models import (
    WorkerCalls,
    WorkerContentFeatures,
    WorkerPitch,
    run_on_thread,
)

__all__ = ["TrainedModel", "TrainingProgress", "TrainingService"]

SET_FOLDER = "set"
CHECKPOINT_FOLDER = "checkpoints"
RESULT_FOLDER = "result"
PIECE_SECONDS_GPU = 1.0
PIECE_SECONDS_CPU = 2.0
# Shares of the whole job shown in progress (training takes nearly all the time).
PREPARING_SHARE = 0.05
TRAINING_END = 0.95
INDEXING_AT = 0.96
EXPORTING_AT = 0.98

ProgressCallback = Callable[[TrainingProgress], None]
_job_numbers = itertools.count(1)


def check_device(device: str, params: TrainingParams) -> None:
    if device == "cpu" and not params.allow_cpu:
        raise CpuTrainingNotAllowedError()


class TrainingService:
    """Training jobs on one engine's executor (the conversion models are shared with covers)."""

    def __init__(self, config: EngineConfig, executor: GpuExecutor, device: str) -> None:
        self.config = config
        self.executor = executor
        self.device = device
        # The same slot covers use: ContentVec and RMVPE load once for both.
        self._conversion = executor.slot(
            "rvc", lambda: ConversionModels(config, device), lambda loaded: loaded.release()
        )

    @property
    def piece_seconds(self) -> float:
        return PIECE_SECONDS_CPU if self.device == "cpu" else PIECE_SECONDS_GPU

    def check_available(self, params: TrainingParams) -> tuple[Path, Path]:
        """Raises at once when this job could not start; returns the pretrained files."""
        check_device(self.device, params)
        return pretrained_paths(self.config.models_dir)

    async def train(
        self,
        sources: Sequence[Path],
        work_dir: Path,
        output_dir: Path,
        params: TrainingParams,
        *,
        name: str = "model",
        progress: ProgressCallback | None = None,
    ) -> TrainedModel:
        generator_file, discriminator_file = self.check_available(params)
        pretrained = await asyncio.to_thread(load_pretrained, generator_file, discriminator_file)
        seconds = await asyncio.to_thread(clean_speech_seconds, list(sources))
        if seconds < params.min_speech_seconds:
            raise NotEnoughAudioError(seconds, params.min_speech_seconds)
        report = _Reporter(progress, params.epochs)
        report.stage("preparing", 0.0)
        training_set = await self._prepare(list(sources), Path(work_dir), report)
        checkpoints = Path(work_dir) / CHECKPOINT_FOLDER
        result = Path(work_dir) / RESULT_FOLDER
        slot = self.executor.slot(
            f"training #{next(_job_numbers)}",
            lambda: TrainingRun(training_set, pretrained, checkpoints, params, self.device),
            self._drop_run,
        )
        try:
            done = await self._train(slot.get, checkpoints, report)
            report.stage("indexing", INDEXING_AT)
            index = await asyncio.to_thread(build_index, training_set, result / "model.index")
            report.stage("exporting", EXPORTING_AT)
            payload = await self._run(
                lambda: export_payload(slot.get().generator, done.epoch), label="training: export"
            )
        finally:
            self.executor.submit(lambda _: slot.release(), priority=Priority.TRAINING)
        model = await asyncio.to_thread(write_payload, payload, result / "model.pth")
        final = await asyncio.to_thread(_publish, model, index, Path(output_dir), name)
        await asyncio.to_thread(shutil.rmtree, checkpoints, True)
        report.stage("exporting", 1.0)
        return TrainedModel(final[0], final[1], done.epoch, training_set.seconds)

    def _drop_run(self, run: TrainingRun) -> None:
        del run  # the slot forgets it; free the GPU memory it held
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()

    async def _run(self, work: Callable[[], Any], *, label: str) -> Any:
        def job(token: CancelToken) -> Any:
            token.raise_if_cancelled()
            return work()

        return await self.executor.run(job, priority=Priority.TRAINING, label=label)

    async def _prepare(self, sources: list[Path], work_dir: Path, report: _Reporter) -> TrainingSet:
        folder = work_dir / SET_FOLDER
        before = TrainingSet.load(folder)
        loop = asyncio.get_running_loop()

        def report_share(share: float) -> None:  # called on the preparing thread
            loop.call_soon_threadsafe(report.stage, "preparing", share * PREPARING_SHARE)

        def load_models() -> tuple[ContentFeatures, PitchExtractor]:
            models: ConversionModels = self._conversion.get()
            return models.content_features(), models.pitch_extractor(PitchMethod.RMVPE)

        content, pitch = await self._run(load_models, label="training: load models")
        calls = WorkerCalls(self.executor, "training: prepare")

        def prepare() -> TrainingSet:  # on a plain thread; model calls go to the worker
            return prepare_training_set(
                sources,
                folder,
                content=WorkerContentFeatures(content, calls),
                pitch=WorkerPitch(pitch, calls),
                should_stop=calls.check,
                progress=report_share,
            )

        training_set = await run_on_thread(calls, prepare)
        checkpoints = work_dir / CHECKPOINT_FOLDER
        trained_on = await asyncio.to_thread(checkpoint_set, checkpoints)
        if trained_on is None and before is not None:  # a checkpoint from before the marker
            trained_on = before.source_hash
        if trained_on != training_set.source_hash:
            # Other recordings than the checkpoints were trained on: start over.
            await asyncio.to_thread(shutil.rmtree, checkpoints, True)
        return training_set

    async def _train(
        self, get_run: Callable[[], TrainingRun], checkpoints: Path, report: _Reporter
    ) -> TrainingProgress:
        """Pieces until the last epoch; writes each due checkpoint off the worker thread."""
        seconds = self.piece_seconds

        def piece(token: CancelToken) -> tuple[TrainingProgress, dict[str, Any] | None]:
            token.raise_if_cancelled()
            run = get_run()
            progress = (
                run.progress() if run.finished else run.run_piece(seconds, token.raise_if_cancelled)
            )
            return progress, run.take_checkpoint()

        while True:
            progress, checkpoint = await self.executor.run(
                piece, priority=Priority.TRAINING, label="training"
            )
            if checkpoint is not None:
                await asyncio.to_thread(save_checkpoint, checkpoints, checkpoint)
            report.training(progress)
            if progress.epoch >= progress.epochs:
                return progress


def _publish(model: Path, index: Path, output_dir: Path, name: str) -> tuple[Path, Path]:
    """Move the finished files into ``output_dir`` (a copy when across file systems)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    targets = (output_dir / f"{name}.pth", output_dir / f"{name}.index")
    for source, target in zip((model, index), targets, strict=True):
        try:
            os.replace(source, target)
        except OSError:
            atomic_copy(source, target)
    return targets


class _Reporter:
    """Maps each stage's own progress onto the whole job's 0..1."""

    def __init__(self, callback: ProgressCallback | None, epochs: int) -> None:
        self.callback = callback
        self.last = TrainingProgress("preparing", 0, epochs, 0, None, None, None, 0.0)

    def _send(self, progress: TrainingProgress) -> None:
        self.last = progress
        if self.callback is not None:
            self.callback(progress)

    def stage(self, stage: str, fraction: float) -> None:
        self._send(dataclasses.replace(self.last, stage=stage, fraction=fraction))

    def training(self, progress: TrainingProgress) -> None:
        share = PREPARING_SHARE + progress.fraction * (TRAINING_END - PREPARING_SHARE)
        self._send(dataclasses.replace(progress, fraction=share))
