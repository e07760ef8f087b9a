"""Runs cover jobs on the engine, with the lifecycle of :mod:`bot.jobs.runner`: a job
unfinished at shutdown is resumed by :meth:`CoverRunner.recover` at the next start."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bot.errors import report_quietly
from bot.exts.covers.request import KIND, requested_conversion, requested_cover, requested_method
from bot.exts.covers.singing_models import singing_model_paths
from bot.jobs.queue import JobQueue
from bot.jobs.runner import JobReporter, JobRunner, JobWithdrawn, WorkState
from bot.settings import Settings
from bot.store import Store
from bot.store.jobs import Job
from bot.store.models import JobState
from bot.voices.files import VoiceLibrary
from bot.voices.rebuild import ready_profile
from bot.voices.standing import why_not_now, why_not_with
from engine.api import SingingMethod, SingingParams, VoiceEngine

log = logging.getLogger(__name__)

JOBS_FOLDER = "jobs"
"""Under the data directory: the songs of unfinished jobs (removed when a job ends)."""
STOPPED = "this cover was stopped"
VOICE_DELETED = f"Its voice was deleted, so {STOPPED}."


@dataclass(frozen=True, slots=True)
class CoverUpdate:
    """Where a job stands, as people see it."""

    stage: str | None
    """None while waiting for its turn."""
    fraction: float
    position: int | None
    """0 while running, 1.. while waiting."""

    def detail(self) -> None:
        return None


@dataclass(slots=True)
class _State(WorkState):
    stage: str | None = None
    fraction: float = 0.0

    def on_progress(self, stage: str, fraction: float) -> None:
        self.stage, self.fraction = stage, fraction


class CoverReporter(JobReporter[CoverUpdate, Any], Protocol):
    """``finished`` gets the engine's ``CoverResult``; the file is at ``result.path``."""


ReporterFactory = Callable[[Job], CoverReporter]


class CoverRunner(JobRunner[_State, CoverUpdate, Any]):
    """Makes covers, ``PARROT_CONCURRENT_COVERS`` at a time; the song of an unfinished job
    waits under the data directory's ``jobs`` folder."""

    kind = KIND
    voice_deleted = VOICE_DELETED

    def __init__(
        self,
        store: Store,
        library: VoiceLibrary,
        engine: VoiceEngine,
        settings: Settings,
        *,
        progress_interval: float = 2.0,
    ) -> None:
        super().__init__(
            store,
            library,
            engine,
            settings,
            queue=JobQueue(
                concurrent=settings.concurrent_covers,
                max_waiting=settings.max_cover_queue,
                noun="covers",
            ),
            progress_interval=progress_interval,
        )

    @property
    def jobs_dir(self) -> Path:
        return self.settings.data_dir / JOBS_FOLDER

    async def prune_cache(self) -> None:
        limit = int(self.settings.cover_cache_gb * 1024**3)
        removed = await self.engine.prune_cover_cache(limit)
        if removed:
            log.info("cover cache over %.1f GB: dropped %d stage(s)", limit / 1024**3, removed)

    # after a restart ------------------------------------------------------------------------
    async def recover(self, reporter_for: ReporterFactory) -> tuple[int, int]:
        """Resume each unfinished job whose song and voice are still there; fail the rest
        with a reason. Then delete songs that no unfinished job needs. Returns counts.

        Stops early once the runner is closed: the jobs left stay for the next start."""
        resumed = failed = 0
        for job in await self.store.jobs.unfinished(KIND):
            if self._closed:
                return resumed, failed
            reporter = reporter_for(job)
            problem = await self._why_not_resumable(job)
            if problem is None:
                self.submit(job, reporter)
                resumed += 1
                continue
            await self.store.jobs.finish(job.id, JobState.FAILED, error=problem)
            await self._remove_song(job)
            await report_quietly(reporter.failed(job, problem), "cover")
            failed += 1
        await asyncio.to_thread(self._sweep_songs, await self._needed_songs())
        await self.prune_cache()
        return resumed, failed

    async def _why_not_resumable(self, job: Job) -> str | None:
        name = job.params.get("song_name", "the song")
        if not job.input_path or not self.library.path(job.input_path).is_file():
            return f"Parrot restarted and the upload of {name} is gone; please send it again."
        return await self.still_allowed(job)

    async def still_allowed(self, job: Job) -> str | None:
        """Why the job may no longer sing with its voice (deleted, hidden where it was asked
        for, made private), or None."""
        return await why_not_now(self.store, job.voice_id, job.user_id, job.guild_id, STOPPED)

    async def _needed_songs(self) -> set[Path]:
        jobs = await self.store.jobs.unfinished(KIND)
        return {self.library.path(job.input_path) for job in jobs if job.input_path}

    def _sweep_songs(self, needed: set[Path]) -> None:
        if not self.jobs_dir.is_dir():
            return
        for path in self.jobs_dir.iterdir():
            if path.is_file() and path.resolve() not in needed:
                path.unlink(missing_ok=True)

    async def _remove_song(self, job: Job) -> None:
        if job.input_path:
            await asyncio.to_thread(self.library.path(job.input_path).unlink, True)

    # one job --------------------------------------------------------------------------------
    def _new_state(self, job: Job) -> _State:
        return _State()

    def _update(self, job: Job, state: _State) -> CoverUpdate:
        return CoverUpdate(
            state.stage if state.started else None,
            round(state.fraction, 2),
            self.queue.position(job.id),
        )

    async def _work(self, job: Job, state: _State) -> Any:
        return await self._make(job, state)

    async def _keep(self, job: Job, result: Any) -> None:
        await self._record(job, result)
        await self.prune_cache()

    async def _clean(self, job: Job) -> None:
        await self._remove_song(job)

    async def _make(self, job: Job, state: _State) -> Any:
        voice = await self.store.voices.get(job.voice_id) if job.voice_id else None
        problem = await why_not_with(self.store, voice, job.user_id, job.guild_id, STOPPED)
        if problem is not None or voice is None:
            raise JobWithdrawn(problem or VOICE_DELETED)
        assert job.input_path is not None
        singing_model = singing_model_paths(self.library, voice)
        conversion = requested_conversion(job.params)
        method = await self.engine.check_cover_available(
            requested_method(job.params),
            has_singing_model=singing_model is not None,
            pitch_method=conversion.pitch_method,
        )
        profile = (  # zero-shot sings with the voice's conditionals for the current model
            await ready_profile(self.store, self.library, self.engine, voice)
            if method is SingingMethod.ZERO_SHOT
            else self.engine.profile(self.library.folder(voice.id))
        )
        output = self.settings.covers_dir / f"{job.id}.ogg"
        await asyncio.to_thread(output.parent.mkdir, parents=True, exist_ok=True)
        return await self.engine.cover(
            self.library.path(job.input_path),
            profile,
            singing_model=singing_model,
            method=method,
            params=requested_cover(job.params),
            conversion=conversion,
            singing=SingingParams(decoder_steps=self.settings.singing_decoder_steps, seed=0),
            output=output,
            progress=state.on_progress,
        )

    async def _record(self, job: Job, result: Any) -> None:
        relative = self.library.relative(result.path)
        await self.store.jobs.finish(job.id, JobState.DONE, output_path=relative)
        await self.store.generations.record(
            kind=KIND,
            user_id=job.user_id,
            guild_id=job.guild_id,
            voice_id=job.voice_id,
            input_seconds=result.duration_s,
            audio_seconds=result.duration_s,
            elapsed_seconds=result.timings.get("total"),
            method=result.method,
            output_path=relative,
        )
