"""Runs training jobs (rows of kind ``training``): one at a time, on the engine, resumable.

The lifecycle is :mod:`bot.jobs.runner`'s; a job unfinished at shutdown is resumed by
:meth:`TrainingRunner.recover` at the next start (the engine continues from the run's last
checkpoint in its work folder). A finished model becomes the voice's singing model at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.errors import report_quietly
from bot.exts.covers.singing_models import attach_singing_model
from bot.jobs.queue import JobQueue
from bot.jobs.runner import JobReporter, JobRunner, JobWithdrawn, WorkState
from bot.settings import Settings
from bot.store import Store
from bot.store.audit import AuditAction, Who
from bot.store.jobs import Job
from bot.store.models import JobState, Voice, VoiceStatus
from bot.training.data import (
    output_dir,
    remove_run_folders,
    sweep_run_folders,
    training_sources,
    work_dir,
)
from bot.voices.files import VoiceLibrary
from engine.api import RvcModelInfo, TrainingParams, VoiceEngine

log = logging.getLogger(__name__)

KIND = "training"
"""The ``kind`` of a training's job row."""
VOICE_DELETED = "Its voice was deleted, so this training was stopped."
GONE_AFTER_RESTART = "The voice of this training was deleted or retired while Parrot restarted."


@dataclass(frozen=True, slots=True)
class TrainingUpdate:
    """Where a job stands, as people see it."""

    position: int | None
    """0 while running, 1.. while waiting for its turn."""
    stage: str | None
    """The engine's stage (``"preparing"``, ``"training"``…); None while waiting."""
    epoch: int = 0
    epochs: int = 0
    loss: float | None = None
    seconds_left: float | None = None
    fraction: float = 0.0

    def detail(self) -> dict[str, Any]:
        """What the job row keeps of it (for ``parrot voices training-status``)."""
        return {
            "epoch": self.epoch,
            "epochs": self.epochs,
            "loss": self.loss,
            "seconds_left": self.seconds_left,
        }


@dataclass(frozen=True, slots=True)
class TrainingOutcome:
    voice: Voice
    """The voice as it is now, singing with the new model."""
    epochs: int
    seconds_of_audio: float
    model: RvcModelInfo


@dataclass(slots=True)
class _State(WorkState):
    latest: Any = None
    """The engine's last ``TrainingProgress``."""

    def on_progress(self, progress: Any) -> None:
        self.latest = progress

    def update(self, position: int | None, epochs: int) -> TrainingUpdate:
        if not self.started:
            return TrainingUpdate(position, None, epochs=epochs)
        latest = self.latest
        if latest is None:
            return TrainingUpdate(0, "preparing", epochs=epochs)
        return TrainingUpdate(
            0,
            latest.stage,
            epoch=latest.epoch,
            epochs=latest.epochs,
            loss=None if latest.loss is None else round(latest.loss, 3),
            seconds_left=None if latest.seconds_left is None else round(latest.seconds_left),
            fraction=round(latest.fraction, 3),
        )


class TrainingReporter(JobReporter[TrainingUpdate, TrainingOutcome], Protocol):
    """Tells people about a training (Discord, the CLI's progress bar)."""


ReporterFactory = Callable[[Job], TrainingReporter]


def requester(job: Job) -> Who:
    return Who.member(job.user_id) if job.user_id is not None else Who.cli()


class TrainingRunner(JobRunner[_State, TrainingUpdate, TrainingOutcome]):
    """One training at a time, ``PARROT_MAX_TRAINING_JOBS`` waiting."""

    kind = KIND
    voice_deleted = VOICE_DELETED

    def __init__(
        self,
        store: Store,
        library: VoiceLibrary,
        engine: VoiceEngine,
        settings: Settings,
        *,
        progress_interval: float = 3.0,
    ) -> None:
        super().__init__(
            store,
            library,
            engine,
            settings,
            queue=JobQueue(concurrent=1, max_waiting=settings.max_training_jobs, noun="trainings"),
            progress_interval=progress_interval,
        )

    def params_for(
        self, epochs: int, *, batch_size: int | None = None, allow_cpu: bool = False
    ) -> TrainingParams:
        """A run's parameters from the settings; the CLI may allow the CPU for its run."""
        return TrainingParams(
            epochs=epochs,
            batch_size=self.settings.training_batch_size if batch_size is None else batch_size,
            allow_cpu=self.settings.allow_cpu_training or allow_cpu,
            min_speech_seconds=self.settings.min_training_seconds,
        )

    def params(self, job: Job) -> TrainingParams:
        return self.params_for(
            int(job.params["epochs"]),
            batch_size=job.params.get("batch_size"),
            allow_cpu=bool(job.params.get("allow_cpu")),
        )

    # after a restart ------------------------------------------------------------------------
    async def recover(self, reporter_for: ReporterFactory) -> tuple[int, int]:
        """Resume each unfinished Discord training whose voice is still ready (from its
        checkpoint); fail the others with a reason. Trainings started from the CLI (no
        channel) are left to ``parrot voices train``, which resumes them. Then remove run
        folders no unfinished job needs. Returns (resumed, failed)."""
        resumed = failed = 0
        for job in await self.store.jobs.unfinished(KIND):
            if self._closed:
                return resumed, failed
            if job.channel_id is None or job.id in self._tasks:
                continue
            reporter = reporter_for(job)
            voice = await self.store.voices.get(job.voice_id) if job.voice_id else None
            if voice is not None and voice.status is VoiceStatus.READY:
                self.submit(job, reporter)
                resumed += 1
                continue
            await self.store.jobs.finish(job.id, JobState.FAILED, error=GONE_AFTER_RESTART)
            await report_quietly(reporter.failed(job, GONE_AFTER_RESTART), "training")
            failed += 1
        keep = {job.id for job in await self.store.jobs.unfinished(KIND)}
        await asyncio.to_thread(sweep_run_folders, self.library, keep)
        return resumed, failed

    # one job --------------------------------------------------------------------------------
    def _new_state(self, job: Job) -> _State:
        return _State()

    def _update(self, job: Job, state: _State) -> TrainingUpdate:
        return state.update(self.queue.position(job.id), int(job.params["epochs"]))

    async def _work(self, job: Job, state: _State) -> TrainingOutcome:
        return await self._train(job, state)

    async def _train(self, job: Job, state: _State) -> TrainingOutcome:
        voice = await self.store.voices.get(job.voice_id) if job.voice_id else None
        if voice is None or voice.status is not VoiceStatus.READY:
            raise JobWithdrawn("The voice of this training was deleted before its turn came.")
        sources = await training_sources(self.store, self.library, voice)
        trained = await self.engine.train(
            sources.paths,
            work_dir(self.library, voice.id, job.id),
            output_dir(self.library, voice.id, job.id),
            self.params(job),
            name=voice.name,
            progress=state.on_progress,
        )
        self._decided(job.id)  # the model exists: a cancel now waits for it to be kept
        who = requester(job)
        info = await attach_singing_model(
            self.store,
            self.library,
            self.engine,
            voice,
            trained.model,
            trained.index,
            who=who,
            guild_id=job.guild_id,
        )
        current = await self.store.voices.get(voice.id)
        assert current is not None and current.rvc_model is not None
        async with self.store.unit_of_work() as work:
            await work.training.set_trained_model(
                voice.id,
                rvc_model=current.rvc_model,
                epochs=trained.epochs,
                seconds_of_audio=trained.seconds_of_audio,
                job_id=job.id,
            )
            await work.audit.record(
                AuditAction.TRAIN,
                who,
                voice=voice,
                guild_id=job.guild_id,
                detail={"epochs": trained.epochs, "seconds": round(trained.seconds_of_audio, 1)},
            )
        await self.store.jobs.finish(job.id, JobState.DONE)
        return TrainingOutcome(current, trained.epochs, trained.seconds_of_audio, info)

    async def _clean(self, job: Job) -> None:
        if job.voice_id is not None:
            await asyncio.to_thread(remove_run_folders, self.library, job.voice_id, job.id)
